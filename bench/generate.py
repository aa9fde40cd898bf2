"""All the benchmark data of one scale, in a database of its own, loaded with COPY, each phase timed.

    python -m bench.generate --scale county     # 1 county, 43 communities (seconds)
    python -m bench.generate --scale province   # 120 counties, 6,000 communities
    python -m bench.generate --scale national   # 2,800 counties, 40,000 streets, 120,000 communities,
                                                # 1.6 M workers, 1 M admission requests, 10 M audit events

Phases: the registry (bench/registry/generate.py: jurisdictions and 300 items per county), community
workers, admission requests in every state with their transitions, audit events (bench/audit_log.py's
loader), then the sequencer hashes the audit events and the register's entries into their Merkle trees
(as a running service would have), so a server started on the data does not spend the benchmark doing it.
Counts below national scale are the national ones in proportion (to counties, or communities for workers).
The description (database URL, token, counts, seconds per phase) is kept in .data/bench-<scale>.json,
which bench/registry/run.py --reuse also reads.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench import audit_log
from bench.admission_app import PLAIN_TABLE
from bench.registry import generate as registry
from service.core.settings import PROJECT_ROOT

NATIONAL = {"counties": 2_800, "communities": 120_000, "workers": 1_600_000, "admission_requests": 1_000_000,
            "audit_events": 10_000_000}
POSTS = ["party_committee", "residents_committee", "community_staff", "community_staff"]
# (final status, share in percent, the path of statuses that led there)
STATES: list[tuple[str, int, list[str]]] = [
    ("draft", 2, ["draft"]),
    ("submitted", 15, ["submitted"]),
    ("in_review", 10, ["submitted", "in_review"]),
    ("approved", 38, ["submitted", "in_review", "approved"]),
    ("rejected", 12, ["submitted", "in_review", "rejected"]),
    ("returned", 5, ["submitted", "in_review", "returned"]),
    ("resubmitted", 3, ["submitted", "in_review", "returned", "resubmitted"]),
    ("withdrawn", 4, ["submitted", "withdrawn"]),
    ("revoked", 2, ["submitted", "in_review", "approved", "revoked"]),
    ("refused", 9, ["refused"]),
]
REQUEST_COLUMNS = ["id", "group_id", "revision", "submitter", "client_id", "department", "county_code", "targets",
                   "reviewing_body", "status", "kind", "list_name", "title", "body", "verdict", "findings",
                   "submitted_at", "decision_due", "decided_at", "decided_by", "decision_reason", "effective_from",
                   "created_at", "updated_at"]
TRANSITION_COLUMNS = ["request_id", "from_status", "to_status", "at", "actor", "reason"]
WORKER_COLUMNS = ["worker_ref", "display_name", "community_code", "post", "start_date", "status", "left_date"]
MATTERS = ["防汛应急演练", "居民医保参保登记", "老年人能力评估", "消防安全检查", "人口普查入户", "垃圾分类宣传",
           "退役军人信息采集", "食品安全宣传", "禁毒宣传进社区", "文明城市创建", "征兵宣传", "森林防火巡查"]


def counts(scale: str) -> dict[str, int]:
    _, n_county, _, n_comm = registry.SCALES[scale]
    share = n_county / NATIONAL["counties"]
    return {"workers": round(NATIONAL["workers"] * n_comm / NATIONAL["communities"]),
            "admission_requests": round(NATIONAL["admission_requests"] * share),
            "audit_events": round(NATIONAL["audit_events"] * share)}


def saved_path(scale: str) -> Path:
    return PROJECT_ROOT / ".data" / f"bench-{scale}.json"


def requests(counties: list[str], by_county: dict[str, list[str]], first_id: int, n: int, client_id: int,
             seed: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    weighted = [s for s in STATES for _ in range(s[1])]
    now = dt.datetime.now(dt.UTC)
    rows, transitions = [], []
    for k in range(n):
        rid = first_id + k
        status, _, path = weighted[rng.randrange(len(weighted))]
        county = counties[rid % len(counties)]
        targets = rng.sample(by_county.get(county) or [county], k=min(2, len(by_county.get(county) or [county])))
        kind, list_name = registry.LISTS[rid % len(registry.LISTS)]
        title = f"协助开展{MATTERS[rid % len(MATTERS)]}（第{rid}号）"
        created = now - dt.timedelta(days=rng.randrange(1, 700), seconds=rng.randrange(86400))
        body = json.dumps({"kind": kind, "list": list_name, "title": title, "content": f"{title}的工作内容说明",
                           "targets": targets, "community_role": "assisting"}, ensure_ascii=False)
        submitted = created if path[0] != "draft" else None
        decided = created + dt.timedelta(days=rng.randrange(1, 20)) if len(path) >= 3 else None
        verdict = None if status == "draft" else "refused" if status == "refused" else (
            "flagged" if rid % 7 == 0 else "clear")
        rows.append((rid, rid, 1, f"client:{client_id}", client_id, "基准测试部门", county, targets,
                     "县委社会工作部", status, kind, list_name, title, body, verdict, "[]", submitted,
                     (created + dt.timedelta(days=20)).date() if submitted else None, decided,
                     "user:bench-reviewer" if decided else None, "基准数据" if decided else None,
                     (decided + dt.timedelta(days=30)).date() if decided and "approved" in path else None,
                     created, decided or created))
        previous = None
        for step, to in enumerate(path):
            transitions.append((rid, previous, to, created + dt.timedelta(days=step * 3), f"client:{client_id}",
                                "基准数据" if step else None))
            previous = to
    return rows, transitions


async def phase_workers(raw: asyncpg.Connection, communities: list[str], n: int) -> None:
    for i in range(0, n, 200_000):
        rows = workers_slice(communities, i, min(n, i + 200_000))
        async with raw.transaction():
            await raw.copy_records_to_table("community_worker", records=rows, columns=WORKER_COLUMNS)


def workers_slice(communities: list[str], start: int, stop: int) -> list[tuple[Any, ...]]:
    rng = random.Random(start)
    rows = []
    for i in range(start, stop):
        begun = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650))
        left = begun + dt.timedelta(days=rng.randrange(30, 1500)) if i % 10 == 9 else None
        rows.append((f"W{i:08d}", f"社区工作者{i}", communities[i % len(communities)], POSTS[i % len(POSTS)], begun,
                     "left" if left else "in_post", left))
    return rows


async def phase_requests(raw: asyncpg.Connection, counties: list[str], communities: list[str], n: int) -> None:
    client_id = int(await raw.fetchval("select id from api_client where name = 'bench-department'"))
    first = int(await raw.fetchval("select coalesce(max(id), 0) + 1 from admission_request"))
    by_county: dict[str, list[str]] = {}
    for c in communities:
        by_county.setdefault(c[:6], []).append(c)
    chunk = 100_000
    for i in range(0, n, chunk):
        rows, transitions = requests(counties, by_county, first + i, min(chunk, n - i), client_id, seed=i)
        async with raw.transaction():
            await raw.copy_records_to_table("admission_request", records=rows, columns=REQUEST_COLUMNS)
            await raw.copy_records_to_table("admission_transition", records=transitions, columns=TRANSITION_COLUMNS)
        print(f"  {i + len(rows):,}/{n:,} admission requests", file=sys.stderr, flush=True)
    await raw.execute("select setval(pg_get_serial_sequence('admission_request', 'id'), "
                      "(select max(id) from admission_request))")


async def phase_sequence(url: str) -> dict[str, int]:
    from service.audit.sequencer import AUDIT, REGISTRY, Sequencer
    from service.core.db import create_pool

    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        result = await Sequencer(pool, None, [AUDIT, REGISTRY]).run_once()
    finally:
        await pool.close()
    return {name: r.tree_size for name, r in result.items()}


async def generate_all(server_url: str, scale: str) -> dict[str, Any]:
    want = counts(scale)
    phases: dict[str, float] = {}
    t = time.perf_counter()
    print(f"[{scale}] registry: jurisdictions and 300 items per county", file=sys.stderr, flush=True)
    data: dict[str, Any] = await registry.generate(server_url, scale)
    phases["registry (schema, demo, jurisdictions, items)"] = round(time.perf_counter() - t, 1)
    url = data["database_url"]
    raw = await asyncpg.connect(url)
    try:
        rows, counties, communities = registry.jurisdictions(scale)
        del rows
        t = time.perf_counter()
        print(f"[{scale}] {want['workers']:,} community workers", file=sys.stderr, flush=True)
        await phase_workers(raw, communities, want["workers"])
        phases["community workers"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        print(f"[{scale}] {want['admission_requests']:,} admission requests", file=sys.stderr, flush=True)
        await phase_requests(raw, counties, communities, want["admission_requests"])
        phases["admission requests and transitions"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        print(f"[{scale}] {want['audit_events']:,} audit events", file=sys.stderr, flush=True)
        await audit_log.load(raw, want["audit_events"])
        phases["audit events (COPY, index rebuild)"] = round(time.perf_counter() - t, 1)
        await raw.execute(PLAIN_TABLE)
        t = time.perf_counter()
        await raw.execute("analyze")
        phases["analyze"] = round(time.perf_counter() - t, 1)
    finally:
        await raw.close()
    t = time.perf_counter()
    print(f"[{scale}] sequencing the audit events and register entries into their trees", file=sys.stderr, flush=True)
    trees = await phase_sequence(url)
    phases["Merkle trees (sequencer)"] = round(time.perf_counter() - t, 1)
    conn = await asyncpg.connect(url)
    try:
        found = {
            "counties": await conn.fetchval("select count(*) from jurisdiction where level = 'county'"),
            "streets": await conn.fetchval("select count(*) from jurisdiction where level = 'street'"),
            "communities": await conn.fetchval("select count(*) from jurisdiction where level = 'community'"),
            "registry_items": await conn.fetchval("select count(*) from registry_item"),
            "registry_entries": await conn.fetchval("select count(*) from registry_entry"),
            "workers": await conn.fetchval("select count(*) from community_worker"),
            "admission_requests": await conn.fetchval("select count(*) from admission_request"),
            "admission_transitions": await conn.fetchval("select count(*) from admission_transition"),
            "audit_events": await conn.fetchval("select count(*) from audit_event"),
            "database_bytes": await conn.fetchval("select pg_database_size(current_database())"),
        }
        states = dict(await conn.fetch("select status, count(*) from admission_request group by 1 order by 1"))
    finally:
        await conn.close()
    data.update(scale=scale, phases=phases, generate_s=round(sum(phases.values()), 1), found=found,
                admission_states=states, trees=trees, complete=True,
                generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    data["seconds"] = data["generate_s"]
    saved_path(scale).parent.mkdir(parents=True, exist_ok=True)
    saved_path(scale).write_text(json.dumps(data, ensure_ascii=False))
    return data


async def reuse(scale: str) -> dict[str, Any] | None:
    """The data of an earlier complete run of this scale, if its database is still there (migrated up)."""
    from service.core.db import connect
    from service.core.migrate import migrate

    path = saved_path(scale)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if not data.get("complete"):
        return None
    try:
        conn = await connect(data["database_url"])
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await migrate(conn, PROJECT_ROOT / "migrations")  # other areas' new migrations, if any
        await conn.execute(PLAIN_TABLE)
    finally:
        await conn.close()
    data["reused"] = True
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(registry.SCALES), default="county")
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier complete run if present")
    args = parser.parse_args()
    server = registry.server_url()
    data = asyncio.run(reuse(args.scale)) if args.reuse else None
    if data is None:
        data = asyncio.run(generate_all(server, args.scale))
    print(json.dumps({k: v for k, v in data.items() if not k.startswith("sample") and k != "token"},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
