"""The roster of community workers (pseudonymous), its CSV import and export, staffing against the standard."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import asyncpg
import msgspec

from service.core import audit, exports
from service.core.audit import Actor
from service.core.clock import today
from service.core.errors import InvalidParam, NotFound, ValidationFailed
from service.core.tree import JurisdictionTree, Node, lookup, lookup_many
from service.counties.service import load_settings
from service.workers import queries
from service.workers.schemas import (
    CommunityStaffing,
    ImportRowProblem,
    StaffingHistory,
    StaffingPoint,
    StaffingReport,
    WorkerCreate,
    WorkerImportReport,
    WorkerRead,
    WorkerUpdate,
)

# 17 digits and a check character: the shape of a resident identity card number (GB 11643)
NATIONAL_ID = re.compile(r"[0-9]{17}[0-9Xx]")
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")
POSTS = ("party_committee", "residents_committee", "community_staff")
CSV_COLUMNS = ("worker_ref", "display_name", "community_code", "post", "start_date", "status", "left_date")
NO_ID_RULE = ("花名册不得存储身份证号码，请使用化名编号 "
              "(no national ID numbers in the roster: use a pseudonymous reference)")
HISTORY_METHOD = ("derived: workers in post on each date (roster start and left dates) minus those away on a "
                  "secondment that day (approved/active/overdue, or returned before its return date); "
                  "population and standard as they are today")


def looks_like_national_id(value: str) -> bool:
    return NATIONAL_ID.search(value) is not None


def _read(row: asyncpg.Record) -> WorkerRead:
    return WorkerRead(
        worker_ref=row["worker_ref"], display_name=row["display_name"], community_code=row["community_code"],
        community_name=row["community_name"], post=row["post"], start_date=row["start_date"], status=row["status"],
        left_date=row["left_date"], seconded_by_request=row["seconded_by_request"],
    )


async def get(conn: asyncpg.Connection, *, worker_ref: str) -> WorkerRead:
    row = await conn.fetchrow(queries.GET, worker_ref, today())
    if row is None:
        raise NotFound(f"社区工作者 {worker_ref} 不存在 (unknown worker {worker_ref})")
    return _read(row)


async def community_of(conn: asyncpg.Connection, *, worker_ref: str) -> str | None:
    code: str | None = await conn.fetchval(queries.COMMUNITY_OF, worker_ref)
    return code


async def list_workers(conn: asyncpg.Connection, *, jurisdiction: str, status: str | None) -> list[WorkerRead]:
    node = await lookup(conn, jurisdiction)
    if node is None:
        raise NotFound(f"行政区划 {jurisdiction} 不存在 (unknown jurisdiction {jurisdiction})")
    return [_read(r) for r in await conn.fetch(queries.LIST, node.path, today(), status)]


def _field_problems(*, worker_ref: str, display_name: str) -> list[InvalidParam]:
    found = []
    if looks_like_national_id(worker_ref):
        found.append(InvalidParam(name="worker_ref", reason="编号像是身份证号码 (looks like a national ID number)",
                                  rule=NO_ID_RULE))
    if looks_like_national_id(display_name):
        found.append(InvalidParam(name="display_name",
                                  reason="姓名中含有像身份证号码的数字 (contains what looks like a national ID number)",
                                  rule=NO_ID_RULE))
    return found


async def _community(conn: asyncpg.Connection, code: str) -> Node | None:
    node = await lookup(conn, code)
    return node if node is not None and node.level == "community" else None


async def create(conn: asyncpg.Connection, *, actor: Actor, data: WorkerCreate) -> WorkerRead:
    problems = _field_problems(worker_ref=data.worker_ref, display_name=data.display_name)
    if await _community(conn, data.community_code) is None:
        problems.append(InvalidParam(name="community_code",
                                     reason=f"社区 {data.community_code} 不存在 (unknown community)"))
    if problems:
        raise ValidationFailed("花名册记录有误 (invalid roster entry)", invalid_params=problems)
    try:
        worker_id = await conn.fetchval(queries.INSERT, data.worker_ref, data.display_name, data.community_code,
                                        data.post, data.start_date)
    except asyncpg.UniqueViolationError as exc:
        raise ValidationFailed.field("worker_ref", f"编号 {data.worker_ref} 已存在 (worker_ref already used)") from exc
    created = await get(conn, worker_ref=data.worker_ref)
    await audit.record(conn, actor=actor, action="community_worker.create", subject_type="community_worker",
                       subject_id=str(worker_id), jurisdiction=data.community_code, change=created)
    return created


async def update(conn: asyncpg.Connection, *, actor: Actor, worker_ref: str, data: WorkerUpdate) -> WorkerRead:
    before = await get(conn, worker_ref=worker_ref)
    merged = msgspec.structs.replace(
        before, **{k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET})
    problems = _field_problems(worker_ref=worker_ref, display_name=merged.display_name)
    if merged.community_code != before.community_code and await _community(conn, merged.community_code) is None:
        problems.append(InvalidParam(name="community_code",
                                     reason=f"社区 {merged.community_code} 不存在 (unknown community)"))
    if merged.status == "left" and merged.left_date is None:
        problems.append(InvalidParam(name="left_date", reason="离岗须填写离岗日期 (status left needs left_date)"))
    if merged.status == "in_post":
        merged = msgspec.structs.replace(merged, left_date=None)
    if merged.left_date is not None and merged.left_date < merged.start_date:
        problems.append(InvalidParam(name="left_date", reason="离岗日期早于入职日期 (left_date before start_date)"))
    if problems:
        raise ValidationFailed("花名册记录有误 (invalid roster entry)", invalid_params=problems)
    await conn.execute(queries.UPDATE, worker_ref, merged.display_name, merged.community_code, merged.post,
                       merged.status, merged.left_date)
    after = await get(conn, worker_ref=worker_ref)
    await audit.record(conn, actor=actor, action="community_worker.update", subject_type="community_worker",
                       subject_id=worker_ref, jurisdiction=after.community_code,
                       change={"before": msgspec.to_builtins(before), "after": msgspec.to_builtins(after)})
    return after


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def import_csv(
    conn: asyncpg.Connection, *, actor: Actor, text: str, partial: bool, may_manage: Callable[[str], bool],
    tree: JurisdictionTree | None = None,
) -> WorkerImportReport:
    """Create or update workers from CSV (worker_ref,display_name,community_code,post,start_date[,status,left_date]).

    Every row is checked and reported by line. Unless `partial`, one bad row means nothing is written.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in CSV_COLUMNS[:5] if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed.field("body", f"CSV 缺少列 (missing columns): {', '.join(missing)}")
    rows = list(reader)
    refs = [(r.get("worker_ref") or "").strip() for r in rows]
    existing = {r["worker_ref"]: r for r in await conn.fetch(queries.GET_MANY, refs)}
    codes = {(r.get("community_code") or "").strip() for r in rows}
    communities = {c for c, node in (await lookup_many(conn, codes, tree=tree)).items() if node.level == "community"}
    problems: list[ImportRowProblem] = []
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    unchanged = 0
    seen: set[str] = set()
    for line, raw in enumerate(rows, start=2):
        ref = (raw.get("worker_ref") or "").strip()
        name = (raw.get("display_name") or "").strip()
        community = (raw.get("community_code") or "").strip()
        post = (raw.get("post") or "").strip()
        start = _parse_date((raw.get("start_date") or "").strip())
        status = (raw.get("status") or "").strip() or "in_post"
        left_text = (raw.get("left_date") or "").strip()
        left = _parse_date(left_text)
        reasons: list[str] = []
        if looks_like_national_id(ref) or looks_like_national_id(name):
            reasons.append("含有像身份证号码的内容，花名册不得存储身份证号码 (looks like a national ID number; "
                           "use a pseudonymous reference)")
        elif not REF.match(ref):
            reasons.append("worker_ref 须为 3-32 位字母、数字、- 或 _ (worker_ref: 3-32 letters, digits, - or _)")
        if ref in seen:
            reasons.append(f"编号 {ref} 在文件中重复 (worker_ref repeated in the file)")
        if not name or len(name) > 50:
            reasons.append("display_name 必填，至多 50 字 (display_name required, at most 50 characters)")
        if community not in communities:
            reasons.append(f"社区 {community} 不存在 (unknown community {community})")
        elif not may_manage(community):
            reasons.append(f"无权管理 {community} (your role does not cover {community})")
        if post not in POSTS:
            reasons.append(f"post 须为 {'/'.join(POSTS)} (post must be one of {', '.join(POSTS)})")
        if start is None:
            reasons.append("start_date 须为 YYYY-MM-DD (start_date must be a date)")
        if status not in ("in_post", "left") or (status == "left") != (left is not None) or (
                left_text and left is None):
            reasons.append("status 为 in_post 或 left；left 须填 left_date (status in_post, or left with a left_date)")
        elif left is not None and start is not None and left < start:
            reasons.append("离岗日期早于入职日期 (left_date before start_date)")
        seen.add(ref)
        if reasons:
            problems.append(ImportRowProblem(line=line, worker_ref=ref or None, reason="; ".join(reasons)))
            continue
        values = (ref, name, community, post, start, status, left)
        before = existing.get(ref)
        if before is None:
            inserts.append(values)
        elif (before["display_name"], before["community_code"], before["post"], before["start_date"],
              before["status"], before["left_date"]) == values[1:]:
            unchanged += 1
        elif not may_manage(before["community_code"]):
            problems.append(ImportRowProblem(line=line, worker_ref=ref, reason=(
                f"无权管理 {before['community_code']} (your role does not cover the worker's current community)")))
        else:
            updates.append(values)
    committed = not problems or partial
    if not committed:
        raise ValidationFailed(
            f"{len(problems)} 行有误，未导入任何行 ({len(problems)} bad rows; nothing written; "
            "ask for partial=true to load the good rows)",
            invalid_params=[InvalidParam(name=f"line {p.line}", reason=p.reason) for p in problems],
            extra={"rejected": msgspec.to_builtins(problems)},
        )
    if inserts:
        await conn.executemany(queries.INSERT_MANY, inserts)
    if updates:
        await conn.executemany(queries.UPDATE_MANY, updates)
    report = WorkerImportReport(created=len(inserts), updated=len(updates), unchanged=unchanged, rejected=problems,
                                committed=committed)
    await audit.record(conn, actor=actor, action="community_worker.import", subject_type="community_worker",
                       change={"created": [v[0] for v in inserts], "updated": [v[0] for v in updates],
                               "rejected": len(problems)})
    return report


