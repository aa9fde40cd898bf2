"""Admission request detail and the reviewer's decision: form → confirmation page → decision → back to the request."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from service.admission import listing
from service.admission import service as admission
from service.admission.routes import request_county
from service.admission.schemas import Decision
from service.core.audit import Actor
from service.core.authz import Permission
from service.core.db import DB
from service.core.errors import ServiceError
from service.decisions import service as decisions
from service.registry.routes import LIST_LABELS
from service.web import names
from service.web.context import PAGE_HEADERS, page_context
from service.web.format import CHINA
from service.web.pages.common import PAGE_ERRORS, labels, locale_of, may, place_name, problem_text, subject_of
from service.workers.service import today

OUTCOMES = {"approved": "批准", "rejected": "驳回", "returned": "退回修改"}


class DecisionForm(msgspec.Struct):
    outcome: str = ""
    reason: str = ""
    effective_from: str = ""
    acknowledged: str = ""
    """"1" when the reviewer has acknowledged every screening finding (asked on the confirmation page)"""


Form = Annotated[DecisionForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


def _read(act: str) -> dict[str, Any]:
    return {"permission": Permission("admission_request", act, domain=request_county, hide=True)}


def _checked(form: DecisionForm) -> tuple[str | None, datetime.date | None]:
    """The form's own problems (a reason is always required here), before anything is sent."""
    if form.outcome not in OUTCOMES:
        return "请选择审核结论。", None
    if not form.reason.strip():
        return "请填写审核理由。", None
    if len(form.reason) > 2000:
        return "审核理由不能超过2000字。", None
    effective = None
    if form.outcome == "approved" and form.effective_from:
        try:
            effective = datetime.date.fromisoformat(form.effective_from)
        except ValueError:
            return "生效日期格式不正确。", None
    return None, effective


def _submitted_on(read: Any) -> datetime.date | None:
    return read.submitted_at.astimezone(CHINA).date() if read.submitted_at is not None else None


class AdmissionPages(Controller):
    path = "/ui/admission"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    async def _detail(self, request: Request[Any, Any, Any], db: Any, request_id: int, *,
                      form: DecisionForm | None = None, error: str | None = None, status_code: int = 200,
                      notice: str | None = None) -> Template:
        def may_review(code):
            return (may(request, "admission_request", "review", code))
        row = await admission.visible(db, request_id=request_id, subject=subject_of(request), may_review=may_review)
        read = await admission.to_read(db, row)
        history = await admission.history(db, row=row)
        body = read.submission
        similar = await listing.similar(db, county_code=read.county_code, title=read.title,
                                        content=body.get("content", ""), own_item=read.item_code)
        can_decide = may_review(read.county_code) and read.status in ("submitted", "in_review")
        who = await names.lookup(db, [h.actor for h in history], locale=locale_of(request))
        document = await decisions.of_subject(db, subject_type="admission_request", subject_id=request_id)
        return Template("ui/admission.html", status_code=status_code, context=page_context(
            request, r=read, body=body, history=history, similar=similar, can_decide=can_decide, who=who,
            places={code: place_name(request, code) for code in {s.scope for s in similar}},
            county=place_name(request, read.county_code), targets=[(c, place_name(request, c)) for c in read.targets],
            form=form or DecisionForm(), error=error, outcomes=OUTCOMES, notice=notice, lists=LIST_LABELS,
            document=document, today=today(), **labels()))

    @get("/{request_id:int}", opt=_read("read"))
    async def detail(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                     done: Annotated[str | None, QueryParameter(pattern="^(approved|rejected|returned)$")] = None
                     ) -> Template:
        notice = {"approved": "已批准：决定已记录。", "rejected": "已驳回：决定已记录。",
                  "returned": "已退回修改：决定已记录。"}.get(done or "")
        return await self._detail(request, db, request_id, notice=notice)

    @post("/{request_id:int}/confirm", opt=_read("review"), status_code=200)
    async def confirm(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                      data: Form) -> Template:
        """The confirmation step: nothing is sent until the reviewer confirms on this page."""
        error, effective = _checked(data)
        if error:
            return await self._detail(request, db, request_id, form=data, error=error, status_code=422)
        read = await admission.get(db, request_id=request_id, subject=subject_of(request),
                                   may_review=lambda code: may(request, "admission_request", "review", code))
        submitted = _submitted_on(read)
        if data.outcome == "approved" and effective is not None and submitted is not None and effective < submitted:
            return await self._detail(request, db, request_id, form=data, status_code=422,
                                      error=f"生效日期不得早于申请提交日期（{submitted.year}年{submitted.month}月"
                                            f"{submitted.day}日）。")
        return await self._confirm(request, read, data, effective)

    async def _confirm(self, request: Request[Any, Any, Any], read: Any, data: DecisionForm,
                       effective: datetime.date | None, *, error: str | None = None,
                       status_code: int = 200) -> Template:
        """Every screening finding again (to acknowledge before an approval), and a warning for a date of
        effect before today (a backdated approval)."""
        day = today()
        backdated = data.outcome == "approved" and effective is not None and effective < day
        findings = read.screening.findings if read.screening else []
        return Template("ui/admission_confirm.html", status_code=status_code, context=page_context(
            request, r=read, form=data, outcome_label=OUTCOMES[data.outcome], effective=effective,
            findings=findings, backdated=backdated, today=day, submitted_on=_submitted_on(read), error=error,
            **labels()))

    @post("/{request_id:int}/decision", opt=_read("review"), status_code=303)
    async def decide(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                     data: Form) -> Template | Redirect:
        error, effective = _checked(data)
        if error:
            return await self._detail(request, db, request_id, form=data, error=error, status_code=422)
        read = await admission.get(db, request_id=request_id, subject=subject_of(request),
                                   may_review=lambda code: may(request, "admission_request", "review", code))
        findings = read.screening.findings if read.screening else []
        if findings and data.acknowledged != "1":
            return await self._confirm(request, read, data, effective, status_code=422,
                                       error="请确认已阅读全部自动审查提示。")
        acknowledged = sorted({f["rule"] if isinstance(f, dict) else f.rule for f in findings}) or None
        actor = Actor.from_connection(request, "county_reviewer")
        try:
            async with db.transaction():  # a savepoint: a refused decision leaves nothing behind
                current = await admission.get(db, request_id=request_id, subject=subject_of(request),
                                              may_review=lambda code: may(request, "admission_request", "review",
                                                                          code))
                if current.status == "submitted":
                    await admission.start_review(db, actor=actor, request_id=request_id)
                await admission.decide(db, actor=actor, request_id=request_id, decision=Decision(
                    outcome=data.outcome, reason=data.reason.strip(), effective_from=effective,  # type: ignore[arg-type]
                    acknowledged_findings=acknowledged))
        except ServiceError as exc:
            return await self._detail(request, db, request_id, form=data, error=problem_text(exc, locale_of(request)),
                                      status_code=exc.status)
        return Redirect(f"/ui/admission/{request_id}?done={data.outcome}", status_code=303)
