"""Secondment requests: the rules, routing to the county organisation department, decisions, returns.

Outcomes of a submission:
- the requesting organ sits at county level or above: a `refused` request is written (201) with the rule
  cited, so the attempt stays on record and is counted per organ for supervisors;
- otherwise every problem with the request (bad input and broken rules alike) is listed in one 422
  problem and nothing is written but the audit event of the refusal;
- otherwise `pending_approval`, with a decision deadline in working days, for the county's
  organisation department (县委组织部).
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
import msgspec

from service.calendar import workdays
from service.core import audit
from service.core.audit import Actor
from service.core.errors import Forbidden, InvalidParam, InvalidTransition, NotFound, ValidationFailed
from service.core.schemas import within_years
from service.core.tree import Node, lookup
from service.counties.schemas import DEFAULTS as DEFAULT_SETTINGS
from service.counties.schemas import CountySettings
from service.counties.service import load_settings
from service.decisions import service as decisions
from service.notifications.outbox import enqueue
from service.secondments import borrower, queries
from service.secondments.schemas import (
    BrokenRule,
    ExtensionCreate,
    ExtensionRead,
    RefusalCount,
    RefusalCounts,
    SecondedWorker,
    SecondmentCreate,
    SecondmentDecision,
    SecondmentList,
    SecondmentRead,
    SecondmentReturn,
)
from service.workers import service as workers

SOURCE = "《中共中央办公厅 国务院办公厅关于加强社区工作者队伍建设的意见》（2024年）第17条"
RULE_TEXT = {
    "county_level_organ": "县级以上机关企事业单位不得借调社区工作者；街道（乡镇）确需借调的，按程序报请县委组织部批准。"
                          + SOURCE,
    "max_duration": "单次借调期限不得超过{n}个月。",
    "total_duration": "借调期满确需延长的，须在期满前申请，累计不得超过{n}个月。",
    "extension_before_expiry": "延期须在借调期满前申请。",
    "cooldown": "同一社区工作者借调结束后{n}个月内不得再次借调。",
    "no_overlap": "同一社区工作者不得同时参加两项借调。",
    "worker_consent": "借调须征得社区工作者本人同意。",
    "community_consent": "借调须征得所在社区同意。",
    "street_scope": "街道（乡镇）只能借调本辖区社区的社区工作者。",
    "disguised_secondment": "以借调、抽调、派驻、跟班学习、工作专班等名义将社区工作者安排到县级以上机关企事业单位"
                            "工作的，视同县级以上机关企事业单位借调，不得进行。" + SOURCE,
    "borrower_is_street_office": "街道（乡镇）确需借调的，借用单位须为本街道（乡镇）自身，不得代其他单位借调。"
                                 + SOURCE,
    "start_not_past": "批准时借调开始日期已过的，借调自批准之日起计算，此前的在岗记录不予改写。",
    "nothing_left_to_approve": "借调结束日期已过，不能批准。",
}
COUNTY_OR_ABOVE = ("national", "province", "city", "county")
LEVEL_ORDER = ("national", "province", "city", "county", "street", "community")
# state -> {state it may move to: the action that moves it}
TRANSITIONS: dict[str, dict[str, str]] = {
    "pending_approval": {"approved": "decide", "rejected": "decide", "withdrawn": "withdraw"},
    "approved": {"active": "start (daily job)", "returned": "return"},
    "active": {"returned": "return", "overdue": "end date passes (daily job)"},
    "overdue": {"returned": "return"},
    "refused": {}, "rejected": {}, "withdrawn": {}, "returned": {},
}
AWAY = ("approved", "active", "overdue")
LIST_LIMIT = 500


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who submits, as far as the rules care."""

    actor: Actor
    client_id: int | None
    organisation_level: str | None
    home_jurisdiction: str | None
    may_submit: Callable[[str], bool]
    """may the caller submit (as a street office) for this community"""
    submits_somewhere: bool
    """does the caller hold the submit permission anywhere at all"""