async def export_csv(conn: asyncpg.Connection, *, jurisdiction: str) -> str:
    workers = await list_workers(conn, jurisdiction=jurisdiction, status=None)
    out = io.StringIO()
    writer = exports.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for w in workers:
        writer.writerow([w.worker_ref, w.display_name, w.community_code, w.post, w.start_date.isoformat(), w.status,
                         w.left_date.isoformat() if w.left_date else ""])
    return out.getvalue()


def required_workers(*, population: int | None, per_10k: float) -> tuple[float, int]:
    standard = round(per_10k * (population or 0) / 10_000, 2)
    return standard, math.ceil(standard - 1e-9)


async def staffing(conn: asyncpg.Connection, *, jurisdiction: str, on: date | None = None) -> StaffingReport:
    node = await lookup(conn, jurisdiction)
    if node is None:
        raise NotFound(f"行政区划 {jurisdiction} 不存在 (unknown jurisdiction {jurisdiction})")
    day = on or today()
    communities = await conn.fetch(queries.COMMUNITIES_UNDER, node.path)
    counts = {r["code"]: r for r in await conn.fetch(queries.STAFFING, [c["code"] for c in communities], day)}
    per_county: dict[str, float] = {}
    rows: list[CommunityStaffing] = []
    for c in communities:
        county = c["county_code"]
        if county not in per_county:
            per_county[county] = (await load_settings(conn, county_code=county)).workers_per_10k_residents
        per_10k = per_county[county]
        standard, required = required_workers(population=c["population"], per_10k=per_10k)
        in_post, seconded = counts[c["code"]]["in_post"], counts[c["code"]]["seconded"]
        present = max(0, in_post - seconded)
        rows.append(CommunityStaffing(
            community_code=c["code"], community_name=c["name"], street_code=c["parent_code"],
            population=c["population"], workers_per_10k_residents=per_10k, standard=standard, required=required,
            in_post=in_post, seconded=seconded, present=present, shortfall=max(0, required - present),
            below_standard=present < required,
        ))
    return StaffingReport(
        jurisdiction_code=jurisdiction, on=day, communities=rows, total_present=sum(r.present for r in rows),
        total_required=sum(r.required for r in rows), communities_below_standard=sum(r.below_standard for r in rows),
    )


