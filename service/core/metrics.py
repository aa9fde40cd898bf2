"""The request metrics of /metrics, recorded in microseconds: plain counters per (method, route, status)
kept in a dict, turned into Prometheus families only when /metrics is read.

The same series Litestar's PrometheusMiddleware wrote (`<prefix>_requests_total`,
`<prefix>_request_duration_seconds`, `<prefix>_requests_in_progress`, `<prefix>_requests_error_total`, labels
`method`, `path` (the route's template), `status_code`, `app_name`), without its cost: it built a Request,
two label dicts and four `labels()` lookups per request (about 25 µs of the request path; bench/middleware.py).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

PREFIX = "matter_registry"
APP_NAME = "matter_registry"
# prometheus_client's default buckets (as before), in seconds
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, float("inf"))
LABELS = ["method", "path", "status_code", "app_name"]


class RequestMetrics(Collector):  # type: ignore[misc]
    def __init__(self, prefix: str = PREFIX, app_name: str = APP_NAME) -> None:
        self.prefix = prefix
        self.app_name = app_name
        # (method, path, status) -> [count, sum of seconds, count per bucket...]
        self.cells: dict[tuple[str, str, int], list[Any]] = {}
        self.in_progress: dict[tuple[str, str], int] = {}

    def started(self, method: str, path: str) -> None:
        key = (method, path)
        self.in_progress[key] = self.in_progress.get(key, 0) + 1

    def ended(self, method: str, path: str, status: int, seconds: float) -> None:
        key = (method, path)
        self.in_progress[key] = self.in_progress.get(key, 1) - 1
        cell = self.cells.get((method, path, status))
        if cell is None:
            cell = self.cells[(method, path, status)] = [0, 0.0] + [0] * len(BUCKETS)
        cell[0] += 1
        cell[1] += seconds
        cell[2 + bisect_left(BUCKETS, seconds)] += 1

    def collect(self) -> Iterator[Any]:
        total = CounterMetricFamily(f"{self.prefix}_requests", "Total requests", labels=LABELS)
        errors = CounterMetricFamily(f"{self.prefix}_requests_error", "Total errors in requests", labels=LABELS)
        duration = HistogramMetricFamily(f"{self.prefix}_request_duration_seconds", "Request duration, in seconds",
                                         labels=LABELS)
        for (method, path, status), cell in list(self.cells.items()):
            labels = [method, path, str(status), self.app_name]
            total.add_metric(labels, cell[0])
            if status >= 500:
                errors.add_metric(labels, cell[0])
            running, buckets = 0, []
            for bound, n in zip(BUCKETS, cell[2:], strict=True):
                running += n
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
            duration.add_metric(labels, buckets, cell[1])
        progress = GaugeMetricFamily(f"{self.prefix}_requests_in_progress", "Total requests currently in progress",
                                     labels=LABELS)
        for (method, path), n in list(self.in_progress.items()):
            progress.add_metric([method, path, "200", self.app_name], n)
        yield from (total, duration, progress, errors)


# one per process, as prometheus_client's default registry is
METRICS = RequestMetrics()
REGISTRY.register(METRICS)
