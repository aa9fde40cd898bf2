"""Secondments (借调): the county's requests, one request in full, the organisation department's confirmed
decision, and the return of the worker."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from service.core.audit import Actor
from service.core.authz import Permission
from service.core.clock import today
from service.core.db import DB
from service.core.errors import ServiceError
from service.counties.service import load_settings
from service.decisions import service as decisions
from service.secondments import service as secondments
from service.secondments.routes import request_domain
from service.secondments.schemas import SecondmentDecision, SecondmentReturn
from service.web import names
from service.web.context import PAGE_HEADERS, page_context
from service.web.pages.common import PAGE_ERRORS, domains, labels, locale_of, may, place_name, problem_text
from service.workers import service as workers

OUTCOMES = {"approve": "批准", "reject": "不予批准"}
STATES = {"pending": "待审批", "current": "当前", "active": "借调中", "overdue": "逾期未返岗", "past": "已结束",
          "refused": "已拒绝（自动）"}


class DecisionForm(msgspec.Struct):
    outcome: str = ""
    reasons: str = ""


class ReturnForm(msgspec.Struct):
    returned_on: str = ""
    note: str = ""


def _on(act: str) -> dict[str, Any]:
    return {"permission": Permission("secondment_request", act, domain=request_domain, hide=True)}


def _checked(form: DecisionForm) -> str | None:
    if form.outcome not in OUTCOMES:
        return "请选择审批结论。"
    if not form.reasons.strip():
        return "请填写审批理由。"
    return "审批理由不能超过2000字。" if len(form.reasons) > 2000 else None


class SecondmentPages(Controller):
    path = "/ui/secondments"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    @get("/", opt={"permission": Permission("secondment_request", "read")})
    async def index(
        self, request: Request[Any, Any, Any], db: DB,
        state_filter: Annotated[str | None, QueryParameter(
            name="state", pattern="^(|pending|current|active|overdue|past|refused)$")] = None,
    ) -> Template:
        rows = []
        for code in domains(request, "secondment_request", "read"):
            found = await secondments.list_requests(db, jurisdiction=code, state=state_filter or None, organ=None,
                                                    worker=None)
            rows += found.items
        rows.sort(key=lambda s: s.created_at, reverse=True)
        return Template("ui/secondments.html", context=page_context(
            request, rows=rows, states=STATES, state=state_filter or "", **labels()))

    async def _detail(self, request: Request[Any, Any, Any], db: Any, request_id: int, *,
                      form: DecisionForm | None = None, error: str | None = None, status_code: int = 200,
                      notice: str | None = None) -> Template:
        s = await secondments.get(db, request_id=request_id)
        where = s.home_community_code
        effect, staffing = None, None
        if where:
            staffing = await workers.community_staffing(db, community_code=where, on=today())
            if s.status == "pending_approval":
                effect = await secondments.staffing_warning(db, community_code=where, start=s.start_date,
                                                            worker_count=len(s.workers))
        code = where or s.county_code
        limits = await load_settings(db, county_code=s.county_code)
        months = {"max_duration": limits.secondment_max_months, "total_duration": limits.secondment_total_max_months,
                  "cooldown": limits.secondment_cooldown_months}
        rules = {key: text.format(n=months.get(key, "")) for key, text in secondments.RULE_TEXT.items()}
        who = await names.lookup(db, [s.submitted_by, s.decided_by, s.return_recorded_by], locale=locale_of(request))
        document = await decisions.of_subject(db, subject_type="secondment_request", subject_id=request_id)
        return Template("ui/secondment.html", status_code=status_code, context=page_context(
            request, s=s, staffing=staffing, who=who, effect=effect, rule_text=rules,
            can_decide=s.status == "pending_approval" and may(request, "secondment_request", "decide", code),
            # a return is recorded once the secondment has begun (the service refuses a return before the start)
            can_return="returned" in s.allowed_transitions and s.start_date <= today()
            and may(request, "secondment_request", "return", code),
            place=place_name(request, where), form=form or DecisionForm(), error=error, outcomes=OUTCOMES,
            notice=notice, today=today(), document=document, **labels()))

    @get("/{request_id:int}", opt=_on("read"))
    async def detail(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                     done: Annotated[str | None, QueryParameter(pattern="^(approve|reject|return)$")] = None
                     ) -> Template:
        notice = {"approve": "已批准：决定已记录。", "reject": "已不予批准：决定已记录。",
                  "return": "已登记返岗。"}.get(done or "")
        return await self._detail(request, db, request_id, notice=notice)

    @post("/{request_id:int}/confirm", opt=_on("decide"), status_code=200)
    async def confirm(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                      data: Annotated[DecisionForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Template:
        """The confirmation step: nothing is sent until the decision is confirmed on this page."""
        error = _checked(data)
        if error:
            return await self._detail(request, db, request_id, form=data, error=error, status_code=422)
        s = await secondments.get(db, request_id=request_id)
        effect = None
        if data.outcome == "approve" and s.home_community_code:
            effect = await secondments.staffing_warning(db, community_code=s.home_community_code, start=s.start_date,
                                                        worker_count=len(s.workers))
        return Template("ui/secondment_confirm.html", context=page_context(
            request, s=s, form=data, outcome_label=OUTCOMES[data.outcome], effect=effect, **labels()))

    @post("/{request_id:int}/decision", opt=_on("decide"), status_code=303)
    async def decide(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                     data: Annotated[DecisionForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                     ) -> Template | Redirect:
        error = _checked(data)
        if error:
            return await self._detail(request, db, request_id, form=data, error=error, status_code=422)
        try:
            async with db.transaction():  # a savepoint: a refused decision leaves nothing behind
                await secondments.decide(db, actor=Actor.from_connection(request, "org_department"),
                                         request_id=request_id, today=today(), data=SecondmentDecision(
                                             outcome=data.outcome, reasons=data.reasons.strip()))  # type: ignore[arg-type]
        except ServiceError as exc:
            return await self._detail(request, db, request_id, form=data, error=problem_text(exc, locale_of(request)),
                                      status_code=exc.status)
        return Redirect(f"/ui/secondments/{request_id}?done={data.outcome}", status_code=303)

    @post("/{request_id:int}/return", opt=_on("return"), status_code=303)
    async def record_return(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                            data: Annotated[ReturnForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                            ) -> Template | Redirect:
        try:
            returned_on = datetime.date.fromisoformat(data.returned_on) if data.returned_on else None
            async with db.transaction():
                await secondments.record_return(db, actor=Actor.from_connection(request), request_id=request_id,
                                                today=today(), data=SecondmentReturn(returned_on=returned_on,
                                                                                     note=data.note[:2000]))
        except ValueError:
            return await self._detail(request, db, request_id, error="返岗日期格式不正确。", status_code=422)
        except ServiceError as exc:
            return await self._detail(request, db, request_id, error=problem_text(exc, locale_of(request)),
                                      status_code=exc.status)
        return Redirect(f"/ui/secondments/{request_id}?done=return", status_code=303)
