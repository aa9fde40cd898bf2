"""A department's own requests on the web, for offices without an API integration: the admission request as a
form (the API's submission model, screened before it is sent by the service behind the API's /screen), drafts,
submission, state and history, withdrawal, resubmission after a return; a street office's secondment requests.

HTTP only: every rule is the admission or secondment service's (the same functions the API calls)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from service.admission import service as admission
from service.admission.context import ScreeningSource
from service.admission.routes import request_county
from service.admission.schemas import AdmissionSubmission, Screening
from service.core.audit import Actor
from service.core.auth import identity_of
from service.core.authz import Permission
from service.core.clock import today
from service.core.db import DB
from service.core.errors import InvalidTransition, ServiceError
from service.registry.routes import LIST_LABELS
from service.registry.schemas import LISTS_OF_KIND
from service.secondments import service as secondments
from service.secondments.routes import request_domain
from service.secondments.schemas import SecondmentCreate
from service.web import labels as words
from service.web import names
from service.web.context import PAGE_HEADERS, page_context
from service.web.pages.common import (
    PAGE_ERRORS,
    authorizer_of,
    children,
    domains,
    labels,
    locale_of,
    may,
    place_name,
    problem_text,
    subject_of,
)
from service.workers import service as workers

KIND_LABELS = {"task": "工作事项", "plaque": "机制牌子", "certificate": "证明事项", "report": "报表台账",
               "digital": "应用程序、公众账号、工作群组"}
KIND_OF_LIST = {name: kind for kind, lists in LISTS_OF_KIND.items() for name in lists}
ROLE_CHOICES = (("assisting", "协助（社区协助部门开展工作）"), ("responsible", "责任主体（社区承担主要责任）"))
FREQUENCIES = tuple((k, zh) for k, (zh, _) in words.FREQUENCY.items())
DIGITAL_KINDS = tuple((k, zh) for k, (zh, _) in words.DIGITAL.items())
ORGAN_LEVELS = (("street", "街道（乡镇）"), ("county", "县级"), ("city", "市级"), ("province", "省级"),
                ("national", "中央"), ("other", "其他"))
SECONDMENT_FORMS = (("secondment", "借调"), ("temporary_transfer", "抽调"), ("shadow_learning", "跟班学习"),
                    ("task_force", "工作专班"))
DIGITAL_ROWS = 3
ATTACHMENT_ROWS = 2
# what a person must fill in, by the field's name in the form (the API's required fields)
REQUIRED = {"list": "请选择事项类别。", "title": "请填写事项名称。", "targets": "请至少选择一个目标社区、街道或全县。",
            "community_role": "请选择社区承担的角色。", "start_date": "请填写开始日期。",
            "justification": "请填写申请理由。"}
# a value the model refuses, by the field it names
INVALID = {"title": "事项名称过长或含有不可见字符。", "start_date": "日期格式不正确。", "end_date": "日期格式不正确。",
           "funding_yuan": "经费须为不小于0的整数（元）。", "staff": "人员须为不小于0的整数。",
           "targets": "目标代码不正确。", "report_fields": "请每行填写一个报表字段。",
           "item_code": "编号只能由字母、数字、点、横线和下划线组成。",
           "attachments": "附件须为 http(s) 网址及其 SHA-256 摘要（64位十六进制）。",
           "digital_needs": "请填写应用程序、公众账号或工作群组的名称。"}
NOTICES = {"draft": "草稿已保存：审核部门在您提交之前看不到它。", "submitted": "已提交：申请已送审核部门。",
           "refused": "申请违反禁止性规定，已被自动拒绝，原因见下方。", "withdrawn": "申请已撤回。",
           "resubmitted": "已重新提交：修改后的申请已送审核部门。"}
SECONDMENT_NOTICES = {"submitted": "借调申请已提交，送县委组织部审批。", "withdrawn": "借调申请已撤回。"}


def _source(request: Request[Any, Any, Any]) -> ScreeningSource:
    source: ScreeningSource = request.app.state.admission_source
    return source


def _may_submit(request: Request[Any, Any, Any]) -> Any:
    return lambda code: may(request, "admission_request", "submit", code)


def _submitter(request: Request[Any, Any, Any]) -> admission.Submitter:
    identity = identity_of(request)
    return admission.Submitter(subject=identity.subject, client_id=None,
                               department=identity.organisation or identity.name,
                               organisation_level=identity.organisation_level)


def _one(form: FormMultiDict, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _raw(form: FormMultiDict) -> dict[str, Any]:
    """The form as typed (to show again), nothing converted."""
    raw: dict[str, Any] = {name: _one(form, name) for name in (
        "list", "title", "content", "community_role", "policy_area", "basis", "basis_number", "funding_yuan",
        "funding_source", "staff", "authority", "start_date", "end_date", "time_limit", "data_needs", "report_name",
        "report_fields", "report_frequency", "justification", "item_code", "more_targets")}
    raw["targets"] = [t for t in form.getall("targets", []) if isinstance(t, str)][:500]
    raw["digital"] = [(_one(form, f"digital_kind_{i}"), _one(form, f"digital_name_{i}")) for i in range(DIGITAL_ROWS)]
    raw["attachments"] = [(_one(form, f"attachment_url_{i}"), _one(form, f"attachment_sha256_{i}"),
                           _one(form, f"attachment_name_{i}")) for i in range(ATTACHMENT_ROWS)]
    return raw


def _blank() -> dict[str, Any]:
    return {"targets": [], "digital": [("", "")] * DIGITAL_ROWS, "attachments": [("", "", "")] * ATTACHMENT_ROWS,
            "community_role": "assisting"}


def _from_body(body: dict[str, Any]) -> dict[str, Any]:
    """A stored submission (a draft, a returned request) as the form shows it."""
    res = body.get("resources") or {}
    report = body.get("report_form") or {}
    digital = [(d.get("kind", ""), d.get("name", "")) for d in body.get("digital_needs") or []]
    attachments = [(a.get("url", ""), a.get("sha256", ""), a.get("name") or "") for a in body.get("attachments") or []]
    text = {k: "" if body.get(k) is None else str(body.get(k)) for k in (
        "list", "title", "content", "community_role", "policy_area", "basis", "basis_number", "start_date",
        "end_date", "time_limit", "data_needs", "justification", "item_code")}
    return {**text, "funding_yuan": "" if res.get("funding_yuan") is None else str(res["funding_yuan"]),
            "funding_source": res.get("funding_source") or "", "staff": "" if res.get("staff") is None else
            str(res["staff"]), "authority": res.get("authority") or "", "report_name": report.get("name", ""),
            "report_fields": "\n".join(report.get("fields", [])), "report_frequency": report.get("frequency", ""),
            "targets": list(body.get("targets") or []), "more_targets": "",
            "digital": (digital + [("", "")] * DIGITAL_ROWS)[:max(DIGITAL_ROWS, len(digital))],
            "attachments": (attachments + [("", "", "")] * ATTACHMENT_ROWS)[:max(ATTACHMENT_ROWS, len(attachments))]}


def _opt(value: str) -> str | None:
    return value or None


def _field_of(path: str) -> str:
    """msgspec's `$.resources.funding_yuan` or `$.targets[0]` as the form's field name."""
    parts = [p for p in re.split(r"[.\[\]$]+", path) if p and not p.isdigit()]
    if parts[:2] == ["report_form", "fields"]:
        return "report_fields"
    if parts and parts[0] in ("report_form",):
        return "report_name"
    return parts[-1] if parts and parts[0] != "resources" else (parts[-1] if len(parts) > 1 else "resources")


def submission_of(raw: dict[str, Any]) -> tuple[AdmissionSubmission | None, dict[str, str]]:
    """The form as the API's submission model, or what to correct (every missing field at once)."""
    errors = {name: text for name, text in REQUIRED.items()
              if not (raw["targets"] or raw["more_targets"] if name == "targets" else raw.get(name))}
    if raw["list"] and raw["list"] not in KIND_OF_LIST:
        errors["list"] = REQUIRED["list"]
    if errors:
        return None, errors
    targets = list(dict.fromkeys(raw["targets"] + [t for t in re.split(r"[\s,，、;；]+", raw["more_targets"]) if t]))
    body: dict[str, Any] = {
        "kind": KIND_OF_LIST[raw["list"]], "list": raw["list"], "title": raw["title"], "content": raw["content"],
        "targets": targets, "community_role": raw["community_role"], "policy_area": _opt(raw["policy_area"]),
        "basis": _opt(raw["basis"]), "basis_number": _opt(raw["basis_number"]),
        "resources": {"funding_yuan": _opt(raw["funding_yuan"]), "funding_source": _opt(raw["funding_source"]),
                      "staff": _opt(raw["staff"]), "authority": _opt(raw["authority"])},
        "start_date": raw["start_date"], "end_date": _opt(raw["end_date"]), "time_limit": _opt(raw["time_limit"]),
        "data_needs": _opt(raw["data_needs"]), "justification": raw["justification"],
        "item_code": _opt(raw["item_code"]),
        "digital_needs": [{"kind": k, "name": n} for k, n in raw["digital"] if n],
        "attachments": [{"url": u, "sha256": s.lower(), **({"name": n} if n else {})}
                        for u, s, n in raw["attachments"] if u or s],
    }
    if raw["report_name"] or raw["report_fields"]:
        body["report_form"] = {"name": raw["report_name"], "frequency": raw["report_frequency"] or "once",
                               "fields": [f.strip() for f in raw["report_fields"].splitlines() if f.strip()]}
    try:
        return msgspec.convert(body, AdmissionSubmission, strict=False), {}
    except msgspec.ValidationError as exc:
        text = str(exc)
        where = re.search(r"at `([^`]+)`", text)
        missing = re.search(r"missing required field `(\w+)`", text)
        name = missing.group(1) if missing else _field_of(where.group(1)) if where else "title"
        return None, {name: INVALID.get(name) or REQUIRED.get(name) or "此项填写有误，请检查。"}


