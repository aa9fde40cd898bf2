"""Decisions as documents: each admission decision (approval, rejection, return) and each secondment
decision is issued as a numbered document of the county, in the decision's own transaction.

How a decision gets its document (admission.decide and secondments.decide call these, in this order):
1. `prepare_*`: the county's next number for the series and year (the counter's row stays locked until the
   decision commits; a rollback takes the number back, so numbers have no gaps and none is given twice),
   and the document's content, frozen, with its SHA-256.
2. the decision writes its audit event with `stamp(prepared)` in its change (the number and the digest),
3. `file`: the document is stored with the id of that audit event (the event's inclusion proof verifies it).
The database refuses a number without its document at commit (migrations/0014_decision_documents.sql)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from typing import Any

import asyncpg
import msgspec

from service.core.clock import CHINA
from service.core.errors import NotFound
from service.core.tree import lookup, lookup_many
from service.counties.schemas import CountySettings
from service.counties.service import load_settings
from service.decisions import queries
from service.decisions.schemas import DecisionDocument, DocumentVerification

TITLES = {"admission_approval": "准予准入决定书", "admission_rejection": "不予准入告知书",
          "admission_return": "退回补正通知", "secondment_decision": "借调审批意见"}
ADMISSION_KINDS = {"approved": "admission_approval", "rejected": "admission_rejection",
                   "returned": "admission_return"}


class Prepared(msgspec.Struct, frozen=True):
    county_code: str
    series: str
    year: int
    number: int
    document_number: str
    kind: str
    content: dict[str, Any]
    digest: str
    issued_on: datetime.date


def digest_of(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, UTF-8) of what the document says."""
    return hashlib.sha256(msgspec.json.encode(content, order="sorted")).hexdigest()


def document_number(pattern: str, *, abbreviation: str, year: int, number: int) -> str:
    """The county's format with its placeholders filled: {abbr} (the county's abbreviation), {year}, {n}."""
    return pattern.replace("{abbr}", abbreviation).replace("{year}", str(year)).replace("{n}", str(number))


def abbreviation(settings: CountySettings, county_name: str) -> str:
    """The county's abbreviation in document numbers (机关代字): as set, else the name's first character."""
    return settings.document_abbreviation or county_name[:1]


async def _allocate(conn: asyncpg.Connection, *, county_code: str, series: str, on: datetime.date,
                    settings: CountySettings, county_name: str) -> tuple[int, str]:
    number: int = await conn.fetchval(queries.NEXT_NUMBER, county_code, series, on.year)
    pattern = settings.admission_document_format if series == "admission" else settings.secondment_document_format
    return number, document_number(pattern, abbreviation=abbreviation(settings, county_name), year=on.year,
                                   number=number)


def _place(nodes: dict[str, Any], code: str | None) -> dict[str, str | None]:
    node = nodes.get(code or "")
    return {"code": code, "name": node.name if node else code}


async def prepare_admission(conn: asyncpg.Connection, *, row: asyncpg.Record, outcome: str, reason: str | None,
                            effective_from: datetime.date | None, item_code: str | None,
                            acknowledged: list[str] | None, on: datetime.date) -> Prepared:
    """The number and the frozen content of an admission decision's document (`row`: the request before it)."""
    county_code = row["county_code"]
    settings = await load_settings(conn, county_code=county_code)
    nodes = await lookup_many(conn, [county_code, *row["targets"]])
    county = _place(nodes, county_code)
    number, shown = await _allocate(conn, county_code=county_code, series="admission", on=on, settings=settings,
                                    county_name=str(county["name"]))
    kind = ADMISSION_KINDS[outcome]
    body = row["body"] or {}
    submitted = row["submitted_at"]
    content = {
        "kind": kind, "title": TITLES[kind], "document_number": shown, "county": county,
        "issuer": row["reviewing_body"] or settings.reviewing_body, "issued_on": on.isoformat(),
        "outcome": outcome, "reasons": reason or "",
        "effective_from": effective_from.isoformat() if effective_from else None, "item_code": item_code,
        "request": {
            "id": row["id"], "group_id": row["group_id"], "revision": row["revision"], "title": row["title"],
            "department": row["department"], "kind": row["kind"], "list": row["list_name"],
            "community_role": body.get("community_role"), "basis": body.get("basis"),
            "content": body.get("content"), "start_date": body.get("start_date"),
            "submitted_on": submitted.astimezone(CHINA).date().isoformat() if submitted else None,
            "targets": [_place(nodes, code) for code in row["targets"]],
        },
        "verdict": row["verdict"],
        "findings": msgspec.to_builtins(row["findings"] or []),
        "acknowledged_findings": acknowledged,
    }
    return Prepared(county_code=county_code, series="admission", year=on.year, number=number,
                    document_number=shown, kind=kind, content=content, digest=digest_of(content), issued_on=on)


