"""The community's own page (signed in): its lists, its staffing against the standard, its refusals and the
complaints about matters put on it; a refusal recorded in one click from a check's receipt."""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from service.complaints import service as complaints
from service.complaints.schemas import RefusalCreate
from service.core.audit import Actor, refuse
from service.core.authz import Permission
from service.core.clock import today
from service.core.db import DB
from service.core.errors import Conflict, NotFound, ServiceError
from service.registry import checks, documents
from service.registry import service as registry
from service.web.context import PAGE_HEADERS, page_context
from service.web.pages.common import PAGE_ERRORS, STATUS_LABELS, authorizer_of, domains, may
from service.web.pages.public import SECTIONS, chinese_half, department_name
from service.workers import service as workers


class RefusalForm(msgspec.Struct):
    receipt_id: str = ""


def _held_communities(request: Request[Any, Any, Any]) -> list[Any]:
    """The communities where the person may record a refusal (a community's own role, not one above it)."""
    tree = authorizer_of(request).tree
    nodes = [tree.get(code) for code in domains(request, "refusal", "create")]
    return sorted((n for n in nodes if n is not None and n.level == "community"), key=lambda n: n.code)


async def refusal_from_receipt(request: Request[Any, Any, Any], db: Any, receipt_id: str) -> tuple[int, bool]:
    """Record the refusal a check's receipt gives reason for: (refusal id, whether it was already recorded)."""
    found = await checks.receipt(db, getattr(request.app.state, "checker", None), receipt_id=receipt_id)
    if not may(request, "refusal", "create", found.community_code):
        await refuse(request, status=403, action="refusal.record", subject_type="check_receipt",
                     subject_id=found.id, jurisdiction=found.community_code,
                     reason="role does not cover this community")
    if found.allowed:
        raise Conflict("该事项已经准入，不能登记为拒绝 (the matter was admitted: nothing to refuse)")
    existing = await complaints.refusal_for_receipt(db, receipt_id=uuid.UUID(found.id))
    if existing is not None:
        return existing.id, True
    sentence, _docs = documents.for_rule(found.citation.rule)
    title = found.matter_title or found.citation.code or found.matter_code or "—"
    if found.citation.scope and found.citation.code and not found.matter_title:
        with contextlib.suppress(NotFound):
            title = (await registry.get_record(db, scope=found.citation.scope, code=found.citation.code)).title
    reason = "；".join(x for x in (chinese_half(found.reason), sentence) if x) or found.reason
    department = await department_name(db, found.department, found.asker)
    refusal = await complaints.record_refusal(db, actor=Actor.from_connection(request, "community"), data=RefusalCreate(
        community_code=found.community_code, department=department[:200], matter_title=title[:200],
        reason=reason[:4000], receipt_id=uuid.UUID(found.id)))
    return refusal.id, False


class CommunityPage(Controller):
    path = "/ui/community"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    @get("/", opt={"permission": Permission("refusal", "create")})
    async def overview(self, request: Request[Any, Any, Any], db: DB,
                       recorded: Annotated[str | None, QueryParameter(pattern="^(new|again)?$")] = None) -> Template:
        places = []
        for node in _held_communities(request):
            when, release, items = await registry.list_at(db, county_code=node.county_code, as_of=None)
            counts = [(heading, anchor, sum(1 for i in items if i.list in names))
                      for anchor, heading, _what, names in SECTIONS]
            places.append({
                "node": node, "county": authorizer_of(request).tree.get(node.county_code), "as_of": when,
                "release": release, "counts": counts,
                "staffing": await workers.community_staffing(db, community_code=node.code, on=today()),
                "refusals": await complaints.list_refusals(db, counties=[], communities=[node.code], limit=50),
                "complaints": await complaints.complaints_about(db, community_code=node.code),
            })
        notice = {"new": "拒绝已登记。", "again": "该回执的拒绝此前已登记。"}.get(recorded or "")
        return Template("ui/community.html", context=page_context(
            request, places=places, notice=notice, status_labels=STATUS_LABELS, form=RefusalForm(), error=None))

    @post("/refusals", opt={"permission": Permission("refusal", "create")}, status_code=303)
    async def record(self, request: Request[Any, Any, Any], db: DB,
                     data: Annotated[RefusalForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                     ) -> Redirect | Template:
        receipt_id = data.receipt_id.strip()
        try:
            uuid.UUID(receipt_id)
        except ValueError:
            return Template("ui/error.html", status_code=422, context=page_context(
                request, title="输入有误", message="请填写核验回执编号（回执上的一串字母和数字）。"))
        try:
            async with db.transaction():
                _id, again = await refusal_from_receipt(request, db, receipt_id)
        except ServiceError as exc:
            if exc.status in (401, 403):
                raise
            return Template("ui/error.html", status_code=exc.status, context=page_context(
                request, title="无法登记", message=chinese_half(exc.detail)))
        return Redirect(f"/ui/community?recorded={'again' if again else 'new'}", status_code=303)
