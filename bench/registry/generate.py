"""Generate a registry at province or national scale into a database of its own, loading with COPY.

    python -m bench.registry.generate --scale county     # 1 county, 14 streets, 43 communities
    python -m bench.registry.generate --scale province   # 120 counties, 1,600 streets, 6,000 communities
    python -m bench.registry.generate --scale national   # 2,800 counties, 40,000 streets, 120,000 communities

Each county gets ITEMS (300) items of its own, each an 'add' entry with a dated start and one in ten
amended later, on top of the national demo templates. Entries are built exactly as the service builds
them (canonical leaf, SHA-256), numbered densely after the demo's. Prints a JSON line: database URL,
bench token, counts.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import asyncpg
import msgspec

from service.core.audit import SYSTEM
from service.core.db import connect, recreate_database
from service.core.embedded import start_embedded
from service.core.migrate import migrate
from service.core.settings import PROJECT_ROOT
from service.registry.schemas import ItemCreate
from service.registry.service import entry_leaf

SCALES = {
    # provinces, counties, streets, communities
    "county": (1, 1, 14, 43),
    "province": (1, 120, 1_600, 6_000),
    "national": (30, 2_800, 40_000, 120_000),
}
ITEMS = 300
PROVINCE_CODES = [c for c in range(11, 66) if c not in (43,) and c % 10 != 0][:30]
BENCH_PEPPER = "bench-pepper-0123456789"
LISTS = [("task", "duty"), ("task", "assisting"), ("task", "assisting"), ("report", "report_form"),
         ("digital", "work_group")]


def jurisdictions(scale: str) -> tuple[list[tuple[str, str, str, str, int | None, str, str | None]], list[str],
                                       list[str]]:
    n_prov, n_county, n_street, n_comm = SCALES[scale]
    rows: list[tuple[str, str, str, str, int | None, str, str | None]] = []
    counties: list[str] = []
    communities: list[str] = []
    provinces = [str(c) for c in (PROVINCE_CODES[:n_prov] if scale == "national" else [61])]
    per_province = [n_county // n_prov + (1 if i < n_county % n_prov else 0) for i in range(n_prov)]
    for prov, count in zip(provinces, per_province, strict=True):
        rows.append((prov, "00", "province", f"省{prov}", None, f"/00/{prov}/", None))
        for c in range(count):
            city = f"{prov}{c // 10 + 1:02d}"
            if c % 10 == 0:
                rows.append((city, prov, "city", f"市{city}", None, f"/00/{prov}/{city}/", None))
            county = f"{city}{c % 10 + 1:02d}"
            rows.append((county, city, "county", f"县{county}", None, f"/00/{prov}/{city}/{county}/", county))
            counties.append(county)
    streets_per = [n_street // n_county + (1 if i < n_street % n_county else 0) for i in range(n_county)]
    street_codes: list[tuple[str, str]] = []
    for county, count in zip(counties, streets_per, strict=True):
        for s in range(count):
            street = f"{county}{s + 1:03d}"
            street_codes.append((street, county))
    path_of = {r[0]: r[5] for r in rows}
    for street, county in street_codes:
        rows.append((street, county, "street", f"街道{street}", None, f"{path_of[county]}{street}/", county))
    per_street = [n_comm // n_street + (1 if i < n_comm % n_street else 0) for i in range(n_street)]
    for (street, county), count in zip(street_codes, per_street, strict=True):
        for m in range(count):
            community = f"{street}{m + 1:03d}"
            rows.append((community, street, "community", f"社区{community}", 8000 + m,
                         f"{path_of[county]}{street}/{community}/", county))
            communities.append(community)
    return rows, counties, communities


def county_items(county: str, first_number: int, entered_at: datetime.datetime
                 ) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    entries: list[tuple[object, ...]] = []
    records: list[tuple[object, ...]] = []
    number = first_number
    for n in range(ITEMS):
        kind, list_name = LISTS[n % len(LISTS)]
        code = f"{county}-I-{n:03d}"
        start = datetime.date(2023, 1, 1) + datetime.timedelta(days=n % 700)
        item = ItemCreate(kind=kind, list=list_name, code=code, title=f"协助开展第{n}项社区工作（{county}）",  # type: ignore[arg-type]
                          content=f"县{county}第{n}项准入事项的工作内容说明", basis="《县级社区工作事项清单》",
                          basis_number=f"社工发〔2023〕{n}号", department="县民政局", department_level="county",
                          funding_yuan=10000 + n, funding_source="县财政", frequency="monthly")
        versions = [("add", start, item)]
        if n % 10 == 0:
            versions.append(("amend", datetime.date(2025, 6, 1), msgspec.structs.replace(item, funding_yuan=20000 + n)))
        for entry_type, effective, version in versions:
            item_json = msgspec.to_builtins(version)
            leaf = entry_leaf(number=number, entered_at=entered_at, entry_type=entry_type, scope=county, code=code,
                              status="active", effective_from=effective, actor="system:bench", reason="基准数据",
                              source_ref="bench", item_json=item_json)
            text = msgspec.json.encode(item_json).decode()
            entries.append((number, county, code, entry_type, "active", effective, entered_at, "system:bench",
                            "基准数据", "bench", text, leaf, hashlib.sha256(leaf).digest()))
            number += 1
        records.append((county, code, kind, list_name, version.title, version.content, "active", start, effective,
                        None, number - 1, text))
    return entries, records


ENTRY_COLUMNS = ["entry_number", "scope", "code", "entry_type", "status", "effective_from", "entered_at", "actor",
                 "reason", "source_ref", "item", "leaf", "item_digest"]
ITEM_COLUMNS = ["scope", "code", "kind", "list", "title", "content", "status", "created_from", "effective_from",
                "expires_on", "entry_number", "item"]


async def generate(server_url: str, scale: str) -> dict[str, object]:
    from service.demo.loader import load
    from service.identity import service as identity
    from service.identity.schemas import ClientCreate, RoleGrant, TokenCreate

    name = f"mr_bench_{scale}"
    url = await recreate_database(server_url, name)
    started = time.perf_counter()
    conn = await connect(url)
    await migrate(conn, PROJECT_ROOT / "migrations")
    await load(conn, pepper=BENCH_PEPPER.encode())
    async with conn.transaction():
        client = await identity.create_client(conn, actor=SYSTEM, data=ClientCreate(
            name="bench-department", organisation="基准测试部门", organisation_level="county", jurisdiction_code="00"))
        await identity.grant_role(conn, actor=SYSTEM, data=RoleGrant(
            principal_type="client", principal_id=client.id, role="department", jurisdiction_code="00"))
        token = (await identity.issue_token(conn, actor=SYSTEM, pepper=BENCH_PEPPER.encode(), client_id=client.id,
                                            data=TokenCreate(label="bench", expires_in_days=30))).token
    await conn.close()

    # plain connection: COPY in binary with asyncpg's own jsonb codec (text in, text out)
    raw = await asyncpg.connect(url)
    rows, counties, communities = jurisdictions(scale)
    async with raw.transaction():
        await raw.copy_records_to_table("jurisdiction", records=rows, columns=[
            "code", "parent_code", "level", "name", "population", "path", "county_code"])
    await raw.execute("drop index registry_item_title_trgm")
    number = int(await raw.fetchval("select last_number from registry_entry_counter"))
    entered_at = datetime.datetime.now(datetime.UTC)
    for i in range(0, len(counties), 100):
        entries: list[tuple[object, ...]] = []
        records: list[tuple[object, ...]] = []
        for county in counties[i:i + 100]:
            e, r = county_items(county, number + 1, entered_at)
            number += len(e)
            entries += e
            records += r
        async with raw.transaction():
            await raw.copy_records_to_table("registry_entry", records=entries, columns=ENTRY_COLUMNS)
            await raw.copy_records_to_table("registry_item", records=records, columns=ITEM_COLUMNS)
            await raw.execute("update registry_entry_counter set last_number = $1", number)
        print(f"  {min(i + 100, len(counties))}/{len(counties)} counties", file=sys.stderr, flush=True)
    await raw.execute("create index registry_item_title_trgm on registry_item using gin (title gin_trgm_ops)")
    await raw.execute("analyze")
    await raw.close()
    return {"database_url": url, "token": token, "pepper": BENCH_PEPPER, "counties": len(counties),
            "communities": len(communities), "entries": number, "seconds": round(time.perf_counter() - started, 1),
            "sample_communities": communities[:: max(1, len(communities) // 2000)][:2000],
            "sample_counties": counties}


def server_url() -> str:
    return os.environ.get("DATABASE_URL") or start_embedded(PROJECT_ROOT / ".data" / "bench-pg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="province")
    parser.add_argument("--out", type=Path, help="write the JSON description here as well")
    args = parser.parse_args()
    result = asyncio.run(generate(server_url(), args.scale))
    text = json.dumps(result)
    if args.out:
        args.out.write_text(text)
    print(json.dumps({k: v for k, v in result.items() if not k.startswith("sample")}))


if __name__ == "__main__":
    main()
