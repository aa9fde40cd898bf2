"""Witness rounds and checkpoint spacing, over loopback, while the audit log grows.

The service (`service.app:create_app` under granian, --workers 2, two witnesses configured and both
required) signs checkpoints from its own background sequencer while events are appended at a steady
rate; two witnesses (service/audit/witness.py, each with its own key and state file, as
`matter-registry witness run` would) take a round every second: fetch the checkpoint, fetch and verify
the consistency proof from what they cosigned last, cosign, store the state file atomically, submit the
cosignature. Measured: each round's wall time (targets: p95 <= 200 ms), the largest gap between two
signed checkpoints while events arrive (target <= 10 s), and that every new checkpoint got the quorum.

    .venv/bin/python -m bench.witness [--seconds 20] [--rate 400] [--workers 2]

Uses its own embedded PostgreSQL in a temporary directory, or DATABASE_URL's server (a database named
mr_bench_witness is created there, replaced on each run). Writes bench/results/witness.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.registry.run import wait_ready
from service.audit import note, witness
from service.core.audit import Actor, record
from service.core.db import connect, create_pool, recreate_database
from service.core.embedded import start_embedded, stop_embedded
from service.core.settings import PROJECT_ROOT

DB = "mr_bench_witness"
PEPPER = "bench-pepper-0123456789"
WITNESSES = ("jiwei.bench.example/witness", "shegongbu.bench.example/witness")
RESULTS = PROJECT_ROOT / "bench" / "results" / "witness.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[q - 1]


async def prepare(server_url: str) -> str:
    from service.demo.loader import migrate_and_load

    url = await recreate_database(server_url, DB)
    await migrate_and_load(url, pepper=PEPPER.encode())
    return url


async def append(url: str, rate: float, stop: asyncio.Event) -> int:
    """Events at a steady rate, as the service's own writes would arrive (one transaction each)."""
    pool = await create_pool(url, min_size=2, max_size=4)
    actor = Actor(actor_type="system", actor_id=None, actor_name="bench", role=None)
    n = 0
    try:
        start = time.monotonic()
        while not stop.is_set():
            due = int((time.monotonic() - start) * rate)
            while n < due:
                async with pool.acquire() as conn:
                    await record(conn, actor=actor, action="bench.event", subject_type="thing",
                                 subject_id=str(n), jurisdiction=None, outcome="ok", detail={"n": n})
                n += 1
            await asyncio.sleep(0.01)
    finally:
        await pool.close()
    return n


async def witness_loop(base: str, name: str, key: Ed25519PrivateKey, state: Path, stop: asyncio.Event,
                       rounds: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        log_key = note.parse_verifier_key((await http.get("/api/v1/audit/verifier-key.txt")).text)
        while not stop.is_set():
            t0 = time.perf_counter()
            r = await witness.witness_round(http, name=name, key=key, log_key=log_key, state_path=state)
            ms = (time.perf_counter() - t0) * 1000
            rounds.append({"witness": name, "ms": ms, "cosigned": r.cosigned, "size": r.size,
                           "from": r.old_size, "quorum": bool(r.submitted and r.submitted.get("cosigned"))})
            await asyncio.sleep(1.0)


async def measure(base: str, url: str, keys: dict[str, Ed25519PrivateKey], tmp: Path, seconds: float,
                  rate: float) -> dict[str, Any]:
    await asyncio.to_thread(wait_ready, base)
    stop = asyncio.Event()
    rounds: list[dict[str, Any]] = []
    started = dt.datetime.now(dt.UTC)
    tasks = [asyncio.create_task(append(url, rate, stop))]
    tasks += [asyncio.create_task(witness_loop(base, name, key, tmp / f"witness{i}.json", stop, rounds))
              for i, (name, key) in enumerate(keys.items())]
    await asyncio.sleep(seconds)
    stop.set()
    appended = await tasks[0]
    await asyncio.gather(*tasks[1:])
    conn = await connect(url)
    try:
        issued = [r["issued_at"] for r in await conn.fetch(
            "select issued_at from merkle_checkpoint where log_id = 1 and issued_at >= $1 order by tree_size",
            started)]
        cosigned_sizes = await conn.fetchval(
            "select count(*) from (select tree_size from merkle_cosignature where log_id = 1 "
            "group by tree_size having count(distinct witness) >= 2) q")
    finally:
        await conn.close()
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(issued)]
    made = [r["ms"] for r in rounds if r["cosigned"]]
    return {
        "seconds": seconds, "events_appended": appended, "rate_per_s": round(appended / seconds, 1),
        "checkpoints_signed": len(issued), "largest_checkpoint_gap_s": round(max(gaps), 2) if gaps else None,
        "rounds": len(rounds), "rounds_cosigning": len(made),
        "round_ms": {"p50": round(pct(made, 50), 1), "p95": round(pct(made, 95), 1),
                     "max": round(max(made), 1) if made else None},
        "quorum_reached": sum(1 for r in rounds if r["quorum"]), "tree_sizes_cosigned": int(cosigned_sizes),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--rate", type=float, default=400, help="events appended per second")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mr-bench-witness-"))
    server_url = os.environ.get("DATABASE_URL") or start_embedded(tmp / "pg")
    server: subprocess.Popen[bytes] | None = None
    try:
        url = asyncio.run(prepare(server_url))
        keys = {name: Ed25519PrivateKey.generate() for name in WITNESSES}
        vkeys = ",".join(witness.witness_vkey(name, key) for name, key in keys.items())
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "MR_TOKEN_PEPPER": PEPPER,
               "MR_SECRET_KEY": "bench-secret-0123456789abcdef", "MR_DATA_DIR": str(tmp / "data"),
               "MR_LOG_LEVEL": "WARNING", "MR_AUDIT_WITNESSES": vkeys, "MR_AUDIT_WITNESS_QUORUM": "2",
               "MR_DEV": "1"}
        server = subprocess.Popen(
            [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(args.workers), "--no-access-log", "service.app:create_app"],
            env=env, cwd=PROJECT_ROOT)
        result = asyncio.run(measure(f"http://127.0.0.1:{port}", url, keys, tmp, args.seconds, args.rate))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if not os.environ.get("DATABASE_URL"):
            stop_embedded(tmp / "pg")
        shutil.rmtree(tmp, ignore_errors=True)
    result["machine"] = {"cores": os.cpu_count(), "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
    result["when"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    met = (result["round_ms"]["p95"] <= 200 and result["largest_checkpoint_gap_s"] is not None
           and result["largest_checkpoint_gap_s"] <= 10)
    result["targets"] = {"round_p95_ms_max": 200, "checkpoint_gap_s_max": 10, "met": met}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if met else 2


if __name__ == "__main__":
    sys.exit(main())
