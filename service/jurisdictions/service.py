"""The jurisdiction tree: create, rename, move, import, read."""

from __future__ import annotations

import csv
import io
from typing import Any

import asyncpg
import msgspec

from service.core import audit
from service.core.audit import Actor
from service.core.errors import NotFound, ValidationFailed
from service.core.tree import LEVEL_RANK, LEVELS
from service.jurisdictions import queries
from service.jurisdictions.schemas import (
    ImportReport,
    ImportRowProblem,
    JurisdictionCreate,
    JurisdictionRead,
    JurisdictionUpdate,
    Subtree,
)

CODE_LENGTH = {"province": 2, "city": 4, "county": 6, "street": 9, "community": 12}
SUBTREE_LIMIT = 5000


def to_read(row: asyncpg.Record) -> JurisdictionRead:
    return JurisdictionRead(
        code=row["code"], parent_code=row["parent_code"], level=row["level"], name=row["name"],
        population=row["population"], county_code=row["county_code"],
        path=[p for p in row["path"].split("/") if p],
    )


async def get(conn: asyncpg.Connection, *, code: str) -> asyncpg.Record:
    row = await conn.fetchrow(queries.GET, code)
    if row is None:
        raise NotFound(f"行政区划 {code} 不存在 (unknown jurisdiction {code})",
                       extra={"code": code})
    return row


def _check_shape(*, code: str, level: str, parent_level: str, population: int | None) -> str | None:
    if len(code) != CODE_LENGTH[level]:
        return f"{level} 代码应为 {CODE_LENGTH[level]} 位 (a {level} code has {CODE_LENGTH[level]} digits)"
    if LEVEL_RANK[parent_level] != LEVEL_RANK[level] - 1:
        expected = LEVELS[LEVEL_RANK[level] - 1]
        return f"{level} 的上级应为 {expected} (a {level} sits directly under a {expected}, not a {parent_level})"
    if population is not None and level != "community":
        return "只有社区登记常住人口 (only communities carry a population)"
    return None


def _county_of(*, code: str, level: str, parent: asyncpg.Record | dict[str, Any]) -> str | None:
    if level == "county":
        return code
    if LEVEL_RANK[level] > LEVEL_RANK["county"]:
        return str(parent["county_code"])
    return None


async def create(conn: asyncpg.Connection, *, actor: Actor, data: JurisdictionCreate) -> JurisdictionRead:
    parent = await get(conn, code=data.parent_code)
    problem = _check_shape(code=data.code, level=data.level, parent_level=parent["level"],
                           population=data.population)
    if problem:
        raise ValidationFailed.field("code" if "代码" in problem else "parent_code", problem,
                                     rule="GB/T 2260 administrative division codes")
    row = await conn.fetchrow(
        queries.INSERT, data.code, data.parent_code, data.level, data.name, data.population,
        f"{parent['path']}{data.code}/", _county_of(code=data.code, level=data.level, parent=parent),
    )
    created = to_read(row)
    await audit.record(conn, actor=actor, action="jurisdiction.create", subject_type="jurisdiction",
                       subject_id=data.code, jurisdiction=data.code, change=created)
    return created


async def update(conn: asyncpg.Connection, *, actor: Actor, code: str, data: JurisdictionUpdate) -> JurisdictionRead:
    before = to_read(await get(conn, code=code))
    set_population = data.population is not msgspec.UNSET
    if set_population and data.population is not None and before.level != "community":
        raise ValidationFailed.field("population", "只有社区登记常住人口 (only communities carry a population)")
    name = None if data.name is msgspec.UNSET else data.name
    row = await conn.fetchrow(queries.UPDATE, code, name, set_population,
                              None if data.population is msgspec.UNSET else data.population)
    after = to_read(row)
    await audit.record(conn, actor=actor, action="jurisdiction.update", subject_type="jurisdiction",
                       subject_id=code, jurisdiction=code,
                       change={"before": msgspec.to_builtins(before), "after": msgspec.to_builtins(after)})
    return after


async def move(conn: asyncpg.Connection, *, actor: Actor, code: str, new_parent_code: str) -> JurisdictionRead:
    node = await get(conn, code=code)
    new_parent = await get(conn, code=new_parent_code)
    if new_parent["path"].startswith(node["path"]):
        raise ValidationFailed.field("new_parent_code", "不能移到自身之下 (cannot move a node under itself)")
    if LEVEL_RANK[new_parent["level"]] != LEVEL_RANK[node["level"]] - 1:
        raise ValidationFailed.field(
            "new_parent_code", f"{node['level']} 只能移到 {LEVELS[LEVEL_RANK[node['level']] - 1]} 之下 "
            f"(a {node['level']} must sit directly under a {LEVELS[LEVEL_RANK[node['level']] - 1]})")
    new_path = f"{new_parent['path']}{code}/"
    new_county = _county_of(code=code, level=node["level"], parent=new_parent)
    await conn.execute(queries.MOVE_SUBTREE, node["path"], new_path, new_county, code, new_parent_code)
    after = to_read(await get(conn, code=code))
    await audit.record(conn, actor=actor, action="jurisdiction.move", subject_type="jurisdiction", subject_id=code,
                       jurisdiction=code, change={"from": node["parent_code"], "to": new_parent_code})
    return after


