"""Admission requests: submission, screening, routing per county, transitions, decisions.

Every change of state goes through `_record`: a timestamped transition row, an audit event and, for
the request's department, an outbox row, all in the caller's transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec

from service.admission import listing, queries
from service.admission.context import UNCACHED, ScreeningSource
from service.admission.schemas import (
    AdmissionRequestPage,
    AdmissionRequestRead,
    AdmissionRequestSummary,
    AdmissionSubmission,
    CallbackRead,
    Decision,
    DeliveryRead,
    Finding,
    LinkedRequest,
    Revocation,
    Screening,
    ScreeningRuleCreate,
    ScreeningRuleRead,
    TransitionRead,
)
from service.admission.screening import screen
from service.core import audit
from service.core.audit import Actor
from service.core.clock import CHINA, today
from service.core.db import write_together
from service.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from service.core.schemas import within_years
from service.core.tree import JurisdictionTree, lookup, lookup_many
from service.decisions import service as decisions
from service.notifications import addresses, outbox
from service.notifications.delivery import standard_secret
from service.policy import plaques
from service.policy.apply import check_text, rule_definition, validate_county_rule
from service.policy.engine import Engine, default_engine

OPEN = ("submitted", "in_review")
ALLOWED: dict[str, list[str]] = {
    "draft": ["submitted", "withdrawn"],
    "submitted": ["in_review", "withdrawn"],
    "in_review": ["approved", "rejected", "returned", "withdrawn"],
    "returned": ["resubmitted", "withdrawn"],
    "approved": ["revoked"],
}
VERB = {"draft": "draft", "submitted": "submit", "refused": "refuse", "in_review": "start_review",
        "approved": "approve", "rejected": "reject", "returned": "return", "withdrawn": "withdraw",
        "resubmitted": "resubmit", "revoked": "revoke"}


class Submitter(msgspec.Struct, frozen=True):
    subject: str
    client_id: int | None
    department: str
    organisation_level: str | None = None


# ---- reading ----

def _screening(row: asyncpg.Record) -> Screening | None:
    if row["verdict"] is None:
        return None
    return Screening(verdict=row["verdict"], findings=msgspec.convert(row["findings"], list[Any]))


def _overdue(row: Any) -> bool:
    return row["status"] in OPEN and row["decision_due"] is not None and row["decision_due"] < today()


async def to_read(conn: asyncpg.Connection, row: asyncpg.Record,
                  linked: list[asyncpg.Record] | None = None) -> AdmissionRequestRead:
    """`linked`: the other requests of the group when the caller knows them (a fresh submission)."""
    if linked is None:
        linked = await conn.fetch(queries.LINKED, row["group_id"], row["id"])
    return AdmissionRequestRead(
        id=row["id"], group_id=row["group_id"], revision=row["revision"], previous_id=row["previous_id"],
        status=row["status"], county_code=row["county_code"], reviewing_body=row["reviewing_body"],
        department=row["department"], targets=list(row["targets"]), kind=row["kind"], list=row["list_name"],
        title=row["title"], screening=_screening(row), decision_due=row["decision_due"], overdue=_overdue(row),
        submitted_at=row["submitted_at"], decided_at=row["decided_at"], decision_reason=row["decision_reason"],
        effective_from=row["effective_from"], item_code=row["item_code"],
        allowed_transitions=ALLOWED.get(row["status"], []),
        linked=[LinkedRequest(id=r["id"], county_code=r["county_code"], status=r["status"]) for r in linked],
        submission=row["body"], created_at=row["created_at"], updated_at=row["updated_at"],
    )


async def _row(conn: asyncpg.Connection, request_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(queries.GET_REQUEST, request_id)
    if row is None:
        raise NotFound(f"准入申请 {request_id} 不存在 (admission request {request_id} not found)")
    return row


async def visible(conn: asyncpg.Connection, *, request_id: int, subject: str,
                  may_review: Callable[[str], bool]) -> asyncpg.Record:
    """The request if the caller submitted it, or reviews its county and it was submitted (a draft, and a
    draft withdrawn unsent, are the author's only); otherwise 404, so nothing leaks."""
    row = await _row(conn, request_id)
    if row["submitter"] != subject and (row["submitted_at"] is None or not may_review(row["county_code"])):
        raise NotFound(f"准入申请 {request_id} 不存在 (admission request {request_id} not found)")
    return row


async def request_county(conn: asyncpg.Connection, *, request_id: int) -> str | None:
    """The county of an admission request (None: no such request), for the guard."""
    code: str | None = await conn.fetchval(queries.REQUEST_COUNTY, request_id)
    return code


async def rule_county(conn: asyncpg.Connection, *, rule_id: int) -> str | None:
    """The county of a screening rule (None: no such rule, or a national one), for the guard."""
    code: str | None = await conn.fetchval(queries.RULE_COUNTY, rule_id)
    return code


async def _own(conn: asyncpg.Connection, *, request_id: int, subject: str) -> asyncpg.Record:
    row = await _row(conn, request_id)
    if row["submitter"] != subject:
        raise NotFound(f"准入申请 {request_id} 不存在 (admission request {request_id} not found)")
    return row


async def get(conn: asyncpg.Connection, *, request_id: int, subject: str,
              may_review: Callable[[str], bool]) -> AdmissionRequestRead:
    return await to_read(conn, await visible(conn, request_id=request_id, subject=subject, may_review=may_review))


async def list_requests(
    conn: asyncpg.Connection, *, subject: str, review_counties: list[str], status: str | None,
    county_code: str | None, overdue: bool, before: int | None, limit: int,
) -> AdmissionRequestPage:
    rows = await conn.fetch(queries.LIST, subject, review_counties, status, county_code, overdue, today(), before,
                            limit + 1)
    items = [AdmissionRequestSummary(
        id=r["id"], group_id=r["group_id"], revision=r["revision"], status=r["status"],
        county_code=r["county_code"], targets=r["targets"], department=r["department"], title=r["title"],
        verdict=r["verdict"],
        decision_due=r["decision_due"], overdue=_overdue(r), submitted_at=r["submitted_at"]) for r in rows[:limit]]
    return AdmissionRequestPage(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


async def history(conn: asyncpg.Connection, *, row: asyncpg.Record) -> list[TransitionRead]:
    return [TransitionRead(**dict(r)) for r in await conn.fetch(queries.HISTORY, row["id"])]


async def deliveries(conn: asyncpg.Connection, *, row: asyncpg.Record) -> list[DeliveryRead]:
    return [DeliveryRead(**dict(r)) for r in await conn.fetch(queries.DELIVERIES, str(row["id"]))]


# ---- writing ----

def _who(actor: Actor) -> str:
    return f"{actor.actor_type}:{actor.actor_id or actor.actor_name}"


async def _record(conn: asyncpg.Connection, *, actor: Actor, row: asyncpg.Record, from_status: str | None,
                  reason: str | None = None, change: dict[str, Any] | None = None,
                  transition_written: bool = False) -> None:
    to_status = row["status"]
    if not transition_written:
        await conn.execute(queries.INSERT_TRANSITION, row["id"], from_status, to_status, _who(actor), reason)
    event = audit.statement(actor=actor, action=f"admission.{VERB[to_status]}", subject_type="admission_request",
                            subject_id=str(row["id"]), jurisdiction=row["county_code"],
                            change={"from": from_status, "to": to_status, "reason": reason, **(change or {})})
    delivery = None
    if row["client_id"] is not None and to_status != "draft":
        due = row["decision_due"]
        delivery = outbox.statement(client_id=row["client_id"], topic="admission_request.status",
                                    subject_type="admission_request", subject_id=str(row["id"]), payload={
                                        "event": "admission_request.status_changed", "request_id": row["id"],
                                        "group_id": row["group_id"], "revision": row["revision"],
                                        "county_code": row["county_code"], "title": row["title"],
                                        "from": from_status, "status": to_status, "reason": reason,
                                        "verdict": row["verdict"], "decision_due": due.isoformat() if due else None,
                                        "item_code": row["item_code"] if to_status == "approved" else None,
                                        "at": row["updated_at"].isoformat(),
                                    })
    # the audit event and the department's notification: one round trip, in the decision's transaction
    await write_together(conn, event, delivery)


async def _route(conn: asyncpg.Connection, targets: list[str],
                 tree: JurisdictionTree | None = None) -> dict[str, list[str]]:
    """Targets grouped by county; each must be a known county, street or community.

    With the process's jurisdiction tree (kept current by the `jurisdictions` topic), no query for a
    code it holds."""
    wanted = list(dict.fromkeys(targets))
    nodes = await lookup_many(conn, wanted, tree=tree)
    by_county: dict[str, list[str]] = {}
    for code in wanted:
        node = nodes.get(code)
        if node is None or node.level not in ("county", "street", "community") or node.county_code is None:
            raise ValidationFailed.field("targets", f"{code} 不是已知的县、街道或社区 (not a known county, street or "
                                         "community)", rule="admission.targets")
        by_county.setdefault(node.county_code, []).append(code)
    return by_county


async def screen_request(conn: asyncpg.Connection, *, data: AdmissionSubmission, county_code: str,
                         source: ScreeningSource, lang: str = "zh",
                         submitter_level: str | None = None) -> tuple[Screening, Any]:
    """`submitter_level`: the submitting client's organisation level (the owner of an app that names none)."""
    day = today()
    context = await source.county(conn, county_code, day)
    similar = await source.similar(conn, county_code, data.title, data.content)
    reports = (await listing.listed_report_forms(conn, county_code=county_code, today=day)
               if data.report_form is not None else [])
    result = screen(data, rules=context.rules, settings=context.settings, calendar=context.calendar, today=day,
                    similar=similar, listed_reports=reports, engine=context.engine, lang=lang,
                    submitter_level=submitter_level)
    return await _screen_plaques(conn, result, data=data, county_code=county_code, context=context, day=day), context


async def _screen_plaques(conn: asyncpg.Connection, result: Screening, *, data: AdmissionSubmission,
                          county_code: str, context: Any, day: datetime.date) -> Screening:
    """Boards the request would hang outside, against the county's limit, and the working mechanisms it would
    set up under another kind (service/policy/plaques.py)."""
    mechanisms = ([] if (data.kind, data.list) == ("plaque", "mechanism")
                  else plaques.mechanisms_in_text(f"{data.title}。{data.content}"))
    if mechanisms:
        flag = Finding(rule=plaques.MECHANISM_RULE, severity="flag", message=plaques.mechanism_finding(mechanisms),
                       cited={"mechanisms": mechanisms, "list": "plaque:mechanism", "document": plaques.CITATION})
        result = Screening(verdict="refused" if result.verdict == "refused" else "flagged",
                           findings=[*result.findings, flag])
    adding = plaques.boards_of(data.kind, data.list, data.title, data.content)
    if adding <= 0:
        return result
    existing = await listing.exterior_plaques(conn, county_code=county_code, today=day)
    allowed = context.settings.exterior_plaques_max
    reason = plaques.over_limit(existing=existing, adding=adding, allowed=allowed)
    if reason is None:
        return result
    finding = Finding(rule=plaques.RULE, severity="refuse", message=reason,
                      cited={"existing": existing, "adding": adding, "allowed": allowed, "document": plaques.CITATION})
    return Screening(verdict="refused", findings=[*result.findings, finding])


async def check(conn: asyncpg.Connection, *, data: AdmissionSubmission, may_submit: Callable[[str], bool],
                source: ScreeningSource = UNCACHED, tree: JurisdictionTree | None = None,
                lang: str = "zh", submitter_level: str | None = None) -> dict[str, Screening]:
    """Screen a matter without storing it: one result per county its targets fall in."""
    _check_targets(data.targets, may_submit)
    by_county = await _route(conn, data.targets, tree)
    out: dict[str, Screening] = {}
    for county_code in sorted(by_county):
        out[county_code], _ = await screen_request(conn, data=data, county_code=county_code, source=source,
                                                   lang=lang, submitter_level=submitter_level)
    return out


async def _create(
    conn: asyncpg.Connection, *, actor: Actor, submitter: Submitter, data: AdmissionSubmission, county_code: str,
    targets: list[str], draft: bool, group_id: int | None, revision: int, previous_id: int | None,
    source: ScreeningSource,
) -> asyncpg.Record:
    body = msgspec.to_builtins(data)
    body["targets"] = targets
    if draft:
        context = await source.county(conn, county_code, today())
        status, verdict, findings, due = "draft", None, [], None
    else:
        screening, context = await screen_request(conn, data=data, county_code=county_code, source=source,
                                                  submitter_level=submitter.organisation_level)
        verdict, findings = screening.verdict, msgspec.to_builtins(screening.findings)
        status = "refused" if verdict == "refused" else "submitted"
        due = (context.calendar.add_working_days(today(), context.settings.decision_working_days)
               if status == "submitted" else None)
    reason = _refusal_reason(status, findings)
    row = await conn.fetchrow(
        queries.INSERT_REQUEST, group_id, revision, previous_id, submitter.subject, submitter.client_id,
        submitter.department, county_code, targets, context.settings.reviewing_body, status, data.kind, data.list,
        data.title, body, verdict, findings, due, _who(actor), reason,
    )
    await _record(conn, actor=actor, row=row, from_status=None, reason=reason,
                  change={"targets": targets, "verdict": verdict}, transition_written=True)
    return row


def _refusal_reason(status: str, findings: list[Any]) -> str | None:
    if status != "refused":
        return None
    return "；".join(f"[{f['rule']}] {f['message']}" for f in findings if f["severity"] == "refuse")


def _check_dates(data: AdmissionSubmission) -> None:
    """A matter starts and ends within ten years of today (a year 9999 is a typo, not a plan)."""
    day = today()
    within_years("start_date", data.start_date, today=day)
    if data.end_date is not None:
        within_years("end_date", data.end_date, today=day)


def _check_targets(targets: list[str], may_submit: Callable[[str], bool]) -> None:
    denied = [code for code in targets if not may_submit(code)]
    if denied:
        raise Forbidden(f"无权向 {', '.join(denied)} 提交准入申请 (your role does not cover these targets)",
                        rule="admission.target-not-covered")


async def submit(
    conn: asyncpg.Connection, *, actor: Actor, submitter: Submitter, data: AdmissionSubmission, draft: bool,
    may_submit: Callable[[str], bool], source: ScreeningSource = UNCACHED, tree: JurisdictionTree | None = None,
) -> AdmissionRequestRead:
    """Save a draft or submit; targets in several counties become one linked request per county."""
    _check_dates(data)
    _check_targets(data.targets, may_submit)
    by_county = await _route(conn, data.targets, tree)
    group_id: int | None = None
    created: list[asyncpg.Record] = []
    for county_code in sorted(by_county):
        row = await _create(conn, actor=actor, submitter=submitter, data=data, county_code=county_code,
                            targets=by_county[county_code], draft=draft, group_id=group_id, revision=1,
                            previous_id=None, source=source)
        group_id = row["group_id"]
        created.append(row)
    return await to_read(conn, created[0], linked=created[1:])


async def _one_county(conn: asyncpg.Connection, *, row: asyncpg.Record, data: AdmissionSubmission) -> list[str]:
    by_county = await _route(conn, data.targets)
    if set(by_county) != {row["county_code"]}:
        raise ValidationFailed.field("targets", f"修改后的目标须仍在 {row['county_code']} 县内 (a revision keeps its "
                                     "county; submit a new request for another county)", rule="admission.same-county")
    return by_county[row["county_code"]]


async def edit_draft(conn: asyncpg.Connection, *, actor: Actor, subject: str, request_id: int,
                     data: AdmissionSubmission, may_submit: Callable[[str], bool]) -> AdmissionRequestRead:
    row = await _own(conn, request_id=request_id, subject=subject)
    _check_targets(data.targets, may_submit)
    targets = await _one_county(conn, row=row, data=data)
    body = msgspec.to_builtins(data)
    body["targets"] = targets
    updated = await conn.fetchrow(queries.UPDATE_DRAFT, request_id, targets, data.kind, data.list, data.title, body)
    if updated is None:
        raise InvalidTransition(f"已提交的申请不能修改 (a {row['status']} request is frozen; amendments come as a new "
                                "revision after a return)", allowed=ALLOWED.get(row["status"], []))
    await audit.record(conn, actor=actor, action="admission.edit_draft", subject_type="admission_request",
                       subject_id=str(request_id), jurisdiction=row["county_code"], change=body)
    return await to_read(conn, updated)


async def submit_draft(conn: asyncpg.Connection, *, actor: Actor, subject: str, request_id: int,
                       source: ScreeningSource = UNCACHED) -> AdmissionRequestRead:
    row = await _own(conn, request_id=request_id, subject=subject)
    if row["status"] != "draft":
        raise InvalidTransition(f"状态为 {row['status']} 的申请不能提交 (only a draft can be submitted)",
                                allowed=ALLOWED.get(row["status"], []))
    data = msgspec.convert(row["body"], AdmissionSubmission)
    level = await conn.fetchval(queries.CLIENT_LEVEL, row["client_id"]) if row["client_id"] is not None else None
    screening, context = await screen_request(conn, data=data, county_code=row["county_code"], source=source,
                                              submitter_level=level)
    status = "refused" if screening.verdict == "refused" else "submitted"
    due = (context.calendar.add_working_days(today(), context.settings.decision_working_days)
           if status == "submitted" else None)
    updated = await conn.fetchrow(queries.SUBMIT_DRAFT, request_id, status, screening.verdict,
                                  msgspec.to_builtins(screening.findings), due, context.settings.reviewing_body)
    if updated is None:  # submitted concurrently
        current = await _row(conn, request_id)
        raise InvalidTransition(f"状态为 {current['status']} 的申请不能提交 (only a draft can be submitted)",
                                allowed=ALLOWED.get(current["status"], []))
    await _record(conn, actor=actor, row=updated, from_status="draft",
                  reason=_refusal_reason(updated["status"], updated["findings"]))
    return await to_read(conn, updated)


async def _transition(
    conn: asyncpg.Connection, *, actor: Actor, request_id: int, to: str, reason: str | None = None,
    effective_from: datetime.date | None = None, item_code: str | None = None,
    change: dict[str, Any] | None = None,
) -> tuple[asyncpg.Record, str]:
    expected = [state for state, nexts in ALLOWED.items() if to in nexts]
    who = _who(actor) if to in ("approved", "rejected", "returned") else None
    row = await conn.fetchrow(queries.TRANSITION, request_id, to, expected, who, reason, effective_from, item_code)
    if row is None:
        current = await _row(conn, request_id)
        allowed = ALLOWED.get(current["status"], [])
        raise InvalidTransition(
            f"状态为 {current['status']} 的申请不能转为 {to} (a {current['status']} request cannot become {to}; "
            f"allowed: {', '.join(allowed) or 'none'})", allowed=allowed, extra={"status": current["status"]})
    before: str = row["previous_status"]
    await _record(conn, actor=actor, row=row, from_status=before, reason=reason, change=change)
    return row, before


async def start_review(conn: asyncpg.Connection, *, actor: Actor, request_id: int) -> AdmissionRequestRead:
    row, _ = await _transition(conn, actor=actor, request_id=request_id, to="in_review")
    return await to_read(conn, row)


async def decide(conn: asyncpg.Connection, *, actor: Actor, request_id: int, decision: Decision,
                 organisation_level: Callable[[int | None], Any] | None = None) -> AdmissionRequestRead:
    if decision.outcome in ("rejected", "returned") and not (decision.reason and decision.reason.strip()):
        raise ValidationFailed.field("reason", "驳回或退回须说明理由 (a rejection or return carries the reviewer's "
                                     "reasons)", rule="admission.reason-required")
    # the findings the reviewer acknowledged are kept with the decision (its audit event)
    acknowledged = ({"acknowledged_findings": sorted(set(decision.acknowledged_findings))}
                    if decision.acknowledged_findings is not None else None)
    current = await _row(conn, request_id)
    if decision.outcome != "approved":
        # the decision's document: numbered in this transaction, its number and digest in the audit event
        document = await decisions.prepare_admission(
            conn, row=current, outcome=decision.outcome, reason=decision.reason, effective_from=None, item_code=None,
            acknowledged=(acknowledged or {}).get("acknowledged_findings"), on=today())
        row, _ = await _transition(conn, actor=actor, request_id=request_id, to=decision.outcome,
                                   reason=decision.reason, change={**(acknowledged or {}), **decisions.stamp(document)})
        action = {"rejected": "admission.reject", "returned": "admission.return"}[decision.outcome]
        await decisions.file(conn, document, action=action,
                             subject_type="admission_request", subject_id=request_id)
        return await to_read(conn, row)
    code = (current["body"].get("item_code") or f"adm-{request_id}")
    effective = decision.effective_from or today()
    submitted = current["submitted_at"].astimezone(CHINA).date() if current["submitted_at"] is not None else None
    if submitted is not None and effective < submitted:
        raise ValidationFailed.field("effective_from", f"生效日期不得早于申请提交日期 {submitted.isoformat()} "
                                     "(effective_from cannot precede the submission)", rule="admission.effective-from")
    within_years("effective_from", effective, today=today())
    document = await decisions.prepare_admission(
        conn, row=current, outcome="approved", reason=decision.reason, effective_from=effective, item_code=code,
        acknowledged=(acknowledged or {}).get("acknowledged_findings"), on=today())
    row, _ = await _transition(conn, actor=actor, request_id=request_id, to="approved", reason=decision.reason,
                               effective_from=effective, item_code=code,
                               change={**(acknowledged or {}), **decisions.stamp(document)})
    await decisions.file(conn, document, action="admission.approve", subject_type="admission_request",
                         subject_id=request_id)
    level = None
    if row["client_id"] is not None:
        level = await conn.fetchval(queries.CLIENT_LEVEL, row["client_id"])
    await listing.admit(conn, actor=actor, row=row, code=code, organisation_level=level, effective_from=effective,
                        today=today())
    return await to_read(conn, row)


async def revoke(conn: asyncpg.Connection, *, actor: Actor, request_id: int, data: Revocation) -> AdmissionRequestRead:
    row, _ = await _transition(conn, actor=actor, request_id=request_id, to="revoked", reason=data.reason)
    await listing.retire(conn, actor=actor, row=row, effective_from=data.effective_from or today(),
                         reason=data.reason)
    return await to_read(conn, row)


async def withdraw(conn: asyncpg.Connection, *, actor: Actor, subject: str, request_id: int,
                   reason: str | None) -> AdmissionRequestRead:
    await _own(conn, request_id=request_id, subject=subject)
    row, _ = await _transition(conn, actor=actor, request_id=request_id, to="withdrawn", reason=reason)
    return await to_read(conn, row)


async def resubmit(
    conn: asyncpg.Connection, *, actor: Actor, submitter: Submitter, request_id: int, data: AdmissionSubmission,
    may_submit: Callable[[str], bool], source: ScreeningSource = UNCACHED,
) -> AdmissionRequestRead:
    """A returned request comes back as a new revision (screened again); the old one is closed."""
    old = await _own(conn, request_id=request_id, subject=submitter.subject)
    _check_targets(data.targets, may_submit)
    targets = await _one_county(conn, row=old, data=data)
    closed, _ = await _transition(conn, actor=actor, request_id=request_id, to="resubmitted",
                                  reason="修改后重新提交 (resubmitted as a new revision)")
    row = await _create(conn, actor=actor, submitter=submitter, data=data, county_code=old["county_code"],
                        targets=targets, draft=False, group_id=closed["group_id"], revision=closed["revision"] + 1,
                        previous_id=closed["id"], source=source)
    return await to_read(conn, row)


# ---- idempotency ----

def body_digest(value: Any) -> str:
    return hashlib.sha256(msgspec.json.encode(msgspec.to_builtins(value), order="sorted")).hexdigest()


async def claim_key(conn: asyncpg.Connection, *, subject: str, key: str, digest: str) -> tuple[int, Any] | None:
    """None: the key is new and now held by this transaction. Otherwise the first answer.

    A concurrent retry with the same key waits on the unique index until the first commits.
    """
    if await conn.fetchval(queries.CLAIM_KEY, subject, key, digest) is not None:
        return None
    row = await conn.fetchrow(queries.GET_KEY, subject, key)
    if row is None:  # the first attempt rolled back between our two statements: try once more
        if await conn.fetchval(queries.CLAIM_KEY, subject, key, digest) is not None:
            return None
        raise Conflict("同一幂等键的请求正在处理 (a request with this Idempotency-Key is in progress)")
    if row["body_digest"] != digest:
        raise ValidationFailed.field("Idempotency-Key", "该幂等键已用于内容不同的请求 (this Idempotency-Key was used "
                                     "with a different body)", rule="admission.idempotency-key-reused")
    return row["status_code"], row["response"]


async def store_key(conn: asyncpg.Connection, *, subject: str, key: str, status_code: int, response: Any) -> None:
    await conn.execute(queries.STORE_KEY, subject, key, status_code, msgspec.to_builtins(response))


# ---- screening rules ----

def _rule(row: asyncpg.Record) -> ScreeningRuleRead:
    return ScreeningRuleRead(**dict(row))


async def list_rules(conn: asyncpg.Connection, *, county_code: str | None) -> list[ScreeningRuleRead]:
    return [_rule(r) for r in await conn.fetch(queries.RULES, [county_code] if county_code else [])]


async def add_rule(conn: asyncpg.Connection, *, actor: Actor, data: ScreeningRuleCreate,
                   tree: JurisdictionTree | None = None) -> ScreeningRuleRead:
    county = await lookup(conn, data.county_code, tree=tree)
    if county is None or county.level != "county":
        raise ValidationFailed.field("county_code", f"{data.county_code} 不是县级行政区 (not a county)")
    definition: dict[str, Any] | None = None
    pattern = data.pattern
    for name, value in (("pattern", pattern), ("message", data.message)):
        check_text(name, value)
    if data.match_type == "policy":
        if not data.definition:
            raise ValidationFailed.field("definition", "policy 规则须给出 definition（规则的词组、示例）",
                                         rule="policy.rule-invalid")
        definition = {**data.definition, "id": data.rule, "severity": data.definition.get("severity", data.severity),
                      "message": data.definition.get("message", data.message)}
        pattern = pattern or data.rule
    elif pattern is None:
        raise ValidationFailed.field("pattern", f"{data.match_type} 规则须给出 pattern", rule="admission.rule-pattern")
    if data.match_type != "category":
        # proved against its examples (a phrase: that it is found, and not where it is negated) before storing
        validate_county_rule(definition or rule_definition(
            {"rule": data.rule, "match_type": data.match_type, "pattern": pattern, "severity": data.severity,
             "message": data.message}), county_code=data.county_code)
    who = _who(actor)
    try:
        row = await conn.fetchrow(queries.INSERT_RULE, data.county_code, data.rule, data.match_type, pattern,
                                  data.severity, data.message, who, definition)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"该县已有相同的规则 ({data.match_type} {pattern})") from exc
    rule = _rule(row)
    await audit.record(conn, actor=actor, action="admission.rule_add", subject_type="screening_rule",
                       subject_id=str(rule.id), jurisdiction=data.county_code, change=data)
    return rule


async def retire_rule(conn: asyncpg.Connection, *, actor: Actor, rule_id: int) -> ScreeningRuleRead:
    row = await conn.fetchrow(queries.RETIRE_RULE, rule_id)
    if row is None:
        raise NotFound(f"规则 {rule_id} 不存在或不属于某县 (no county rule {rule_id})")
    rule = _rule(row)
    await audit.record(conn, actor=actor, action="admission.rule_retire", subject_type="screening_rule",
                       subject_id=str(rule_id), jurisdiction=rule.county_code, change={"retired": True})
    return rule


async def sync_rules_file(conn: asyncpg.Connection, *, rules: list[Any], engine: Engine | None = None) -> None:
    """The national rules into the table (idempotent): the category rows of policies/admission_screening.csv
    and the policy engine's rules (listed, with their definition; screening reads them from the engine)."""
    await conn.executemany(queries.SYNC_FILE_RULE,
                           [(r.rule, r.match_type, r.pattern, r.severity, r.message) for r in rules])
    engine = engine or default_engine()
    national = [r for r in engine.rules if r.county_code is None]
    await conn.executemany(queries.SYNC_FILE_POLICY_RULE,
                           [(r.id, r.severity, r.message, r.source) for r in national])
    kept = [(r.match_type, r.pattern) for r in rules] + [("policy", r.id) for r in national]
    await conn.execute(queries.RETIRE_STALE_FILE_RULES, [k[0] for k in kept], [k[1] for k in kept])


# ---- callbacks ----

async def register_callback(conn: asyncpg.Connection, *, actor: Actor, client_id: int, url: str,
                            development: bool) -> CallbackRead:
    try:
        await addresses.check_public(url, development=development)
    except addresses.CallbackRefused as exc:
        raise ValidationFailed.field("url", str(exc), rule="callback.public-https") from exc
    secret = secrets.token_hex(32)
    row = await conn.fetchrow(queries.SET_CALLBACK, client_id, url, secret)
    if row is None:
        raise NotFound(f"客户端 {client_id} 不存在 (unknown client)")
    await audit.record(conn, actor=actor, action="client.callback", subject_type="api_client",
                       subject_id=str(client_id), change={"callback_url": url, "secret": "rotated"})
    return CallbackRead(client_id=client_id, url=url, secret=secret, standard_webhooks_secret=standard_secret(secret))


async def monthly_outcomes(conn: asyncpg.Connection, *, counties: list[str], since: datetime.datetime
                           ) -> dict[datetime.date, dict[str, int]]:
    """Requests submitted per month (China's calendar) by what became of them ('open' while undecided)."""
    out: dict[datetime.date, dict[str, int]] = {}
    for r in await conn.fetch(queries.MONTHLY_OUTCOMES, counties, since):
        out.setdefault(r["month"], {})[r["outcome"]] = r["n"]
    return out


async def median_decision_days(conn: asyncpg.Connection, *, counties: list[str], since: datetime.datetime
                               ) -> tuple[float | None, int]:
    """The median time from submission to decision, in days, of the requests decided since then."""
    row = await conn.fetchrow(queries.MEDIAN_DECISION_DAYS, counties, since)
    return (float(row["days"]) if row["days"] is not None else None), int(row["n"])