async def community_staffing(conn: asyncpg.Connection, *, community_code: str, on: date) -> CommunityStaffing:
    report = await staffing(conn, jurisdiction=community_code, on=on)
    if not report.communities:
        raise NotFound(f"社区 {community_code} 不存在 (unknown community {community_code})")
    return report.communities[0]


def _month_start(day: date, back: int = 0) -> date:
    months = max(day.year * 12 + day.month - 1 - back, 12)  # not before year 1
    return date(months // 12, months % 12 + 1, 1)


async def history(
    conn: asyncpg.Connection, *, community_code: str, start: date | None, end: date | None
) -> StaffingHistory:
    community = await _community(conn, community_code)
    if community is None:
        raise NotFound(f"社区 {community_code} 不存在 (unknown community {community_code})")
    last = end or today()
    first = start or _month_start(last, back=24)
    if first > last:
        raise ValidationFailed.field("from", "起始日期晚于结束日期 (from is after to)")
    if (last - first).days > 366 * 10:
        raise ValidationFailed.field("from", "至多十年 (at most ten years at a time)")
    assert community.county_code is not None  # every place below a county records it (tests/core/test_scaling.py)
    per_10k = (await load_settings(conn, county_code=community.county_code)).workers_per_10k_residents
    _, required = required_workers(population=community.population, per_10k=per_10k)
    points = []
    for r in await conn.fetch(queries.HISTORY, community_code, first, last):
        present = max(0, r["in_post"] - r["seconded"])
        points.append(StaffingPoint(on=r["on_date"], in_post=r["in_post"], seconded=r["seconded"], present=present,
                                    required=required, shortfall=max(0, required - present)))
    return StaffingHistory(community_code=community_code, community_name=community.name,
                           population=community.population, method=HISTORY_METHOD, points=points)
