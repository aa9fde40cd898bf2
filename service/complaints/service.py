"""Refusals and complaints: recorded, routed to the county's supervisors, investigated, counted."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

import asyncpg

from service.complaints import queries
from service.complaints.schemas import (
    ComplaintCreate,
    ComplaintProgress,
    ComplaintRead,
    ComplaintReceipt,
    ComplaintUpdate,
    DepartmentCount,
    RefusalCreate,
    RefusalRead,
)
from service.core import audit
from service.core.audit import Actor
from service.core.auth import hash_token
from service.core.errors import InvalidTransition, NotFound, RateLimited, ValidationFailed
from service.core.tree import lookup

COMPLAINTS_PER_HOUR = 10
"""per client address: enough for a community to report what happened, not enough to flood supervisors"""
NEXT: dict[str, list[str]] = {
    "received": ["under_investigation"],
    "under_investigation": ["substantiated", "unfounded"],
}

CLOSING = ("substantiated", "unfounded")
"""a complaint closed either way says what the investigation found: the community that complained, the
department complained of and a later reader of the audit log are owed the reason"""

# no 0/O, 1/I/L: the code is read off a phone screen or a slip of paper and typed in again
FOLLOW_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
FOLLOW_GROUPS = 3  # three groups of four: about 59 bits, far beyond guessing within the rate limits


def new_follow_code() -> str:
    return "-".join("".join(secrets.choice(FOLLOW_ALPHABET) for _ in range(4)) for _ in range(FOLLOW_GROUPS))


def normalise_follow_code(code: str) -> str:
    """What the filer typed, as it was issued: case, spaces and dashes do not matter."""
    plain = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(plain[i:i + 4] for i in range(0, len(plain), 4))


def follow_code_hash(pepper: bytes, code: str) -> bytes:
    return hash_token(pepper, "complaint-follow:" + normalise_follow_code(code))


def _who(actor: Actor) -> str:
    return f"{actor.actor_type}:{actor.actor_id or actor.actor_name}"


async def _county_of(conn: asyncpg.Connection, code: str, field: str) -> str:
    node = await lookup(conn, code)
    if node is None or node.county_code is None:
        raise ValidationFailed.field(field, f"{code} 不是已知的县以下行政区 (not a known place within a county)")
    return node.county_code


async def record_refusal(conn: asyncpg.Connection, *, actor: Actor, data: RefusalCreate) -> RefusalRead:
    county = await _county_of(conn, data.community_code, "community_code")
    row = await conn.fetchrow(queries.INSERT_REFUSAL, data.community_code, county, data.department,
                              data.matter_title, data.receipt_id, data.reason, _who(actor))
    refusal = RefusalRead(**dict(row))
    await audit.record(conn, actor=actor, action="refusal.record", subject_type="matter_refusal",
                       subject_id=str(refusal.id), jurisdiction=data.community_code, change=data)
    return refusal


async def list_refusals(conn: asyncpg.Connection, *, counties: list[str], communities: list[str],
                        limit: int) -> list[RefusalRead]:
    return [RefusalRead(**dict(r)) for r in await conn.fetch(queries.LIST_REFUSALS, counties, communities, limit)]


async def refusal_for_receipt(conn: asyncpg.Connection, *, receipt_id: Any) -> RefusalRead | None:
    """The refusal already recorded from a check's receipt, if any (a receipt is refused once)."""
    row = await conn.fetchrow(queries.REFUSAL_FOR_RECEIPT, receipt_id)
    return RefusalRead(**dict(row)) if row is not None else None


async def complaints_about(conn: asyncpg.Connection, *, community_code: str) -> dict[str, int]:
    """Complaints about matters put on one community, counted by state."""
    return {r["status"]: int(r["n"]) for r in await conn.fetch(queries.COMPLAINTS_ABOUT, community_code)}


def _read(row: asyncpg.Record) -> ComplaintRead:
    values: dict[str, Any] = dict(row)
    values["anonymous"] = values.pop("filed_by") is None
    values.pop("follow_code_hash", None)
    return ComplaintRead(**values)


