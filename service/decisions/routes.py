"""Decision documents over HTTP: the document of a decided admission or secondment request (JSON and PDF),
read by whoever may read the request (the department that submitted an admission request, the county's
reviewers; a secondment's street office, community, supervisors and organisation department), and the
public verification of a printed document by the token its URL and QR code carry."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from service.admission import service as admission
from service.admission.routes import request_county
from service.audit import service as audit
from service.audit.schemas import RecordProof
from service.core.auth import identity_of
from service.core.authz import Permission
from service.core.db import DB
from service.core.openapi import AUTHED, problems
from service.decisions import pdf
from service.decisions import service as decisions
from service.decisions.schemas import DecisionDocument, DocumentVerification
from service.decisions.sheet import sheet
from service.secondments import service as secondments
from service.secondments.routes import request_domain

SECURITY = [{"BearerToken": []}]
PDF_MEDIA_TYPE = "application/pdf"
ON_ADMISSION = {"permission": Permission("admission_request", "read", domain=request_county, hide=True)}
ON_SECONDMENT = {"permission": Permission("secondment_request", "read", domain=request_domain, hide=True,
                                          visible_with="read")}


def verify_url(request: Request[Any, Any, Any], doc: DecisionDocument) -> str:
    """The absolute address printed on the document (as the reader reached this service)."""
    return str(request.base_url).rstrip("/") + doc.verify_path


def pdf_response(request: Request[Any, Any, Any], doc: DecisionDocument) -> Response[bytes]:
    body = pdf.render(sheet(doc), verify_url=verify_url(request, doc))
    name = f"decision-{doc.county_code}-{doc.issued_on.year}-{doc.id}.pdf"
    return Response(body, media_type=PDF_MEDIA_TYPE, headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "private, no-store"})


async def admission_document(request: Request[Any, Any, Any], db: Any, request_id: int) -> DecisionDocument:
    """The document of an admission request the caller may read (its own submission, or one it reviews)."""
    authorizer = request.app.state.authorizer
    subject = identity_of(request).subject
    await admission.get(db, request_id=request_id, subject=subject,
                        may_review=lambda code: authorizer.allowed(subject, "admission_request", "review", code))
    return await decisions.get_of_subject(db, subject_type="admission_request", subject_id=request_id)


async def secondment_document(db: Any, request_id: int) -> DecisionDocument:
    await secondments.get(db, request_id=request_id)
    return await decisions.get_of_subject(db, subject_type="secondment_request", subject_id=request_id)


class DecisionDocumentController(Controller):
    path = "/api/v1"
    tags = ["decision documents"]

    @get("/admission-requests/{request_id:int}/decision-document", operation_id="GetAdmissionDecisionDocument",
         summary="The decision's document (准予准入决定书, 不予准入告知书 or 退回补正通知): its number, what it says "
                 "as issued, and where to verify it; 404 until the request is decided",
         opt=ON_ADMISSION, security=SECURITY, responses=problems(*AUTHED, 404))
    async def admission_json(self, request: Request[Any, Any, Any], db: DB,
                             request_id: FromPath[int]) -> DecisionDocument:
        return await admission_document(request, db, request_id)

    @get("/admission-requests/{request_id:int}/decision-document.pdf",
         operation_id="GetAdmissionDecisionDocumentPdf", summary="The decision's document as PDF (A4, Chinese)",
         opt=ON_ADMISSION, security=SECURITY, responses=problems(*AUTHED, 404), media_type=PDF_MEDIA_TYPE)
    async def admission_pdf(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int]
                            ) -> Response[bytes]:
        return pdf_response(request, await admission_document(request, db, request_id))

    @get("/secondment-requests/{request_id:int}/decision-document", operation_id="GetSecondmentDecisionDocument",
         summary="The organisation department's decision as a document (借调审批意见); 404 until it is decided",
         opt=ON_SECONDMENT, security=SECURITY, responses=problems(*AUTHED, 404))
    async def secondment_json(self, db: DB, request_id: FromPath[int]) -> DecisionDocument:
        return await secondment_document(db, request_id)

    @get("/secondment-requests/{request_id:int}/decision-document.pdf",
         operation_id="GetSecondmentDecisionDocumentPdf", summary="The secondment decision's document as PDF",
         opt=ON_SECONDMENT, security=SECURITY, responses=problems(*AUTHED, 404), media_type=PDF_MEDIA_TYPE)
    async def secondment_pdf(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int]
                             ) -> Response[bytes]:
        return pdf_response(request, await secondment_document(db, request_id))

    @get("/decision-documents/{token:str}", operation_id="VerifyDecisionDocument", opt={"public": True},
         summary="Verify a printed decision document by the token of its URL or QR code: its number, issuer, "
                 "content digest, and whether the decision's audit event carries them (public)",
         responses=problems(404))
    async def verify(self, db: DB, token: FromPath[str]) -> DocumentVerification:
        return await decisions.verify(db, token=token)

    @get("/decision-documents/{token:str}/proof", operation_id="GetDecisionDocumentProof", opt={"public": True},
         summary="The decision's audit event, its leaf, its inclusion proof and the (cosigned) checkpoint, to keep "
                 "and verify offline (public; 404 until the next checkpoint covers it)", responses=problems(404))
    async def proof(self, request: Request[Any, Any, Any], db: DB, token: FromPath[str]) -> RecordProof:
        doc = await decisions.by_token(db, token=token)
        return await audit.event_proof(db, event_id=doc.audit_event_id, settings=request.app.state.settings)


ROUTES = [DecisionDocumentController]