def add_months(day: date, months: int) -> date:
    """The same day N months later (the month's last day when it is shorter); clamped to the calendar."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if year < date.min.year:
        return date.min
    if year > date.max.year:
        return date.max
    return date(year, month + 1, min(day.day, month_calendar.monthrange(year, month + 1)[1]))


def _rule(key: str, *, detail: str | None = None, field: str | None = None, **values: Any) -> BrokenRule:
    return BrokenRule(rule=key, text=RULE_TEXT[key].format(**values), detail=detail, field=field)


def effective_level(*, declared: str, other_level: str | None, caller_level: str | None) -> str:
    """The declared level, raised to the calling client's own level: a county bureau stays a county bureau."""
    level = other_level if declared == "other" and other_level else declared
    if level == "other":
        level = "community"
    if caller_level in LEVEL_ORDER and LEVEL_ORDER.index(caller_level) < LEVEL_ORDER.index(level):
        level = caller_level
    return level


def _duration_rules(data: SecondmentCreate, settings: CountySettings) -> list[BrokenRule]:
    broken = []
    if data.end_date >= data.start_date and data.end_date > add_months(data.start_date, settings.secondment_max_months):
        broken.append(_rule("max_duration", n=settings.secondment_max_months, field="end_date",
                            detail=f"{data.start_date} 至 {data.end_date} (from {data.start_date} to {data.end_date})"))
    if settings.secondment_requires_consent:
        if not data.worker_consent:
            broken.append(_rule("worker_consent", field="worker_consent"))
        if not data.community_consent:
            broken.append(_rule("community_consent", field="community_consent"))
    return broken


def _to_read(row: asyncpg.Record) -> SecondmentRead:
    organ: dict[str, Any] = {"name": row["organ_name"], "level": row["organ_level"]}
    if row["organ_other_level"]:
        organ["other_level"] = row["organ_other_level"]
    if row["organ_type"]:
        organ["type"] = row["organ_type"]
    if row["inferred_level"]:
        organ["level_from_name"] = row["inferred_level"]
    known = {w["worker_ref"]: w["display_name"] for w in row["workers"]}
    return SecondmentRead(
        id=row["id"], status=row["status"], organ=organ, effective_level=row["effective_level"], form=row["form"],
        home_community_code=row["home_community_code"], home_community_name=row["home_community_name"],
        county_code=row["county_code"],
        workers=[SecondedWorker(worker_ref=ref, display_name=known.get(ref)) for ref in row["worker_refs"]],
        purpose=row["purpose"], start_date=row["start_date"], end_date=row["end_date"],
        worker_consent=row["worker_consent"], community_consent=row["community_consent"],
        broken_rules=msgspec.convert(row["broken_rules"], list[BrokenRule]),
        routed_to=None if row["status"] == "refused" else f"{row['county_name']}委组织部",
        decision_due=row["decision_due"],
        decided_at=row["decided_at"], decided_by=row["decided_by"], decision_reasons=row["decision_reasons"],
        staffing_warning=row["staffing_warning"], returned_on=row["returned_on"], return_note=row["return_note"],
        return_recorded_by=row["return_recorded_by"], overdue_since=row["overdue_since"],
        submitted_by=row["submitted_by"], created_at=row["created_at"],
        extensions=msgspec.convert(row["extensions"], list[ExtensionRead], strict=False),
        allowed_transitions=sorted(TRANSITIONS[row["status"]]),
        destination=row["destination"], requested_start_date=row["requested_start_date"],
    )