async def subtree(conn: asyncpg.Connection, *, code: str, level: str | None, limit: int) -> Subtree:
    root = to_read(await get(conn, code=code))
    rows = await conn.fetch(queries.SUBTREE, "/".join(["", *root.path, ""]), level, min(limit, SUBTREE_LIMIT) + 1)
    nodes = [to_read(r) for r in rows if r["code"] != code]
    truncated = len(rows) > min(limit, SUBTREE_LIMIT)
    return Subtree(root=root, nodes=nodes[: min(limit, SUBTREE_LIMIT)], truncated=truncated)


IMPORT_COLUMNS = ("code", "parent_code", "level", "name", "population")


async def import_csv(
    conn: asyncpg.Connection, *, actor: Actor, text: str, partial: bool, may_manage: Any
) -> ImportReport:
    """Load jurisdictions from CSV (columns: code,parent_code,level,name,population).

    Rows are checked in order (a parent may come earlier in the same file). Unless `partial`, any bad
    row means nothing is loaded. `may_manage(code)` says whether the caller may manage that subtree.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in IMPORT_COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed.field("body", f"CSV 缺少列 (missing columns): {', '.join(missing)}")
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ValidationFailed.field("body", f"CSV 无法解析 (unreadable CSV): line {reader.line_num}: {exc}") from exc
    wanted = {r.get("code", "") for r in rows} | {r.get("parent_code", "") for r in rows}
    known = {r["code"]: dict(r) for r in await conn.fetch(queries.GET_MANY, list(wanted))}
    problems: list[ImportRowProblem] = []
    to_insert: list[tuple[Any, ...]] = []
    unchanged = 0
    created: set[str] = set()
    for line, raw in enumerate(rows, start=2):
        code = (raw.get("code") or "").strip()
        parent_code = (raw.get("parent_code") or "").strip()
        level = (raw.get("level") or "").strip()
        name = (raw.get("name") or "").strip()
        pop_text = (raw.get("population") or "").strip()

        def bad(reason: str, code: str = code, line: int = line) -> None:
            problems.append(ImportRowProblem(line=line, code=code or None, reason=reason))

        if not code.isdigit() or level not in CODE_LENGTH or not name or len(name) > 100:
            bad("code 须为数字，level 须为 province/city/county/street/community，name 必填 "
                "(code must be digits, level one of province/city/county/street/community, name required)")
            continue
        try:
            population = int(pop_text) if pop_text else None
            if population is not None and population < 0:
                raise ValueError
        except ValueError:
            bad("population 须为非负整数 (population must be a non-negative integer)")
            continue
        parent = known.get(parent_code)
        if parent is None:
            bad(f"上级 {parent_code} 不存在 (unknown parent {parent_code})")
            continue
        problem = _check_shape(code=code, level=level, parent_level=parent["level"], population=population)
        if problem:
            bad(problem)
            continue
        # a parent created earlier in this file was already checked against the caller's role
        if parent_code not in created and not may_manage(parent_code):
            bad(f"无权管理 {parent_code} (your role does not cover {parent_code})")
            continue
        existing = known.get(code)
        if existing is not None:
            if (existing["parent_code"], existing["level"], existing["name"], existing["population"]) == (
                    parent_code, level, name, population):
                unchanged += 1
            else:
                bad(f"代码 {code} 已存在且内容不同 (code {code} exists with other values)")
            continue
        path = f"{parent['path']}{code}/"
        county = _county_of(code=code, level=level, parent=parent)
        known[code] = {"code": code, "parent_code": parent_code, "level": level, "name": name,
                       "population": population, "path": path, "county_code": county}
        to_insert.append((code, parent_code, level, name, population, path, county))
        created.add(code)
    committed = not problems or partial
    if not committed:
        raise ValidationFailed(
            f"{len(problems)} 行有误，未导入任何行 ({len(problems)} bad rows; nothing loaded; "
            "ask for partial=true to load the good rows)",
            invalid_params=[],
            extra={"rejected": msgspec.to_builtins(problems)},
        )
    if to_insert:
        await conn.copy_records_to_table(
            "jurisdiction", records=to_insert,
            columns=["code", "parent_code", "level", "name", "population", "path", "county_code"],
        )
    report = ImportReport(loaded=len(to_insert) if committed else 0, unchanged=unchanged, rejected=problems,
                          committed=committed)
    await audit.record(conn, actor=actor, action="jurisdiction.import", subject_type="jurisdiction",
                       change={"loaded": report.loaded, "rejected": len(problems)})
    return report