def service_errors(exc: ServiceError) -> dict[str, str]:
    """The fields a refusal names, with the service's own words (shown in the page's language)."""
    out: dict[str, str] = {}
    for p in exc.invalid_params or []:
        name = _field_of("$." + p.name) if "." in p.name or "[" in p.name else p.name
        out.setdefault(name, p.reason)
    return out


class DepartmentPages(Controller):
    path = "/ui/department"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    # ---- the admission request form ----

    def _targets(self, request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
        """The places the person may submit to: each county (or street) it holds the role at, with the streets
        and communities below."""
        out = []
        for code in sorted(domains(request, "admission_request", "submit")):
            node = authorizer_of(request).tree.get(code)
            if node is None or node.level not in ("county", "street", "community"):
                continue
            streets = children(request, code, "street") if node.level == "county" else []
            out.append({"code": code, "name": node.name, "level": node.level, "streets": [
                {"code": s.code, "name": s.name, "communities": children(request, s.code, "community")}
                for s in streets], "communities": children(request, code, "community") if node.level == "street"
                else []})
        return out

    def _form(self, request: Request[Any, Any, Any], *, raw: dict[str, Any], action: str, mode: str,
              errors: dict[str, str] | None = None, error: str | None = None, screening: dict[str, Screening] | None
              = None, status_code: int = 200, r: Any = None) -> Template:
        lists = [(kind, KIND_LABELS[kind], [(name, LIST_LABELS.get(name, name)) for name in names_])
                 for kind, names_ in LISTS_OF_KIND.items()]
        return Template("ui/department/request_form.html", status_code=status_code, context=page_context(
            request, form=raw, action=action, mode=mode, errors=errors or {}, error=error, screening=screening,
            places=self._targets(request), list_groups=lists, roles=ROLE_CHOICES, frequencies=FREQUENCIES,
            digital_kinds=DIGITAL_KINDS, county_name=lambda code: place_name(request, code), r=r,
            department=identity_of(request).organisation or identity_of(request).name,
            **labels()))

    @get("/", opt={"permission": Permission("admission_request", "submit")})
    async def index(self, request: Request[Any, Any, Any], db: DB) -> Template:
        """The person's own admission requests (drafts included) and, for a street office, its secondments."""
        page = await admission.list_requests(db, subject=subject_of(request), review_counties=[], status=None,
                                             county_code=None, overdue=False, before=None, limit=200)
        seconded = []
        for code in domains(request, "secondment_request", "submit"):
            seconded += (await secondments.list_requests(db, jurisdiction=code, state=None, organ=None,
                                                         worker=None)).items
        seconded.sort(key=lambda s: s.created_at, reverse=True)
        return Template("ui/department/index.html", context=page_context(
            request, rows=page.items, seconded=seconded, county_name=lambda code: place_name(request, code),
            may_second=bool(domains(request, "secondment_request", "submit")), **labels()))

    @get("/requests/new", opt={"permission": Permission("admission_request", "submit")})
    async def new_request(self, request: Request[Any, Any, Any]) -> Template:
        return self._form(request, raw=_blank(), action="/ui/department/requests/new", mode="new")

    @post("/requests/new", opt={"permission": Permission("admission_request", "submit")}, status_code=303)
    async def create_request(self, request: Request[Any, Any, Any], db: DB) -> Template | Redirect:
        """`step`: screen (the result on the form, nothing stored), draft (saved, the reviewers do not see it)
        or submit."""
        form = await request.form()
        raw, step = _raw(form), _one(form, "step")
        data, errors = submission_of(raw)
        action = "/ui/department/requests/new"
        if data is None:
            return self._form(request, raw=raw, action=action, mode="new", errors=errors, status_code=422)
        try:
            async with db.transaction():  # a savepoint: a refused step leaves nothing behind
                if step == "screen":
                    found = await admission.check(db, data=data, may_submit=_may_submit(request),
                                                  source=_source(request), tree=authorizer_of(request).tree,
                                                  lang="en" if locale_of(request) == "en" else "zh")
                    return self._form(request, raw=raw, action=action, mode="new", screening=found, status_code=200)
                made = await admission.submit(db, actor=Actor.from_connection(request, "department"),
                                              submitter=_submitter(request), data=data, draft=step != "submit",
                                              may_submit=_may_submit(request), source=_source(request),
                                              tree=authorizer_of(request).tree)
        except ServiceError as exc:
            return self._form(request, raw=raw, action=action, mode="new", errors=service_errors(exc),
                              error=problem_text(exc, locale_of(request)), status_code=exc.status)
        done = "draft" if made.status == "draft" else made.status
        return Redirect(f"/ui/department/requests/{made.id}?done={done}", status_code=303)

    # ---- one request: state, history, the department's next steps ----

    async def _own(self, request: Request[Any, Any, Any], db: Any, request_id: int) -> Any:
        """The request if this person submitted it (404 otherwise, as the API answers)."""
        return await admission.visible(db, request_id=request_id, subject=subject_of(request),
                                       may_review=lambda _code: False)

    @get("/requests/{request_id:int}", opt={"permission": Permission("admission_request", "read",
                                                                      domain=request_county, hide=True)})
    async def detail(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                     done: Annotated[str | None, QueryParameter(
                         pattern="^(draft|submitted|refused|withdrawn|resubmitted)$")] = None) -> Template:
        return await self._detail(request, db, request_id, notice=NOTICES.get(done or ""))

    async def _detail(self, request: Request[Any, Any, Any], db: Any, request_id: int, *, notice: str | None = None,
                      error: str | None = None, status_code: int = 200) -> Template:
        row = await self._own(request, db, request_id)
        r = await admission.to_read(db, row)
        history = await admission.history(db, row=row)
        who = await names.lookup(db, [h.actor for h in history], locale=locale_of(request))
        return Template("ui/department/request.html", status_code=status_code, context=page_context(
            request, r=r, body=r.submission, history=history, who=who, notice=notice, error=error,
            county=place_name(request, r.county_code), lists=LIST_LABELS,
            targets=[(c, place_name(request, c)) for c in r.targets], **labels()))

    @get("/requests/{request_id:int}/edit", opt={"permission": Permission("admission_request", "submit",
                                                                           domain=request_county, hide=True)})
    async def edit_request(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int]) -> Template:
        """A draft to change, or a returned request to amend and resubmit (the form filled in with it)."""
        r = await admission.to_read(db, await self._own(request, db, request_id))
        if r.status not in ("draft", "returned"):
            raise InvalidTransition("只有草稿或退回修改的申请可以修改 (only a draft or a returned request can be "
                                    "changed)", allowed=r.allowed_transitions)
        return self._form(request, raw=_from_body(r.submission), action=f"/ui/department/requests/{r.id}/edit",
                          mode=r.status, r=r)

    @post("/requests/{request_id:int}/edit", opt={"permission": Permission("admission_request", "submit",
                                                                            domain=request_county, hide=True)},
          status_code=303)
    async def save_request(self, request: Request[Any, Any, Any], db: DB,
                           request_id: FromPath[int]) -> Template | Redirect:
        """A draft: saved (`step` draft) or saved and submitted; a returned request: resubmitted as a new
        revision (screened again). `screen` shows the result on the form and stores nothing."""
        r = await admission.to_read(db, await self._own(request, db, request_id))
        form = await request.form()
        raw, step = _raw(form), _one(form, "step")
        action = f"/ui/department/requests/{r.id}/edit"
        data, errors = submission_of(raw)
        if data is None:
            return self._form(request, raw=raw, action=action, mode=r.status, errors=errors, status_code=422, r=r)
        actor = Actor.from_connection(request, "department")
        try:
            async with db.transaction():
                if step == "screen":
                    found = await admission.check(db, data=data, may_submit=_may_submit(request),
                                                  source=_source(request), tree=authorizer_of(request).tree,
                                                  lang="en" if locale_of(request) == "en" else "zh")
                    return self._form(request, raw=raw, action=action, mode=r.status, screening=found, r=r)
                if r.status == "returned":
                    made = await admission.resubmit(db, actor=actor, submitter=_submitter(request),
                                                    request_id=r.id, data=data, may_submit=_may_submit(request),
                                                    source=_source(request))
                    done = "resubmitted" if made.status == "submitted" else made.status
                    return Redirect(f"/ui/department/requests/{made.id}?done={done}", status_code=303)
                saved = await admission.edit_draft(db, actor=actor, subject=subject_of(request), request_id=r.id,
                                                   data=data, may_submit=_may_submit(request))
                if step == "submit":
                    saved = await admission.submit_draft(db, actor=actor, subject=subject_of(request),
                                                         request_id=r.id, source=_source(request))
        except ServiceError as exc:
            return self._form(request, raw=raw, action=action, mode=r.status, errors=service_errors(exc),
                              error=problem_text(exc, locale_of(request)), status_code=exc.status, r=r)
        return Redirect(f"/ui/department/requests/{saved.id}?done={saved.status if step == 'submit' else 'draft'}",
                        status_code=303)

    @post("/requests/{request_id:int}/submit", opt={"permission": Permission("admission_request", "submit",
                                                                              domain=request_county, hide=True)},
          status_code=303)
    async def submit_draft(self, request: Request[Any, Any, Any], db: DB,
                           request_id: FromPath[int]) -> Template | Redirect:
        await self._own(request, db, request_id)
        try:
            async with db.transaction():
                made = await admission.submit_draft(db, actor=Actor.from_connection(request, "department"),
                                                    subject=subject_of(request), request_id=request_id,
                                                    source=_source(request))
        except ServiceError as exc:
            return await self._detail(request, db, request_id, error=problem_text(exc, locale_of(request)),
                                      status_code=exc.status)
        return Redirect(f"/ui/department/requests/{made.id}?done={made.status}", status_code=303)

    @post("/requests/{request_id:int}/withdraw", opt={"permission": Permission("admission_request", "submit",
                                                                                domain=request_county, hide=True)},
          status_code=303)
    async def withdraw(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int]) -> Template | Redirect:
        await self._own(request, db, request_id)
        reason = _one(await request.form(), "reason", 2000)
        try:
            async with db.transaction():
                await admission.withdraw(db, actor=Actor.from_connection(request, "department"),
                                         subject=subject_of(request), request_id=request_id, reason=reason or None)
        except ServiceError as exc:
            return await self._detail(request, db, request_id, error=problem_text(exc, locale_of(request)),
                                      status_code=exc.status)
        return Redirect(f"/ui/department/requests/{request_id}?done=withdrawn", status_code=303)

    # ---- a street office's secondment requests ----

    async def _secondment_form(self, request: Request[Any, Any, Any], db: Any, *, raw: dict[str, Any],
                               errors: dict[str, str] | None = None, error: str | None = None,
                               status_code: int = 200) -> Template:
        communities = []
        for code in sorted(domains(request, "secondment_request", "submit")):
            node = authorizer_of(request).tree.get(code)
            if node is None:
                continue
            places = [node] if node.level == "community" else children(request, code, "community")
            for c in places:
                staff = await workers.list_workers(db, jurisdiction=c.code, status="in_post")
                communities.append({"code": c.code, "name": c.name, "workers": staff})
        return Template("ui/department/secondment_form.html", status_code=status_code, context=page_context(
            request, form=raw, errors=errors or {}, error=error, communities=communities, levels=ORGAN_LEVELS,
            forms=SECONDMENT_FORMS, **labels()))

    @get("/secondments/new", opt={"authenticated": True})
    async def new_secondment(self, request: Request[Any, Any, Any], db: DB) -> Template:
        """Open to anyone signed in, as the API's submission is: an organ at county level or above is refused
        and counted by the service, not turned away here."""
        identity = identity_of(request)
        raw = {"organ_name": identity.organisation or "", "organ_level": identity.organisation_level or "street",
               "form": "secondment", "workers": []}
        return await self._secondment_form(request, db, raw=raw)

    @post("/secondments/new", opt={"authenticated": True}, status_code=303)
    async def create_secondment(self, request: Request[Any, Any, Any], db: DB) -> Template | Redirect:
        form = await request.form()
        raw = {name: _one(form, name, 2000) for name in (
            "organ_name", "organ_level", "form", "home_community_code", "purpose", "start_date", "end_date",
            "destination", "worker_consent", "community_consent")}
        raw["workers"] = [w for w in form.getall("workers", []) if isinstance(w, str)][:20]
        missing = {name: text for name, text in (
            ("organ_name", "请填写借用单位。"), ("home_community_code", "请选择社区。"),
            ("workers", "请至少选择一名社区工作者。"), ("purpose", "请填写借调事由。"),
            ("start_date", "请填写开始日期。"), ("end_date", "请填写结束日期。")) if not raw[name]}
        if missing:
            return await self._secondment_form(request, db, raw=raw, errors=missing, status_code=422)
        body = {"organ": {"name": raw["organ_name"], "level": raw["organ_level"] or "street"}, "form": raw["form"],
                "home_community_code": raw["home_community_code"], "workers": raw["workers"],
                "purpose": raw["purpose"], "start_date": raw["start_date"], "end_date": raw["end_date"],
                "worker_consent": raw["worker_consent"] == "1", "community_consent": raw["community_consent"] == "1",
                "destination": raw["destination"] or None}
        try:
            data = msgspec.convert(body, SecondmentCreate, strict=False)
        except msgspec.ValidationError as exc:
            where = re.search(r"at `([^`]+)`", str(exc))
            name = _field_of(where.group(1)) if where else "purpose"
            name = {"name": "organ_name", "level": "organ_level"}.get(name, name)
            return await self._secondment_form(request, db, raw=raw, status_code=422,
                                               errors={name: "此项填写有误，请检查。"})
        identity = identity_of(request)
        authorizer = authorizer_of(request)
        caller = secondments.Caller(
            actor=Actor.from_connection(request, "street_office"), client_id=None,
            organisation_level=identity.organisation_level, home_jurisdiction=identity.home_jurisdiction,
            may_submit=lambda code: authorizer.allowed(identity.subject, "secondment_request", "submit", code),
            submits_somewhere=bool(authorizer.domains_allowing(identity.subject, "secondment_request", "submit")))
        try:
            async with db.transaction():
                made = await secondments.submit(db, caller=caller, data=data, today=today())
        except ServiceError as exc:
            errors = {{"organ.name": "organ_name", "organ.level": "organ_level"}.get(p.name, _field_of("$." + p.name)):
                      p.reason for p in exc.invalid_params or []}
            return await self._secondment_form(request, db, raw=raw, errors=errors, status_code=exc.status,
                                               error=problem_text(exc, locale_of(request)))
        if made.status == "refused":
            # refused at once and kept as evidence: the answer is this page (the requester may not read the
            # request's own page when it sits at county level)
            return Template("ui/department/secondment.html", status_code=200, context=page_context(
                request, s=made, notice=None, error=None, can_withdraw=False, **labels()))
        return Redirect(f"/ui/department/secondments/{made.id}?done=submitted", status_code=303)

    @get("/secondments/{request_id:int}", opt={"permission": Permission("secondment_request", "read",
                                                                         domain=request_domain, hide=True)})
    async def secondment(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                         done: Annotated[str | None, QueryParameter(pattern="^(submitted|withdrawn)$")] = None
                         ) -> Template:
        return await self._secondment(request, db, request_id, notice=SECONDMENT_NOTICES.get(done or ""))

    async def _secondment(self, request: Request[Any, Any, Any], db: Any, request_id: int, *,
                          notice: str | None = None, error: str | None = None, status_code: int = 200) -> Template:
        s = await secondments.get(db, request_id=request_id)
        code = s.home_community_code or s.county_code
        can_withdraw = "withdrawn" in s.allowed_transitions and may(request, "secondment_request", "submit", code)
        return Template("ui/department/secondment.html", status_code=status_code, context=page_context(
            request, s=s, notice=notice, error=error, can_withdraw=can_withdraw, **labels()))

    @post("/secondments/{request_id:int}/withdraw", opt={"permission": Permission(
        "secondment_request", "submit", domain=request_domain, hide=True, visible_with="read")}, status_code=303)
    async def withdraw_secondment(self, request: Request[Any, Any, Any], db: DB,
                                  request_id: FromPath[int]) -> Template | Redirect:
        reason = _one(await request.form(), "reason", 2000)
        if not reason:
            return await self._secondment(request, db, request_id, error="请填写撤回理由。", status_code=422)
        try:
            async with db.transaction():
                await secondments.withdraw(db, actor=Actor.from_connection(request, "street_office"),
                                           request_id=request_id, reason=reason)
        except ServiceError as exc:
            return await self._secondment(request, db, request_id, error=problem_text(exc, locale_of(request)),
                                          status_code=exc.status)
        return Redirect(f"/ui/department/secondments/{request_id}?done=withdrawn", status_code=303)