async def _row(conn: asyncpg.Connection, request_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(queries.GET, request_id)
    if row is None:
        raise NotFound(f"借调申请 {request_id} 不存在 (unknown secondment request {request_id})")
    return row


async def get(conn: asyncpg.Connection, *, request_id: int) -> SecondmentRead:
    return _to_read(await _row(conn, request_id))


async def domain_of(conn: asyncpg.Connection, *, request_id: int) -> str | None:
    code: str | None = await conn.fetchval(queries.DOMAIN, request_id)
    return code


def _actor_label(actor: Actor) -> str:
    return f"{actor.actor_type}:{actor.actor_id}:{actor.actor_name}" if actor.actor_id else str(actor.actor_name)


async def notify_client(
    conn: asyncpg.Connection, *, client_id: int | None, topic: str, request: SecondmentRead
) -> None:
    if client_id is None:
        return
    await enqueue(conn, client_id=client_id, topic=topic, subject_type="secondment_request",
                  subject_id=str(request.id), payload={"id": request.id, "status": request.status,
                                                       "topic": topic, "request": msgspec.to_builtins(request)})


async def _notify(conn: asyncpg.Connection, *, request_id: int, topic: str, request: SecondmentRead) -> None:
    """Tell the requesting client (if the request came from one) through the outbox."""
    client_id: int | None = await conn.fetchval(queries.CLIENT_OF, request_id)
    await notify_client(conn, client_id=client_id, topic=topic, request=request)


class Borrower(msgspec.Struct, frozen=True, kw_only=True):
    """Who really borrows: the level and type the rules apply to, and what they were read from."""

    level: str
    inferred_level: str | None
    organ_type: str
    places: list[tuple[str, str]]
    destination: tuple[str, str] | None
    """an organ at county level or above that the purpose or destination sends the worker to"""


async def borrower_of(conn: asyncpg.Connection, *, caller: Caller, data: SecondmentCreate,
                      community: Node | None) -> Borrower:
    """The declared level, the calling client's and the one the name says (against the jurisdictions
    above the home community): the highest wins."""
    where = data.home_community_code if community is not None else caller.home_jurisdiction
    places = [(r["name"], r["level"]) for r in await conn.fetch(queries.PLACES, where)] if where else []
    inferred = borrower.infer_level(data.organ.name, places)
    level = borrower.higher(effective_level(declared=data.organ.level, other_level=data.organ.other_level,
                                            caller_level=caller.organisation_level), inferred)
    return Borrower(level=level, inferred_level=inferred, places=places,
                    organ_type=data.organ.type or borrower.infer_type(data.organ.name, level),
                    destination=borrower.county_level_destination([data.destination, data.purpose], places))


async def submit(conn: asyncpg.Connection, *, caller: Caller, data: SecondmentCreate, today: date) -> SecondmentRead:
    within_years("start_date", data.start_date, today=today)
    within_years("end_date", data.end_date, today=today)
    # the same worker named twice is one secondment of that worker
    data = msgspec.structs.replace(data, workers=list(dict.fromkeys(data.workers)))
    community = await lookup(conn, data.home_community_code)
    who = await borrower_of(conn, caller=caller, data=data, community=community)
    level = who.level
    if level in COUNTY_OR_ABOVE:
        return await _refuse_county_level(conn, caller=caller, data=data, who=who, community=community,
                                          today=today)
    if who.destination is not None:
        return await _refuse_county_level(conn, caller=caller, data=data, who=who, community=community,
                                          today=today, key="disguised_secondment")
    if not caller.submits_somewhere:
        raise Forbidden("只有街道（乡镇）可以提出借调申请 (only a street/township office may request a secondment)",
                        rule=RULE_TEXT["county_level_organ"])
    problems: list[InvalidParam] = []

    def bad(name: str, reason: str, rule: str | None = None) -> None:
        problems.append(InvalidParam(name=name, reason=reason, rule=rule))

    if data.organ.level == "other" and data.organ.other_level is None:
        bad("organ.other_level", "level 为 other 时须填写 other_level (other_level is required for level other)")
    street = next((name for name, lv in who.places if lv == "street"), None)
    # (for a community of another street the scope rule below already says it)
    if community is not None and community.level == "community" and caller.may_submit(
            data.home_community_code) and not borrower.names_the_office(data.organ.name, street):
        bad("organ.name", f"借用单位“{data.organ.name}”不是{street or '本街道（乡镇）'}：街道（乡镇）只能为"
            "本街道（乡镇）借调社区工作者", RULE_TEXT["borrower_is_street_office"])
    if data.end_date < data.start_date:
        bad("end_date", f"结束日期 {data.end_date} 早于开始日期 {data.start_date} (end_date before start_date)")
    if community is None or community.level != "community":
        bad("home_community_code", f"社区 {data.home_community_code} 不存在 (unknown community)")
        county_code = None
    else:
        county_code = community.county_code
        if not caller.may_submit(data.home_community_code):
            bad("home_community_code", f"社区 {data.home_community_code} 不在本街道（乡镇）辖区内 "
                "(the community is not under your street/township office)", RULE_TEXT["street_scope"])
    if len(set(data.workers)) != len(data.workers):
        bad("workers", "同一社区工作者重复列出 (a worker is listed twice)")
    # locked: two requests for the same worker at once are checked one after the other
    found = {r["worker_ref"]: r for r in await conn.fetch(queries.WORKERS_FOR_CHECK_LOCKED, data.workers)}
    for i, ref in enumerate(data.workers):
        worker = found.get(ref)
        if worker is None:
            bad(f"workers[{i}]", f"社区工作者 {ref} 不存在 (unknown worker {ref})")
            continue
        if worker["status"] != "in_post":
            bad(f"workers[{i}]", f"社区工作者 {ref} 已离岗 (worker {ref} has left)")
        if community is not None and worker["community_code"] != data.home_community_code:
            if caller.may_submit(worker["community_code"]):
                bad(f"workers[{i}]", f"社区工作者 {ref} 不属于社区 {data.home_community_code} "
                    f"(worker {ref} belongs to another community)")
            else:
                bad(f"workers[{i}]", f"社区工作者 {ref} 属于其他街道的社区 (worker {ref} is a worker of another "
                    "street)", RULE_TEXT["street_scope"])
    settings = await load_settings(conn, county_code=county_code) if county_code else DEFAULT_SETTINGS
    broken = _duration_rules(data, settings)
    ids = [w["id"] for w in found.values()]
    for other in await conn.fetch(queries.OTHER_SECONDMENTS, ids, None):
        ref, index = other["worker_ref"], data.workers.index(other["worker_ref"])
        away_until = other["returned_on"] or other["end_date"]
        if other["status"] in ("active", "overdue") or (
                other["status"] in ("pending_approval", "approved")
                and other["start_date"] <= data.end_date and data.start_date <= other["end_date"]):
            broken.append(_rule("no_overlap", field=f"workers[{index}]", detail=(
                f"社区工作者 {ref} 已有借调 #{other['id']}（{other['status']}，{other['start_date']} 至 "
                f"{other['end_date']}） (worker {ref} is already seconded or requested: #{other['id']})")))
        # a pending one counts too: otherwise two requests months apart could both be approved
        elif other["status"] in ("pending_approval", "approved", "returned") and data.start_date < add_months(
                away_until, settings.secondment_cooldown_months):
            broken.append(_rule("cooldown", n=settings.secondment_cooldown_months, field=f"workers[{index}]",
                                detail=f"社区工作者 {ref} 上次借调 #{other['id']} 于 {away_until} 结束，"
                                       f"{add_months(away_until, settings.secondment_cooldown_months)} 前不得再借调 "
                                       f"(last secondment ended {away_until})"))
    problems += [InvalidParam(name=b.field or "body", reason=b.detail or b.text, rule=b.text) for b in broken]
    if problems:
        raise ValidationFailed(
            f"借调申请有 {len(problems)} 处问题，未予受理 ({len(problems)} problems; nothing was written)",
            invalid_params=problems, extra={"broken_rules": msgspec.to_builtins(broken)} if broken else None,
        )
    assert county_code is not None
    # enough calendar for the deadline, holidays included
    horizon = today + timedelta(days=settings.secondment_decision_working_days * 3 + 30)
    cal = await workdays.load(conn, county_code=county_code, start=today, end=horizon)
    due = cal.add_working_days(today, settings.secondment_decision_working_days)
    request_id = await conn.fetchval(
        queries.INSERT, data.home_community_code, county_code, data.home_community_code, data.organ.name,
        data.organ.level, data.organ.other_level, level, data.form, data.purpose, data.start_date, data.end_date,
        data.worker_consent, data.community_consent, data.workers, "pending_approval", [], due, caller.client_id,
        _actor_label(caller.actor), who.organ_type, who.inferred_level, data.destination,
    )
    await conn.execute(queries.LINK_WORKERS, request_id, [found[ref]["id"] for ref in data.workers])
    created = await get(conn, request_id=request_id)
    await audit.record(conn, actor=caller.actor, action="secondment.submit", subject_type="secondment_request",
                       subject_id=str(request_id), jurisdiction=data.home_community_code,
                       change=msgspec.to_builtins(data), detail={"routed_to": "县委组织部", "decision_due": str(due)})
    await notify_client(conn, client_id=caller.client_id, topic="secondment.pending_approval", request=created)
    return created


async def _refuse_county_level(
    conn: asyncpg.Connection, *, caller: Caller, data: SecondmentCreate, who: Borrower,
    community: Node | None, today: date, key: str = "county_level_organ",
) -> SecondmentRead:
    """Refused at once, and kept: the row and its audit event are the evidence supervisors count. The
    organ sits at county level or above (declared, by its token or by its name), or the purpose or
    destination sends the worker to such an organ (a disguised secondment)."""
    level = who.level
    known_community = community is not None and community.level == "community"
    home = data.home_community_code if known_community else None
    scope = home or caller.home_jurisdiction
    county = community.county_code if community is not None and known_community else None
    if county is None and scope is not None:
        place = await lookup(conn, scope)
        county = (place.county_code or place.code) if place is not None else None
    if scope is None or county is None:
        raise Forbidden("县级以上机关不得借调社区工作者 (organs at county level or above may not second community "
                        "workers)", rule=RULE_TEXT[key])
    settings = await load_settings(conn, county_code=county)
    if key == "disguised_secondment":
        assert who.destination is not None
        name, at = who.destination
        field = "destination" if data.destination and name in data.destination else "purpose"
        broken = [_rule(key, field=field, detail=(
            f"申请将社区工作者安排到{_LEVEL_ZH[at]}单位“{name}”工作，视同该单位借调 (the request sends the worker "
            f"to {name}, at {at} level: a disguised secondment)"))]
    else:
        read = "（据单位名称判定）" if who.inferred_level == level and data.organ.level != level else ""
        broken = [_rule(key, field="organ.level", detail=(
            f"申请单位 {data.organ.name} 为{_LEVEL_ZH[level]}{borrower.TYPE_ZH[who.organ_type]}{read} "
            f"(the requesting organ sits at {level} level)"))]
    broken += _duration_rules(data, settings) if data.end_date >= data.start_date else []
    request_id = await conn.fetchval(
        queries.INSERT, scope, county, home, data.organ.name, data.organ.level, data.organ.other_level, level,
        data.form, data.purpose, data.start_date, data.end_date, data.worker_consent, data.community_consent,
        data.workers, "refused", msgspec.to_builtins(broken), None, caller.client_id, _actor_label(caller.actor),
        who.organ_type, who.inferred_level, data.destination,
    )
    found = await conn.fetch(queries.WORKERS_FOR_CHECK, data.workers)
    await conn.execute(queries.LINK_WORKERS, request_id, [w["id"] for w in found])
    refused = await get(conn, request_id=request_id)
    await audit.record(conn, actor=caller.actor, action="secondment.refuse", subject_type="secondment_request",
                       subject_id=str(request_id), jurisdiction=scope, outcome="refused", status_code=201,
                       change=msgspec.to_builtins(data),
                       detail={"rule": RULE_TEXT[key], "rule_key": key, "organ": data.organ.name,
                               "effective_level": level, "organ_type": who.organ_type,
                               "inferred_level": who.inferred_level,
                               "destination": who.destination[0] if who.destination else None})
    await notify_client(conn, client_id=caller.client_id, topic="secondment.refused", request=refused)
    return refused


_LEVEL_ZH = {"national": "国家级", "province": "省级", "city": "市级", "county": "县级"}


async def _lost(conn: asyncpg.Connection, request_id: int, wanted: str) -> InvalidTransition:
    current = await conn.fetchval(queries.STATUS, request_id)
    if current is None:
        raise NotFound(f"借调申请 {request_id} 不存在 (unknown secondment request {request_id})")
    allowed = sorted(TRANSITIONS[current])
    return InvalidTransition(
        f"借调申请 #{request_id} 当前状态为 {current}，不能转为 {wanted} "
        f"(cannot move from {current} to {wanted}; allowed: {', '.join(allowed) or 'none'})",
        allowed=allowed, extra={"current_status": current},
    )


async def staffing_warning(
    conn: asyncpg.Connection, *, community_code: str, start: date, worker_count: int
) -> dict[str, Any] | None:
    """The home community's staffing on the first day, with these workers gone: a warning when below standard."""
    staffing = await workers.community_staffing(conn, community_code=community_code, on=start)
    present_after = max(0, staffing.present - worker_count)
    if present_after >= staffing.required:
        return None
    return {
        "message": (f"批准后 {staffing.community_name} 在岗社区工作者 {present_after} 人，低于配备标准 "
                    f"{staffing.required} 人（每万城镇常住人口 {staffing.workers_per_10k_residents:g} 人），"
                    f"缺 {staffing.required - present_after} 人 (after approval the community falls below "
                    "the staffing standard)"),
        "community_code": community_code, "on": start.isoformat(), "present_before": staffing.present,
        "present_after": present_after, "required": staffing.required,
        "shortfall": staffing.required - present_after,
        "workers_per_10k_residents": staffing.workers_per_10k_residents,
    }


async def decide(
    conn: asyncpg.Connection, *, actor: Actor, request_id: int, data: SecondmentDecision, today: date
) -> SecondmentRead:
    before = await get(conn, request_id=request_id)
    if before.status != "pending_approval":
        raise await _lost(conn, request_id, "approved" if data.outcome == "approve" else "rejected")
    warning = None
    status = "rejected"
    start = before.start_date
    if data.outcome == "approve":
        assert before.home_community_code is not None
        if before.end_date < today:
            raise ValidationFailed.field("end_date", f"借调结束日期 {before.end_date} 已过，不能批准 (the secondment "
                                         "would already have ended)", rule=RULE_TEXT["nothing_left_to_approve"])
        # a start already past moves to the approval date: nobody was away before anyone agreed
        start = max(before.start_date, today)
        warning = await staffing_warning(conn, community_code=before.home_community_code, start=start,
                                         worker_count=len(before.workers))
        status = "active" if start <= today else "approved"
    # the decision's document: numbered in this transaction, its number and digest in the audit event
    document = await decisions.prepare_secondment(conn, request=before, outcome=data.outcome, reasons=data.reasons,
                                                  start=start, staffing_warning=warning, on=today)
    won = await conn.fetchval(queries.DECIDE, request_id, "pending_approval", status, _actor_label(actor),
                              data.reasons, warning)
    if won is None:
        raise await _lost(conn, request_id, "approved" if data.outcome == "approve" else "rejected")
    if start != before.start_date:
        await conn.execute(queries.MOVE_START, request_id, start)
    after = await get(conn, request_id=request_id)
    action = f"secondment.{'approve' if data.outcome == 'approve' else 'reject'}"
    await audit.record(conn, actor=actor, action=action,
                       subject_type="secondment_request", subject_id=str(request_id),
                       jurisdiction=before.home_community_code,
                       change={"from": "pending_approval", "to": status, "reasons": data.reasons,
                               "staffing_warning": warning, "start_date": start.isoformat(),
                               **decisions.stamp(document)},
                       detail=None if start == before.start_date else {"start_moved": {
                           "requested": before.start_date.isoformat(), "starts": start.isoformat(),
                           "rule": RULE_TEXT["start_not_past"]}})
    await decisions.file(conn, document, action=action, subject_type="secondment_request", subject_id=request_id)
    await _notify(conn, request_id=request_id, topic=f"secondment.{status}", request=after)
    return after


async def withdraw(conn: asyncpg.Connection, *, actor: Actor, request_id: int, reason: str) -> SecondmentRead:
    won = await conn.fetchval(queries.TRANSITION, request_id, ["pending_approval"], "withdrawn")
    if won is None:
        raise await _lost(conn, request_id, "withdrawn")
    after = await get(conn, request_id=request_id)
    await audit.record(conn, actor=actor, action="secondment.withdraw", subject_type="secondment_request",
                       subject_id=str(request_id), jurisdiction=after.home_community_code,
                       change={"from": "pending_approval", "to": "withdrawn", "reason": reason})
    await _notify(conn, request_id=request_id, topic="secondment.withdrawn", request=after)
    return after


async def record_return(
    conn: asyncpg.Connection, *, actor: Actor, request_id: int, data: SecondmentReturn, today: date
) -> SecondmentRead:
    before = await get(conn, request_id=request_id)
    returned_on = data.returned_on or today
    problems = []
    if returned_on > today:
        problems.append(InvalidParam(name="returned_on", reason="返岗日期不能晚于今天 (returned_on is in the future)"))
    if returned_on < before.start_date:
        problems.append(InvalidParam(name="returned_on",
                                     reason=f"返岗日期早于借调开始日期 {before.start_date} (before the start)"))
    if problems and before.status in ("approved", "active", "overdue"):
        raise ValidationFailed("返岗信息有误 (invalid return)", invalid_params=problems)
    won = await conn.fetchval(queries.RETURN, request_id, returned_on, _actor_label(actor),
                              ["approved", "active", "overdue"], data.note.strip())
    if won is None:
        raise await _lost(conn, request_id, "returned")
    after = await get(conn, request_id=request_id)
    await audit.record(conn, actor=actor, action="secondment.return", subject_type="secondment_request",
                       subject_id=str(request_id), jurisdiction=after.home_community_code,
                       change={"from": before.status, "to": "returned", "returned_on": returned_on.isoformat(),
                               "note": data.note, "late": returned_on > before.end_date})
    await _notify(conn, request_id=request_id, topic="secondment.returned", request=after)
    return after


async def request_extension(
    conn: asyncpg.Connection, *, actor: Actor, request_id: int, data: ExtensionCreate, today: date
) -> SecondmentRead:
    before = await get(conn, request_id=request_id)
    if before.status not in ("approved", "active"):
        raise InvalidTransition(
            f"只有已批准或借调中的申请可以延期，当前状态 {before.status} (only an approved or active secondment can "
            "be extended)", allowed=sorted(TRANSITIONS[before.status]), extra={"current_status": before.status})
    settings = await load_settings(conn, county_code=before.county_code)
    broken = []
    if today > before.end_date:
        broken.append(_rule("extension_before_expiry", field="new_end_date",
                            detail=f"借调已于 {before.end_date} 期满 (expired on {before.end_date})"))
    if data.new_end_date <= before.end_date:
        raise ValidationFailed.field("new_end_date", f"新的结束日期须晚于 {before.end_date} (must be later than the "
                                     "current end date)")
    if data.new_end_date > add_months(before.start_date, settings.secondment_total_max_months):
        broken.append(_rule("total_duration", n=settings.secondment_total_max_months, field="new_end_date",
                            detail=f"{before.start_date} 至 {data.new_end_date} 超过 "
                                   f"{settings.secondment_total_max_months} 个月"))
    if broken:
        raise ValidationFailed(
            f"延期申请有 {len(broken)} 处问题，未予受理 ({len(broken)} problems; nothing was written)",
            invalid_params=[InvalidParam(name=b.field or "body", reason=b.detail or b.text, rule=b.text)
                            for b in broken], extra={"broken_rules": msgspec.to_builtins(broken)})
    try:
        extension_id = await conn.fetchval(queries.INSERT_EXTENSION, request_id, before.end_date, data.new_end_date,
                                           data.reason, _actor_label(actor))
    except asyncpg.UniqueViolationError as exc:
        raise InvalidTransition("已有待审批的延期申请 (an extension is already awaiting a decision)",
                                allowed=[]) from exc
    after = await get(conn, request_id=request_id)
    await audit.record(conn, actor=actor, action="secondment.extension_request", subject_type="secondment_request",
                       subject_id=str(request_id), jurisdiction=before.home_community_code,
                       change={"extension_id": extension_id, "from_end": before.end_date.isoformat(),
                               "to_end": data.new_end_date.isoformat(), "reason": data.reason})
    await _notify(conn, request_id=request_id, topic="secondment.extension_requested", request=after)
    return after


async def decide_extension(
    conn: asyncpg.Connection, *, actor: Actor, request_id: int, extension_id: int, data: SecondmentDecision
) -> SecondmentRead:
    extension = await conn.fetchrow(queries.GET_EXTENSION, extension_id, request_id)
    if extension is None:
        raise NotFound(f"延期申请 {extension_id} 不存在 (unknown extension {extension_id})")
    status = "approved" if data.outcome == "approve" else "rejected"
    won = await conn.fetchval(queries.DECIDE_EXTENSION, extension_id, request_id, status, _actor_label(actor),
                              data.reasons)
    if won is None:
        raise InvalidTransition(f"延期申请已是 {extension['status']} (the extension is already {extension['status']})",
                                allowed=[], extra={"current_status": extension["status"]})
    if status == "approved":
        applied = await conn.fetchval(queries.APPLY_EXTENSION, request_id, extension["requested_end"],
                                      extension["previous_end"])
        if applied is None:
            raise await _lost(conn, request_id, "extended")
    after = await get(conn, request_id=request_id)
    verb = "approve" if status == "approved" else "reject"
    await audit.record(conn, actor=actor, action=f"secondment.extension_{verb}", subject_type="secondment_request",
                       subject_id=str(request_id),
                       jurisdiction=after.home_community_code,
                       change={"extension_id": extension_id, "status": status, "reasons": data.reasons,
                               "end_date": after.end_date.isoformat()})
    await _notify(conn, request_id=request_id, topic=f"secondment.extension_{status}", request=after)
    return after


STATES = {
    "active": ["active"], "overdue": ["overdue"], "past": ["returned"], "pending": ["pending_approval"],
    "current": ["approved", "active", "overdue"],
}


async def list_requests(
    conn: asyncpg.Connection, *, jurisdiction: str, state: str | None, organ: str | None, worker: str | None,
) -> SecondmentList:
    place = await lookup(conn, jurisdiction)  # the database's path (a move reaches the tree a moment later)
    if place is None:
        raise NotFound(f"行政区划 {jurisdiction} 不存在 (unknown jurisdiction {jurisdiction})")
    statuses = None if state is None else STATES.get(state, [state])
    rows = await conn.fetch(queries.LIST, place.path, statuses, organ, worker, LIST_LIMIT + 1)
    return SecondmentList(items=[_to_read(r) for r in rows[:LIST_LIMIT]], truncated=len(rows) > LIST_LIMIT)


async def refusals_by_organ(conn: asyncpg.Connection, *, jurisdiction: str) -> RefusalCounts:
    place = await lookup(conn, jurisdiction)  # the database's path (a move reaches the tree a moment later)
    if place is None:
        raise NotFound(f"行政区划 {jurisdiction} 不存在 (unknown jurisdiction {jurisdiction})")
    organs = [RefusalCount(**dict(r)) for r in await conn.fetch(queries.REFUSALS_BY_ORGAN, place.path)]
    return RefusalCounts(jurisdiction_code=jurisdiction, organs=organs, total=sum(o.refused for o in organs))
