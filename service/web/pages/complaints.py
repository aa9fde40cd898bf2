"""Complaints: the supervised counties' list, one complaint, its change of state with notes."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from service.complaints import service as complaints
from service.complaints.routes import complaint_county, places_allowing
from service.complaints.schemas import ComplaintUpdate
from service.core.audit import Actor
from service.core.authz import Permission
from service.core.db import DB
from service.core.errors import ServiceError
from service.web.context import PAGE_HEADERS, page_context
from service.web.pages.common import PAGE_ERRORS, labels, may, place_name, problem_text

SUBJECT_LABELS = {"task": "工作事项", "app": "政务应用程序", "work_group": "工作群组", "plaque": "牌子",
                  "certificate": "证明事项", "report": "报表", "other": "其他"}


class StatusForm(msgspec.Struct):
    status: str = ""
    finding: str = ""


def _on(act: str) -> dict[str, Any]:
    return {"permission": Permission("complaint", act, domain=complaint_county, hide=True)}


class ComplaintPages(Controller):
    path = "/ui/complaints"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    @get("/", opt={"permission": Permission("complaint", "read")})
    async def index(
        self, request: Request[Any, Any, Any], db: DB,
        status: Annotated[str | None, QueryParameter(pattern="^(|received|under_investigation|substantiated"
                                                             "|unfounded)$")] = None,
    ) -> Template:
        counties, _ = places_allowing(request, "complaint", "read")
        rows = await complaints.list_complaints(db, counties=counties, status=status or None, limit=500)
        per_department = await complaints.per_department(db, counties=counties)
        return Template("ui/complaints.html", context=page_context(
            request, rows=rows, status=status or "", per_department=per_department, subjects=SUBJECT_LABELS,
            places={r.jurisdiction_code: place_name(request, r.jurisdiction_code) for r in rows}, **labels()))

    async def _detail(self, request: Request[Any, Any, Any], db: Any, complaint_id: int, *,
                      error: str | None = None, status_code: int = 200, notice: str | None = None) -> Template:
        c = await complaints.get_complaint(db, complaint_id=complaint_id)
        return Template("ui/complaint.html", status_code=status_code, context=page_context(
            request, c=c, place=place_name(request, c.jurisdiction_code), subjects=SUBJECT_LABELS,
            next_states=complaints.NEXT.get(c.status, []) if may(request, "complaint", "manage", c.county_code)
            else [], error=error, notice=notice, **labels()))

    @get("/{complaint_id:int}", opt=_on("read"))
    async def detail(self, request: Request[Any, Any, Any], db: DB, complaint_id: FromPath[int],
                     done: Annotated[str | None, QueryParameter(pattern="^1?$")] = None) -> Template:
        return await self._detail(request, db, complaint_id, notice="状态已更新。" if done else None)

    @post("/{complaint_id:int}/status", opt=_on("manage"), status_code=303)
    async def change(self, request: Request[Any, Any, Any], db: DB, complaint_id: FromPath[int],
                     data: Annotated[StatusForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                     ) -> Template | Redirect:
        if data.status not in ("under_investigation", "substantiated", "unfounded"):
            return await self._detail(request, db, complaint_id, error="请选择新的状态。", status_code=422)
        try:
            async with db.transaction():
                await complaints.update_complaint(
                    db, actor=Actor.from_connection(request, "supervisor"), complaint_id=complaint_id,
                    data=ComplaintUpdate(status=data.status, finding=data.finding.strip()[:4000] or None))  # type: ignore[arg-type]
        except ServiceError as exc:
            return await self._detail(request, db, complaint_id, error=problem_text(exc), status_code=exc.status)
        return Redirect(f"/ui/complaints/{complaint_id}?done=1", status_code=303)
