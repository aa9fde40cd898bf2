"""Audit log benchmark: load N events with COPY, sequence them into the Merkle tree, then measure
filtered pages, proofs, the export and appending with proofs maintained.

    .venv/bin/python -m bench.audit_log --events 10000000            # its own embedded PostgreSQL
    DATABASE_URL=postgresql://... .venv/bin/python -m bench.audit_log   # or a server of yours

It creates (and keeps, for re-runs with --reuse) a database named mr_bench_audit.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from service.audit import keys, service
from service.audit.sequencer import AUDIT, BATCH, Sequencer
from service.core.db import connect, create_pool, database_url
from service.core.embedded import start_embedded
from service.core.migrate import MigrationError, migrate
from service.core.settings import PROJECT_ROOT, load_settings

DB = "mr_bench_audit"
ACTIONS = [f"{area}.{verb}" for area in ("admission", "registry", "secondment", "complaint", "jurisdiction", "token")
           for verb in ("create", "update", "decide", "refuse", "read")]
ROLES = ["department", "street_office", "county_reviewer", "org_department", "community", "supervisor", "admin"]
OUTCOMES = ["ok"] * 17 + ["denied", "refused", "failed"]
SUBJECTS = ["admission_request", "list_item", "secondment", "complaint", "jurisdiction", "token"]


def _tree() -> list[tuple[str, str]]:
    """(code, path) of communities and streets: 2 provinces x 3 cities x 5 counties x 10 streets x 8 communities."""
    out = []
    for p in ("43", "44"):
        for c in range(1, 4):
            city = f"{p}{c:02d}"
            for k in range(1, 6):
                county = f"{city}{k:02d}"
                for s in range(1, 11):
                    street = f"{county}{s:03d}"
                    out.append((street, f"/00/{p}/{city}/{county}/{street}/"))
                    for m in range(1, 9):
                        com = f"{street}{m:03d}"
                        out.append((com, f"/00/{p}/{city}/{county}/{street}/{com}/"))
    return out


def _rows(n: int, start: dt.datetime, span_s: float, seed: int) -> Any:
    rnd = random.Random(seed)
    places = _tree()
    step = span_s / n
    for i in range(n):
        code, path = places[rnd.randrange(len(places))] if rnd.random() > 0.05 else (None, None)
        actor = rnd.randrange(5000)
        yield (start + dt.timedelta(seconds=i * step), "client" if actor % 3 else "user", str(actor),
               f"actor-{actor}", ROLES[actor % len(ROLES)], f"req-{seed}-{i}", "10.0.0.1",
               ACTIONS[rnd.randrange(len(ACTIONS))], SUBJECTS[rnd.randrange(len(SUBJECTS))],
               str(rnd.randrange(200_000)), code, path, OUTCOMES[rnd.randrange(len(OUTCOMES))], 200, None,
               f'{{"n": {i}}}')


COLUMNS = ["occurred_at", "actor_type", "actor_id", "actor_name", "role", "request_id", "client_addr", "action",
           "subject_type", "subject_id", "jurisdiction_code", "jurisdiction_path", "outcome", "status_code", "digest",
           "detail"]


async def load(conn: asyncpg.Connection, n: int) -> None:
    indexes = await conn.fetch("select indexname, indexdef from pg_indexes where tablename = 'audit_event' "
                               "and indexname <> 'audit_event_pkey'")
    for ix in indexes:
        await conn.execute(f'drop index "{ix["indexname"]}"')
    t0 = time.perf_counter()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
    chunk = 200_000
    for k in range(0, n, chunk):
        rows = list(_rows(min(chunk, n - k), start + dt.timedelta(days=365 * k / n), 365 * 86400 * chunk / n, k))
        await conn.copy_records_to_table("audit_event", records=rows, columns=COLUMNS)
        print(f"  loaded {k + len(rows):,} events ({(k + len(rows)) / (time.perf_counter() - t0):,.0f}/s)",
              flush=True)
    t1 = time.perf_counter()
    await conn.execute("set maintenance_work_mem = '512MB'")
    for ix in indexes:
        await conn.execute(ix["indexdef"])
    await conn.execute("analyze audit_event")
    print(f"  COPY {t1 - t0:.0f} s, indexes {time.perf_counter() - t1:.0f} s", flush=True)


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def timed(fn: Any, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t) * 1000)
    return p(times, 50), p(times, 95)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def pages(conn: asyncpg.Connection, runs: int) -> list[str]:
    out = []
    now = dt.datetime.now(dt.UTC)
    week = now - dt.timedelta(days=30)
    shapes: dict[str, tuple[dict[str, Any], list[str] | None]] = {
        "no filter": ({}, None),
        "actor": ({"actor_type": "client", "actor_id": "1234"}, None),
        "role": ({"role": "county_reviewer"}, None),
        "action": ({"action": "admission.decide"}, None),
        "subject": ({"subject_type": "complaint", "subject_id": "4242"}, None),
        "outcome": ({"outcome": "denied"}, None),
        "county subtree": ({}, ["/00/43/4301/430102/"]),
        "street subtree": ({}, ["/00/43/4301/430102/430102003/"]),
        "community": ({}, ["/00/43/4301/430102/430102003/430102003004/"]),
    }
    for name, (filters, subtrees) in shapes.items():
        for ranged in (False, True):
            f = service.EventFilters(**filters, **({"since": week - dt.timedelta(days=60), "until": week}
                                                   if ranged else {}))

            async def page(f: service.EventFilters = f, subtrees: list[str] | None = subtrees) -> None:
                await service.list_events(conn, filters=f, subtrees=subtrees, newest_first=True, cursor=None,
                                          limit=50)

            p50, p95 = await timed(page, runs)
            out.append(f"| {name}{' + time range' if ranged else ''} | {p50:.2f} | {p95:.2f} |")
    return out


async def proofs(conn: asyncpg.Connection, size: int, runs: int) -> list[str]:
    rnd = random.Random(7)

    async def inclusion() -> None:
        await service.inclusion_proof(conn, log="audit", index=rnd.randrange(size), tree_size=size)

    async def consistency() -> None:
        await service.consistency_proof(conn, log="audit", first=rnd.randrange(1, size), second=size)

    a = await timed(inclusion, runs)
    b = await timed(consistency, runs)
    return [f"| inclusion proof | {a[0]:.2f} | {a[1]:.2f} |", f"| consistency proof | {b[0]:.2f} | {b[1]:.2f} |"]


async def export(conn: asyncpg.Connection, limit_rows: int) -> str:
    sql, args = await service.log_export_query(conn, tree_size=None)
    args = [min(args[0], limit_rows)]
    before = rss_mb()
    peak = before
    t = time.perf_counter()
    count = 0
    async for chunk in service.export_conn_stream(conn, sql=sql, args=args, fmt="jsonl", log_order=True):
        count += chunk.count(b"\n")
        peak = max(peak, rss_mb())
    dt_s = time.perf_counter() - t
    return (f"export (JSON Lines, leaf order): {count:,} events in {dt_s:.1f} s = {count / dt_s:,.0f} events/s; "
            f"RSS {before:.0f} MB before, peak {peak:.0f} MB")


async def append(pool: asyncpg.Pool, sequencer: Sequencer, seconds: float, writers: int) -> str:
    """Writers insert events (as requests do: one insert, one commit) while the sequencer keeps up."""
    stop = time.perf_counter() + seconds
    inserted = 0
    rows = _rows(10_000_000, dt.datetime.now(dt.UTC), 1, 99)

    async def writer() -> None:
        nonlocal inserted
        async with pool.acquire() as conn:
            while time.perf_counter() < stop:
                # executemany commits its 20 inserts together: a stand-in for 20 concurrent requests
                batch = [(*r[:-1], {"n": 0}) for r in (next(rows) for _ in range(20))]
                await conn.executemany(
                    f"insert into audit_event ({', '.join(COLUMNS)}) values "
                    f"({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))})", batch)
                inserted += len(batch)

    async with pool.acquire() as conn:
        size0 = await conn.fetchval("select tree_size from merkle_log where log_id = 1")
        cp0 = await conn.fetchval("select max(issued_at) from merkle_checkpoint where log_id = 1")
    seq_task = asyncio.create_task(sequencer.run())
    t0 = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    elapsed = time.perf_counter() - t0
    # let the sequencer drain what is left
    async with pool.acquire() as conn:
        target = await conn.fetchval("select count(*) from audit_event")
        while await conn.fetchval("select tree_size from merkle_log where log_id = 1") < target:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        drained = time.perf_counter() - t0
        stamps = [r["issued_at"] for r in await conn.fetch(
            "select issued_at from merkle_checkpoint where log_id = 1 and issued_at > $1 order by issued_at",
            cp0 or dt.datetime(1970, 1, 1, tzinfo=dt.UTC))]
        size1 = await conn.fetchval("select tree_size from merkle_log where log_id = 1")
    seq_task.cancel()
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    return (f"append: {inserted:,} events in {elapsed:.1f} s by {writers} writers = {inserted / elapsed:,.0f}/s "
            f"inserted; sequenced {size1 - size0:,} in {drained:.1f} s = {(size1 - size0) / drained:,.0f}/s; "
            f"{len(stamps)} checkpoints, largest interval {max(gaps) if gaps else 0:.1f} s")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--reuse", action="store_true", help="keep the loaded database from an earlier run")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--export-rows", type=int, default=2_000_000)
    ap.add_argument("--append-seconds", type=float, default=20)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--append-only", action="store_true", help="skip the read measurements")
    ap.add_argument("--database", default=DB, help="database name (make bench: the largest scale's, with --reuse)")
    args = ap.parse_args()
    db = args.database
    server = os.environ.get("DATABASE_URL") or start_embedded(Path(tempfile.gettempdir()) / "mr-bench-pg")
    admin = await connect(server)
    exists = await admin.fetchval("select 1 from pg_database where datname = $1", db)
    if exists and not args.reuse:
        await admin.execute(f'drop database "{db}" with (force)')
    if not exists or not args.reuse:
        await admin.execute(f'create database "{db}"')
    await admin.close()
    url = database_url(server, db)
    conn = await connect(url)
    try:
        await migrate(conn, PROJECT_ROOT / "migrations")
    except MigrationError as exc:  # a reused database from before another area's migration changed
        if not args.reuse:
            raise
        print(f"(reusing the loaded database as it is: {exc})")
    have = await conn.fetchval("select count(*) from audit_event")
    if have < args.events:
        print(f"loading {args.events - have:,} events with COPY", flush=True)
        raw = await asyncpg.connect(url)  # the default jsonb codec (a str) has a binary form for COPY
        try:
            await load(raw, args.events - have)
        finally:
            await raw.close()
    data_dir = Path(tempfile.gettempdir()) / "mr-bench-data"
    settings = load_settings({"MR_DATA_DIR": str(data_dir), "MR_DEV": "1", "MR_TOKEN_PEPPER": "x" * 16,
                              "MR_SECRET_KEY": "y" * 16})
    pool = await create_pool(url, min_size=2, max_size=args.writers + 3)
    sequencer = Sequencer(pool, keys.load_signing_key(settings), [AUDIT])
    t = time.perf_counter()
    size0 = await conn.fetchval("select tree_size from merkle_log where log_id = 1")
    while True:
        res = await sequencer.sequence(AUDIT)
        if res.appended and res.tree_size // 500_000 != (res.tree_size - res.appended) // 500_000:
            print(f"  sequenced {res.tree_size:,} ({(res.tree_size - size0) / (time.perf_counter() - t):,.0f}/s)",
                  flush=True)
        if res.appended < BATCH:
            break
    size = await conn.fetchval("select tree_size from merkle_log where log_id = 1")
    if size > size0:
        print(f"sequenced {size - size0:,} events into the tree in {time.perf_counter() - t:.0f} s "
              f"({(size - size0) / (time.perf_counter() - t):,.0f}/s)")
    await sequencer.checkpoint_now()
    await conn.execute("analyze")
    if not args.append_only:
        print(f"\n{size:,} events in the log; {args.runs} runs each; milliseconds\n")
        print("| query (page of 50, newest first) | p50 | p95 |\n|---|---|---|")
        for line in await pages(conn, args.runs):
            print(line)
        for line in await proofs(conn, size, args.runs):
            print(line)
        print()
        print(await export(conn, args.export_rows))
    print(await append(pool, sequencer, args.append_seconds, args.writers))
    print(f"bench process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    await pool.close()
    await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
