"""Departments' callback endpoints that hang or fail: decisions go on at full speed, deliveries retry and are logged.

tests/admission/test_delivery.py covers a closed port (the decision is not blocked, the attempt is
logged, the next waits the first backoff step) and a 500 given up after the retry window (a worker of
the test's own). What this adds: an endpoint that accepts the connection and never answers, and one
that answers 500, both through the app's own delivery worker; decision times compared with those made
with no callback at all; several attempts logged per delivery and shown by the deliveries endpoint;
and one department's hanging endpoint not holding up another department's notifications.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from service.notifications.delivery import Backoff
from tests.admission.conftest import into_review, submit
from tests.helpers.callbacks import Receiver, register
from tests.resilience.conftest import eventually

BASE = "/api/v1/admission-requests"
HANG_TIMEOUT_S = 4.0  # the worker's limit on one callback, shortened from 10 s for the test


class Hanging:
    """A local HTTP endpoint that reads a request and never answers (until it is closed)."""

    def __init__(self) -> None:
        self.requests = 0
        self.server: asyncio.Server | None = None
        self._held: list[asyncio.StreamWriter] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        self._held.append(writer)

    async def __aenter__(self) -> Hanging:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        for writer in self._held:
            writer.close()
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"


async def timed_decision(client: Any, reviewer: dict[str, str], request_id: int) -> float:
    started = time.perf_counter()
    r = await client.post(f"{BASE}/{request_id}/decision", headers=reviewer,
                          json={"outcome": "rejected", "reason": "不属于社区职责"})
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    return elapsed


async def test_hanging_and_failing_callbacks_neither_slow_decisions_nor_go_unlogged(client, as_client):
    worker = client.app.state.delivery_worker
    worker.timeout_s = HANG_TIMEOUT_S
    worker.backoff = Backoff(first_s=0.2, max_s=0.2)  # production: 30 s doubling; here a retry is seen at once
    civil, housing, reviewer = as_client("civil-affairs"), as_client("housing-bureau"), \
        as_client("county-reviewer-api")
    ids: dict[str, list[int]] = {"none": [], "hang": [], "fail": []}
    for kind, department in (("none", civil), ("hang", civil), ("fail", housing)):
        for _ in range(3):
            ids[kind].append((await submit(client, department))["id"])
    for request_id in [i for group in ids.values() for i in group]:
        await into_review(client, reviewer, request_id)

    async with Hanging() as hanging, Receiver(status=500) as failing:
        baseline = [await timed_decision(client, reviewer, i) for i in ids["none"]]
        await register(client, civil, hanging.url)
        await register(client, housing, failing.url)
        with_callbacks = []
        for hang_id, fail_id in zip(ids["hang"], ids["fail"], strict=True):
            with_callbacks.append(await timed_decision(client, reviewer, hang_id))
            with_callbacks.append(await timed_decision(client, reviewer, fail_id))
        decided_at = time.monotonic()

        # the decisions did not wait for the callbacks (a blocked one would take the worker's whole timeout)
        assert max(with_callbacks) < statistics.median(baseline) + 1.0, (baseline, with_callbacks)
        assert max(with_callbacks) < HANG_TIMEOUT_S

        # the failing department's notifications are tried while the hanging ones are still waiting for an
        # answer, and retried: every attempt logged, shown by the deliveries endpoint
        async def retried_and_logged() -> bool:
            for request_id in ids["fail"]:
                log = (await client.get(f"{BASE}/{request_id}/deliveries", headers=housing)).json()
                if not log or len(log[0]["log"]) < 2:
                    return False
            return True

        await eventually(retried_and_logged, within=HANG_TIMEOUT_S - 0.5, every=0.1)
        assert time.monotonic() - decided_at < HANG_TIMEOUT_S
        assert hanging.requests >= 1  # the hanging endpoint really was being called meanwhile
        log = (await client.get(f"{BASE}/{ids['fail'][0]}/deliveries", headers=housing)).json()[0]
        assert log["delivered_at"] is None
        assert log["last_error"] == "HTTP 500"
        assert all(a["status_code"] == 500 and a["error"] == "HTTP 500" for a in log["log"])
        assert len(failing.received) >= 6

        # the hanging endpoint's attempts end at the worker's timeout, are logged as such, and are retried
        async def timed_out_and_retried() -> bool:
            log = (await client.get(f"{BASE}/{ids['hang'][0]}/deliveries", headers=civil)).json()
            return bool(log) and len(log[0]["log"]) >= 2

        await eventually(timed_out_and_retried, within=3 * HANG_TIMEOUT_S, every=0.2)
        log = (await client.get(f"{BASE}/{ids['hang'][0]}/deliveries", headers=civil)).json()[0]
        assert log["delivered_at"] is None
        assert all(a["status_code"] is None and a["error"] == "等待回调应答超时" for a in log["log"])
        assert all(a["duration_ms"] >= HANG_TIMEOUT_S * 1000 * 0.9 for a in log["log"])
