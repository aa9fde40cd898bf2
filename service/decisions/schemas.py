"""Decision documents (决定书): what a reader gets back, and what is kept frozen at issue."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from service.core.schemas import Output

Kind = Literal["admission_approval", "admission_rejection", "admission_return", "secondment_decision"]


class DecisionDocument(Output):
    """One issued decision document. `content` is what the document says, frozen when it was issued; its
    SHA-256 (`content_digest`, over the canonical JSON: sorted keys, UTF-8) is in the decision's audit event,
    whose inclusion proof `verify_path` (public, no sign-in) and `proof_path` give."""

    id: int
    document_number: str
    """the county's number for it, e.g. 长社工准〔2026〕3号"""
    kind: Kind
    title: str
    """准予准入决定书, 不予准入告知书, 退回补正通知 or 借调审批意见"""
    county_code: str
    issuer: str
    """the reviewing body (admission) or the organisation department (secondment), as the county set it"""
    subject_type: str
    subject_id: int
    issued_on: datetime.date
    issued_at: datetime.datetime
    content: dict[str, Any]
    content_digest: str
    audit_event_id: int
    verify_path: str
    """the public page that checks the document against the audit log (printed as URL and QR code)"""
    proof_path: str
    """the decision's audit event, its leaf and its inclusion proof (JSON, public)"""
    pdf_path: str


class DocumentVerification(Output):
    """What anyone holding the printed document may check: the number, the issuer, the digest of the
    content, and whether the decision's audit event carries that number and digest."""

    document_number: str
    title: str
    county_code: str
    county_name: str
    issuer: str
    issued_on: datetime.date
    subject_type: str
    subject_id: int
    content_digest: str
    """SHA-256 of the document's content as issued"""
    content_digest_matches: bool
    """the stored content still hashes to the digest"""
    audit_event_id: int
    audit_event_matches: bool
    """the decision's audit event names this number and this digest"""
    proof_path: str
