"""Soak: the mixed load at half capacity for ten minutes; no errors, and worker memory must not grow.

    .venv/bin/python -m bench.soak [--minutes 10] [--workers 2] [--calibrate 20] [--fraction 0.5]

1. Starts a PostgreSQL of its own (embedded, in a temporary directory; or a database `mr_soak` on
   DATABASE_URL's server), migrates it, loads the demo data, and starts `matter-registry serve` with
   the given granian workers on loopback.
2. Capacity: runs the mix closed-loop (16 clients, no pause) for `--calibrate` seconds, once to warm
   up and once to measure; the second rate is the capacity.
3. Soak: the same mix, open-loop at `--fraction` of that rate (requests started on a fixed schedule,
   whatever the answers take), for `--minutes`. The mix is the issue's: 80% enforcement checks
   (POST /api/v1/checks), 10% admission submissions (POST /api/v1/admission-requests), 10% public
   list reads (GET /api/v1/registry/counties/430121/items).
4. Prints one JSON object: requests, errors (any non-2xx or transport error, by kind), latency
   percentiles, and each worker's resident memory (VmRSS from /proc) at the start of the soak, every
   minute, and at the end, with the growth in percent. Exit status 0 when there was no error and no
   worker grew by 10% or more.

The load generator is Python (httpx) on the same machine, so "capacity" is what this server and this
client reach together; the client's share of the CPU is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from service.core.db import recreate_database
from service.core.embedded import start_embedded, stop_embedded
from service.core.settings import PROJECT_ROOT

DB = "mr_soak"
PEPPER = "soak-pepper-0123456789"
SECRET = "soak-secret-0123456789abcdef"
COUNTY = "430121"
COMMUNITIES = [f"430121{s:03d}{c:03d}" for s in range(1, 5) for c in range(1, 4)]
CODES = ["430121-A-001", "430121-A-002", "T-D-001", "T-A-001", "P-001", "P-005", "C-X-04"]


async def prepare(server_url: str, *, fresh_database: bool) -> tuple[str, dict[str, str]]:
    from service.demo.loader import migrate_and_load

    url = server_url if fresh_database else await recreate_database(server_url, DB)
    creds = await migrate_and_load(url, pepper=PEPPER.encode())
    return url, {name: token for name, token, _, _ in creds.tokens}


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return sorted(int(p) for p in fh.read().split())
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Mix:
    """One request of the mix at a time; counts answers and latencies."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.http = http
        self.department = {"Authorization": f"Bearer {tokens['civil-affairs']}"}
        self.rng = random.Random(8)
        self.n = 0
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.errors: Counter[str] = Counter()
        self.latencies: dict[str, list[float]] = {"check": [], "submit": [], "list": []}

    def _submission(self) -> dict[str, Any]:
        self.n += 1
        start = (datetime.date.today() + datetime.timedelta(days=120)).isoformat()
        return {
            "kind": "task", "list": "assisting",
            "title": f"社区协助开展防汛应急演练（浸泡测试 {os.getpid()}-{self.n}）",
            "content": f"每年汛期前协助应急管理部门组织居民开展防汛应急演练，第{self.n}批。",
            "targets": [self.rng.choice(COMMUNITIES)], "community_role": "assisting",
            "basis": "《中华人民共和国防洪法》", "basis_number": "第三十八条",
            "resources": {"funding_yuan": 30000, "funding_source": "县级财政", "staff": 1},
            "start_date": start, "justification": "汛期前需要社区熟悉居民情况。",
        }

    async def one(self) -> None:
        roll = self.rng.random()
        kind = "check" if roll < 0.8 else "submit" if roll < 0.9 else "list"
        started = time.perf_counter()
        try:
            if kind == "check":
                r = await self.http.post("/api/v1/checks", headers=self.department, json={
                    "community_code": self.rng.choice(COMMUNITIES), "role": "assisting",
                    "matter": {"code": self.rng.choice(CODES)}})
            elif kind == "submit":
                r = await self.http.post("/api/v1/admission-requests", headers=self.department,
                                         json=self._submission())
            else:
                r = await self.http.get(f"/api/v1/registry/counties/{COUNTY}/items")
            if not 200 <= r.status_code < 300:
                self.errors[f"{kind} HTTP {r.status_code}"] += 1
        except httpx.HTTPError as exc:
            self.errors[f"{kind} {type(exc).__name__}"] += 1
        self.latencies[kind].append(time.perf_counter() - started)
        self.requests += 1


async def closed_loop(mix: Mix, *, clients: int, seconds: float) -> float:
    """Requests per second with `clients` callers sending back to back."""
    mix.reset()
    stop = time.monotonic() + seconds

    async def caller() -> None:
        while time.monotonic() < stop:
            await mix.one()

    started = time.monotonic()
    await asyncio.gather(*(caller() for _ in range(clients)))
    return mix.requests / (time.monotonic() - started)