async def prepare_secondment(conn: asyncpg.Connection, *, request: Any, outcome: str, reasons: str,
                             start: datetime.date, staffing_warning: dict[str, Any] | None,
                             on: datetime.date) -> Prepared:
    """The number and the frozen content of a secondment decision's document (`request`: its SecondmentRead)."""
    county_code = request.county_code
    settings = await load_settings(conn, county_code=county_code)
    node = await lookup(conn, county_code)
    county_name = node.name if node else county_code
    home = await lookup(conn, request.home_community_code) if request.home_community_code else None
    number, shown = await _allocate(conn, county_code=county_code, series="secondment", on=on, settings=settings,
                                    county_name=county_name)
    content = {
        "kind": "secondment_decision", "title": TITLES["secondment_decision"], "document_number": shown,
        "county": {"code": county_code, "name": county_name}, "issuer": settings.organisation_department,
        "issued_on": on.isoformat(), "outcome": outcome, "reasons": reasons,
        "request": {
            "id": request.id, "organ": msgspec.to_builtins(request.organ), "form": request.form,
            "purpose": request.purpose, "home_community": {"code": request.home_community_code,
                                                          "name": home.name if home else request.home_community_name},
            "workers": [msgspec.to_builtins(w) for w in request.workers],
            "start_date": start.isoformat(), "requested_start_date": request.start_date.isoformat(),
            "end_date": request.end_date.isoformat(), "worker_consent": request.worker_consent,
            "community_consent": request.community_consent,
            "submitted_on": request.created_at.astimezone(CHINA).date().isoformat(),
        },
        "staffing_warning": staffing_warning,
    }
    return Prepared(county_code=county_code, series="secondment", year=on.year, number=number, document_number=shown,
                    kind="secondment_decision", content=content, digest=digest_of(content), issued_on=on)


def stamp(prepared: Prepared) -> dict[str, Any]:
    """What the decision's audit event carries of its document: the number and the content's digest."""
    return {"document": {"number": prepared.document_number, "kind": prepared.kind,
                         "content_sha256": prepared.digest}}


def _token() -> str:
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


async def file(conn: asyncpg.Connection, prepared: Prepared, *, action: str, subject_type: str,
               subject_id: int) -> DecisionDocument:
    """Store the document with its decision's audit event (written a moment ago in this transaction)."""
    event_id = await conn.fetchval(queries.DECISION_EVENT, action, subject_type, str(subject_id))
    if event_id is None:
        raise RuntimeError(f"no audit event {action} for {subject_type} {subject_id} to file its document with")
    row = await conn.fetchrow(queries.INSERT, prepared.county_code, prepared.series, prepared.year, prepared.number,
                              prepared.document_number, prepared.kind, subject_type, subject_id, _token(),
                              prepared.content, prepared.digest, event_id, prepared.issued_on)
    return to_read(row)


def to_read(row: asyncpg.Record) -> DecisionDocument:
    token = row["verify_token"]
    base = "/api/v1/admission-requests" if row["subject_type"] == "admission_request" else \
        "/api/v1/secondment-requests"
    return DecisionDocument(
        id=row["id"], document_number=row["document_number"], kind=row["kind"], title=TITLES[row["kind"]],
        county_code=row["county_code"], issuer=row["content"].get("issuer", ""), subject_type=row["subject_type"],
        subject_id=row["subject_id"], issued_on=row["issued_on"], issued_at=row["issued_at"],
        content=row["content"], content_digest=row["content_digest"], audit_event_id=row["audit_event_id"],
        verify_path=f"/documents/{token}", proof_path=f"/api/v1/decision-documents/{token}/proof",
        pdf_path=f"{base}/{row['subject_id']}/decision-document.pdf")


async def of_subject(conn: asyncpg.Connection, *, subject_type: str, subject_id: int) -> DecisionDocument | None:
    row = await conn.fetchrow(queries.BY_SUBJECT, subject_type, subject_id)
    return to_read(row) if row is not None else None


async def get_of_subject(conn: asyncpg.Connection, *, subject_type: str, subject_id: int) -> DecisionDocument:
    found = await of_subject(conn, subject_type=subject_type, subject_id=subject_id)
    if found is None:
        raise NotFound("该申请尚无决定文书 (no decision document: the request has not been decided)",
                       extra={"subject_type": subject_type, "subject_id": subject_id})
    return found


async def by_token(conn: asyncpg.Connection, *, token: str) -> DecisionDocument:
    row = await conn.fetchrow(queries.BY_TOKEN, token) if len(token) == 26 else None
    if row is None:
        raise NotFound("没有该决定文书 (no decision document at this address)")
    return to_read(row)


async def verify(conn: asyncpg.Connection, *, token: str) -> DocumentVerification:
    """Check a document against the audit log: its content hashes to its digest, and the decision's audit
    event names its number and that digest."""
    doc = await by_token(conn, token=token)
    event = await conn.fetchrow(queries.EVENT_CHANGE, doc.audit_event_id)
    carried = ((event["change"] or {}).get("document") or {}) if event is not None else {}
    matches = (event is not None and event["subject_type"] == doc.subject_type
               and event["subject_id"] == str(doc.subject_id) and carried.get("number") == doc.document_number
               and carried.get("content_sha256") == doc.content_digest)
    return DocumentVerification(
        document_number=doc.document_number, title=doc.title, county_code=doc.county_code,
        county_name=str(doc.content.get("county", {}).get("name") or doc.county_code), issuer=doc.issuer,
        issued_on=doc.issued_on, subject_type=doc.subject_type, subject_id=doc.subject_id,
        content_digest=doc.content_digest, content_digest_matches=digest_of(doc.content) == doc.content_digest,
        audit_event_id=doc.audit_event_id, audit_event_matches=matches, proof_path=doc.proof_path)