async def file_complaint(conn: asyncpg.Connection, *, actor: Actor, data: ComplaintCreate,
                         client_addr: str, pepper: bytes | None = None) -> ComplaintReceipt:
    """Anyone may file; per client address at most COMPLAINTS_PER_HOUR an hour (429 beyond). With a pepper,
    the receipt carries a follow-up code (returned once, stored as its keyed hash)."""
    if await conn.fetchval(queries.COUNT_FILING, client_addr) > COMPLAINTS_PER_HOUR:
        raise RateLimited(f"每小时最多受理 {COMPLAINTS_PER_HOUR} 件投诉，请稍后再试 (too many complaints from "
                          "this address; try again within the hour)")
    county = await _county_of(conn, data.jurisdiction_code, "jurisdiction_code")
    if data.admission_request_id is not None and await conn.fetchval(
            queries.ADMISSION_COUNTY, data.admission_request_id) != county:
        raise ValidationFailed.field("admission_request_id", "该准入申请不存在或不属于该县 (unknown request here)")
    if data.refusal_id is not None and await conn.fetchval(
            queries.REFUSAL_COUNTY, data.refusal_id) != county:
        raise ValidationFailed.field("refusal_id", "该拒绝记录不存在或不属于该县 (unknown refusal here)")
    filed_by = None if actor.actor_type == "anonymous" else _who(actor)
    code = new_follow_code() if pepper is not None else None
    row = await conn.fetchrow(queries.INSERT_COMPLAINT, county, data.jurisdiction_code, data.department,
                              data.subject_kind, data.matter, data.description, data.admission_request_id,
                              data.refusal_id, data.contact, filed_by,
                              follow_code_hash(pepper, code) if pepper is not None and code else None)
    # the audit trail keeps no address and no contact of an anonymous filer
    anonymous_actor = Actor(actor_type=actor.actor_type, actor_id=actor.actor_id, actor_name=actor.actor_name,
                            role=actor.role, request_id=actor.request_id, client_addr=None)
    await audit.record(conn, actor=anonymous_actor if filed_by is None else actor, action="complaint.file",
                       subject_type="complaint", subject_id=str(row["id"]), jurisdiction=data.jurisdiction_code,
                       change={"department": data.department, "subject_kind": data.subject_kind,
                               "matter": data.matter})
    return ComplaintReceipt(id=row["id"], status=row["status"], county_code=county, created_at=row["created_at"],
                            follow_code=code)


async def follow_complaint(conn: asyncpg.Connection, *, complaint_id: int, code: str,
                           pepper: bytes) -> ComplaintProgress:
    """A complaint's state for whoever holds its number and code; the same 404 for a wrong code as for an
    unknown number, so neither can be probed."""
    row = await conn.fetchrow(queries.FOLLOW_COMPLAINT, complaint_id)
    stored = row["follow_code_hash"] if row is not None else None
    if stored is None or not hmac.compare_digest(bytes(stored), follow_code_hash(pepper, code)):
        raise NotFound("回执编号或查询码不正确 (no complaint with this number and code)",
                       extra={"id": complaint_id})
    values = dict(row)
    values.pop("follow_code_hash")
    return ComplaintProgress(**values)


async def complaint_county(conn: asyncpg.Connection, *, complaint_id: int) -> str | None:
    """The county of a complaint (None: no such complaint), for the guard."""
    code: str | None = await conn.fetchval(queries.COMPLAINT_COUNTY, complaint_id)
    return code


async def visible_complaint(conn: asyncpg.Connection, *, complaint_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(queries.GET_COMPLAINT, complaint_id)
    if row is None:
        raise NotFound(f"投诉 {complaint_id} 不存在 (complaint not found)")
    return row


async def get_complaint(conn: asyncpg.Connection, *, complaint_id: int) -> ComplaintRead:
    return _read(await visible_complaint(conn, complaint_id=complaint_id))


async def list_complaints(conn: asyncpg.Connection, *, counties: list[str], status: str | None,
                          limit: int) -> list[ComplaintRead]:
    return [_read(r) for r in await conn.fetch(queries.LIST_COMPLAINTS, counties, status, limit)]


def _not_now(current: str, wanted: str) -> InvalidTransition:
    allowed = NEXT.get(current, [])
    return InvalidTransition(f"状态为 {current} 的投诉不能转为 {wanted} (allowed: {', '.join(allowed) or 'none'})",
                             allowed=allowed)


async def update_complaint(conn: asyncpg.Connection, *, actor: Actor, complaint_id: int,
                           data: ComplaintUpdate) -> ComplaintRead:
    if data.status in CLOSING and not (data.finding or "").strip():
        current = await visible_complaint(conn, complaint_id=complaint_id)
        if data.status not in NEXT.get(current["status"], []):
            raise _not_now(current["status"], data.status)
        raise ValidationFailed.field("finding", "结案（属实或不属实）须写明调查结论 (a finding is required to close a "
                                                "complaint)", rule="complaint.finding-required")
    expected = [state for state, nexts in NEXT.items() if data.status in nexts]
    row = await conn.fetchrow(queries.UPDATE_COMPLAINT, complaint_id, data.status, data.finding, expected)
    if row is None:
        current = await visible_complaint(conn, complaint_id=complaint_id)
        raise _not_now(current["status"], data.status)
    await audit.record(conn, actor=actor, action=f"complaint.{data.status}", subject_type="complaint",
                       subject_id=str(complaint_id), jurisdiction=row["jurisdiction_code"], change=data)
    return _read(row)


async def per_department(conn: asyncpg.Connection, *, counties: list[str]) -> list[DepartmentCount]:
    return [DepartmentCount(**dict(r)) for r in await conn.fetch(queries.PER_DEPARTMENT, counties)]