async def open_loop(mix: Mix, *, rate: float, seconds: float, server_pid: int, max_in_flight: int,
                    samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Start one request every 1/rate seconds for `seconds`; sample worker memory each minute.

    Never more than `max_in_flight` at once: a request whose start time comes while that many are
    still waiting is counted as `late` and started when one finishes (the schedule then slips, and the
    achieved rate shows it). The loop yields on every request, so a slow client cannot pile up tasks.
    """
    mix.reset()
    interval = 1.0 / rate
    started = time.monotonic()
    next_sample = started + 60
    in_flight: set[asyncio.Task[None]] = set()
    late = 0
    i = 0
    while True:
        now = time.monotonic()
        if now - started >= seconds:
            break
        if now >= next_sample:
            samples.append({"minute": round((now - started) / 60), **worker_rss(server_pid)})
            next_sample += 60
        due = started + i * interval
        await asyncio.sleep(max(due - now, 0))
        if len(in_flight) >= max_in_flight:
            late += 1
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(mix.one())
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        i += 1
    if in_flight:
        await asyncio.wait(in_flight, timeout=60)
    elapsed = time.monotonic() - started
    return {"achieved_rps": round(mix.requests / elapsed, 1), "late_starts": late}


def worker_rss(server_pid: int) -> dict[str, int]:
    return {f"worker_pid_{pid}_kib": rss_kib(pid) for pid in children(server_pid)}


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {}
    q = statistics.quantiles(values, n=100)
    return {"p50_ms": round(q[49] * 1000, 1), "p99_ms": round(q[98] * 1000, 1)}


async def run(args: argparse.Namespace, base: str, tokens: dict[str, str], server_pid: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        mix = Mix(http, tokens)
        await closed_loop(mix, clients=16, seconds=args.calibrate)  # warm-up
        capacity = await closed_loop(mix, clients=16, seconds=args.calibrate)
        calibration_errors = dict(mix.errors)
        rate = capacity * args.fraction
        workers = children(server_pid)
        rss_start = {pid: rss_kib(pid) for pid in workers}
        samples: list[dict[str, Any]] = []
        client_cpu, server_cpu = cpu_seconds(os.getpid()), sum(cpu_seconds(p) for p in workers)
        schedule = await open_loop(mix, rate=rate, seconds=args.minutes * 60, server_pid=server_pid,
                                   max_in_flight=32, samples=samples)
        client_cpu = cpu_seconds(os.getpid()) - client_cpu
        server_cpu = sum(cpu_seconds(p) for p in children(server_pid)) - server_cpu
        rss_end = {pid: rss_kib(pid) for pid in children(server_pid)}
    # a worker that granian replaced during the run has no end figure: it shows in workers_restarted
    growth = {str(pid): round((rss_end[pid] - start) * 100 / start, 2) for pid, start in rss_start.items()
              if pid in rss_end}
    return {
        "minutes": args.minutes, "workers": args.workers, "cpus": os.cpu_count(),
        "load_average_end": os.getloadavg(),
        "capacity_rps": round(capacity, 1), "calibration_errors": calibration_errors,
        "target_rps": round(rate, 1), **schedule,
        "requests": mix.requests, "errors": sum(mix.errors.values()), "errors_by_kind": dict(mix.errors),
        "latency": {k: {"count": len(v), **percentiles(v)} for k, v in mix.latencies.items()},
        "cpu_seconds": {"client": round(client_cpu, 1), "server_workers": round(server_cpu, 1)},
        "workers_restarted": sorted(rss_start) != sorted(rss_end),
        "rss_start_kib": {str(k): v for k, v in rss_start.items()},
        "rss_end_kib": {str(k): v for k, v in rss_end.items()},
        "rss_growth_percent": growth, "rss_every_minute": samples,
        "max_growth_percent": max(growth.values()) if growth else None,
    }


def wait_ready(base: str, server: subprocess.Popen[bytes], workers: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200 and len(children(server.pid)) >= workers:
                time.sleep(2)  # let every worker finish its start-up
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not become ready")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--calibrate", type=float, default=20, help="seconds of each capacity run (two: warm-up, measure)")
    p.add_argument("--fraction", type=float, default=0.5, help="share of the measured capacity to offer")
    p.add_argument("--port", type=int, default=8799)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server and the database on the way out
    tmp = Path(tempfile.mkdtemp(prefix="mr-soak-"))
    external = os.environ.get("DATABASE_URL")
    server: subprocess.Popen[bytes] | None = None
    try:
        server_url = external or start_embedded(tmp / "pg")
        url, tokens = asyncio.run(prepare(server_url, fresh_database=not external))
        env = {**os.environ, "DATABASE_URL": url, "MR_TOKEN_PEPPER": PEPPER, "MR_SECRET_KEY": SECRET,
               "MR_DATA_DIR": str(tmp), "MR_LOG_LEVEL": "WARNING", "MR_DEV": "1"}
        log = (tmp / "server.log").open("wb")
        server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(args.port),
                                   "--workers", str(args.workers)], env=env, cwd=PROJECT_ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{args.port}"
        wait_ready(base, server, args.workers)
        result = asyncio.run(run(args, base, tokens, server.pid))
        log.flush()
        tail = (tmp / "server.log").read_text(errors="replace").strip().splitlines()[-5:]
        result["server_log_tail"] = tail
        print(json.dumps(result, ensure_ascii=False, indent=2))
        growth = result["max_growth_percent"]
        ok = result["errors"] == 0 and growth is not None and growth < 10 and not result["workers_restarted"]
        return 0 if ok else 2
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if not external:
            stop_embedded(tmp / "pg")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
