"""Decision documents on the web: the printable page and the PDF of an admission or secondment decision
(read by whoever may read the request), and the public page that verifies a printed document against the
audit log by the token its URL and QR code carry."""

from __future__ import annotations

from typing import Any

import segno
from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from service.audit import service as audit
from service.core.db import DB
from service.core.errors import NotFound, register_page_renderer
from service.decisions import service as decisions
from service.decisions.routes import (
    ON_ADMISSION,
    ON_SECONDMENT,
    admission_document,
    pdf_response,
    secondment_document,
    verify_url,
)
from service.decisions.schemas import DecisionDocument
from service.decisions.sheet import sheet
from service.web.context import PAGE_HEADERS, page_context
from service.web.pages.common import PAGE_ERRORS, problem_page


def _page(request: Request[Any, Any, Any], doc: DecisionDocument, back: str) -> Template:
    url = verify_url(request, doc)
    qr = segno.make(url, error="m").svg_data_uri(scale=4, border=2)
    return Template("ui/decision.html", context=page_context(
        request, doc=doc, s=sheet(doc), verify_url=url, qr=qr, back=back,
        pdf=f"{back}/document.pdf"))


class DecisionPages(Controller):
    path = "/ui"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    @get("/admission/{request_id:int}/document", opt=ON_ADMISSION)
    async def admission_page(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int]) -> Template:
        return _page(request, await admission_document(request, db, request_id), f"/ui/admission/{request_id}")

    @get("/admission/{request_id:int}/document.pdf", opt=ON_ADMISSION)
    async def admission_pdf(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int]
                            ) -> Response[bytes]:
        return pdf_response(request, await admission_document(request, db, request_id))

    @get("/secondments/{request_id:int}/document", opt=ON_SECONDMENT)
    async def secondment_page(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int]) -> Template:
        return _page(request, await secondment_document(db, request_id), f"/ui/secondments/{request_id}")

    @get("/secondments/{request_id:int}/document.pdf", opt=ON_SECONDMENT)
    async def secondment_pdf(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int]
                             ) -> Response[bytes]:
        return pdf_response(request, await secondment_document(db, request_id))


class DocumentVerificationPage(Controller):
    path = "/documents"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    @get("/{token:str}", opt={"public": True})
    async def verify(self, request: Request[Any, Any, Any], db: DB, token: FromPath[str]) -> Template:
        """Anyone holding the printed document: is it the one the county issued, and is its decision in the log?"""
        checked = await decisions.verify(db, token=token)
        doc = await decisions.by_token(db, token=token)
        proof, pending = None, False
        try:
            proof = await audit.event_proof(db, event_id=checked.audit_event_id, settings=request.app.state.settings)
        except NotFound:
            pending = True
        return Template("public/verify.html", context=page_context(
            request, v=checked, s=sheet(doc), proof=proof, pending=pending,
            proof_href=checked.proof_path))


register_page_renderer("/documents/", problem_page)
