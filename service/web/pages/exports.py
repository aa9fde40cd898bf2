"""The pages' tables as Excel workbooks (.xlsx, openpyxl): the inbox, a county's or a community's list (at
any date or release), complaints, secondments and the audit search.

Each export has the page's own filters and rows: the inbox, complaints and secondments are read by calling
the page's own handler with the page's query string (validated as the page validates it), following the
page's "next" links until there are none, so nothing is cut off; the list comes from the same service call
and filter as the list page; the audit search streams from the audit area's server-side cursor, as the CSV
does. Headers in the page's language, dates and times as Excel dates (Beijing time), names and words, never
codes (service/web/labels.py, names.py)."""

from __future__ import annotations

import datetime
import io
import re
import typing
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, KwargDefinition, QueryParameter
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from service.audit import service as audit
from service.audit.routes import scope_of
from service.core.authz import Permission
from service.core.clock import CHINA
from service.core.db import DB
from service.core.errors import ValidationFailed
from service.core.schemas import parse_day
from service.registry import service as registry
from service.registry.routes import LIST_LABELS
from service.web import labels as words
from service.web.context import PAGE_HEADERS
from service.web.pages.audit import _filters as audit_filters
from service.web.pages.audit import readable_rows
from service.web.pages.common import PAGE_ERRORS, locale_of, place_name
from service.web.pages.complaints import SUBJECT_LABELS, ComplaintPages
from service.web.pages.inbox import InboxPage
from service.web.pages.lists import KIND_LABELS, ON_PLACE, ListPages
from service.web.pages.secondments import SecondmentPages

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_PAGES = 100_000  # the pages' own "next" links are followed; this only stops a page that never ends
KIND_WORDS = {"admission": ("准入申请", "Admission request"), "secondment": ("借调申请", "Secondment request"),
              "complaint": ("投诉", "Complaint")}
FORM_WORDS = {"secondment": ("借调", "Secondment"), "temporary_transfer": ("抽调", "Temporary transfer"),
              "shadow_learning": ("跟班学习", "Shadow learning"), "task_force": ("工作专班", "Task force")}
YES_NO = (("是", "Yes"), ("否", "No"))
LISTS_EN = {"duty": "Duties", "assisting": "Assisting", "prohibited": "Prohibited", "exterior": "Exterior plaques",
            "interior": "Interior plaques", "mechanism": "Mechanisms", "retained": "Retained certificates",
            "cancelled": "Cancelled certificates", "report_form": "Report forms", "ledger": "Ledgers",
            "app": "Apps", "account": "Public accounts", "work_group": "Work groups"}
KINDS_EN = {"task": "Work matter", "plaque": "Plaque", "certificate": "Certificate", "report": "Report or ledger",
            "digital": "App or group"}
SUBJECTS_EN = {"task": "Work matter", "app": "Government app", "work_group": "Work group", "plaque": "Plaque",
               "certificate": "Certificate", "report": "Report form", "other": "Other"}


def _pick(pair: tuple[str, str], locale: str) -> str:
    return pair[1] if locale == "en" else pair[0]


def _yes(value: bool, locale: str) -> str:
    return _pick(YES_NO[0] if value else YES_NO[1], locale)


# ---- the page's own query string, validated as the page validates it ----

def _definitions(fn: Any) -> dict[str, tuple[str, KwargDefinition | None]]:
    """The handler's query parameters: argument name -> (name in the query string, its constraints)."""
    hints = typing.get_type_hints(fn, include_extras=True)
    out: dict[str, tuple[str, KwargDefinition | None]] = {}
    for name, hint in hints.items():
        if name in ("return", "request", "db", "self"):
            continue
        extra = next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, KwargDefinition)), None)
        alias = (getattr(extra, "name", None) or getattr(extra, "query", None)) if extra is not None else None
        out[name] = (alias or name, extra)
    return out


def page_filters(fn: Any, query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The keyword arguments the page's handler gets for this query string; a value the page would refuse
    (its pattern, length or bounds) is refused here the same way (422 naming the field)."""
    given = dict(query)
    out: dict[str, Any] = {}
    for arg, (key, extra) in _definitions(fn).items():
        if key not in given:
            continue
        value: Any = given[key]
        if extra is not None:
            if extra.max_length is not None and len(value) > extra.max_length:
                raise ValidationFailed.field(key, f"{key} 过长 ({key} is too long)")
            if extra.pattern is not None and not re.search(extra.pattern, value):
                raise ValidationFailed.field(key, f"{key} 无效 ({key} is invalid)")
            if extra.ge is not None or extra.le is not None:
                if not value.isdigit():
                    raise ValidationFailed.field(key, f"{key} 须为整数 ({key} must be a whole number)")
                value = int(value)
                if (extra.ge is not None and value < extra.ge) or (extra.le is not None and value > extra.le):
                    raise ValidationFailed.field(key, f"{key} 超出范围 ({key} is out of range)")
        out[arg] = value
    return out


async def every_row(handler: Any, request: Request[Any, Any, Any], db: Any) -> tuple[list[Any], dict[str, Any]]:
    """Every row the page shows for this query string, over all its pages (its pager's or its own "next"
    link, followed to the end), and the first page's context (for the names it looked up)."""
    fn = handler.fn
    kwargs = page_filters(fn, request.query_params.items())
    rows: list[Any] = []
    first: dict[str, Any] | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        context = (await fn(None, request, db, **kwargs)).context
        first = first if first is not None else context
        rows += list(context.get("rows") or [])
        nxt = getattr(context.get("pager"), "next_href", None) or context.get("next_href")
        if not nxt or nxt in seen:
            break
        seen.add(nxt)
        kwargs = page_filters(fn, parse_qsl(urlsplit(nxt).query))
    return rows, first or {}


# ---- the workbook ----

def _cell_value(value: Any) -> Any:
    """Dates as dates; an instant as Beijing time (Excel keeps no time zone)."""
    if isinstance(value, datetime.datetime):
        local = value.astimezone(CHINA) if value.tzinfo else value
        return local.replace(tzinfo=None)
    return value


class Sheet:
    """One sheet, written as rows arrive (openpyxl's write-only mode keeps them in a temporary file, not in
    memory): a bold header row, then the rows."""

    def __init__(self, title: str, headers: list[str]) -> None:
        self.wb = Workbook(write_only=True)
        self.ws = self.wb.create_sheet(title=title[:31])
        bold = Font(bold=True)
        header = []
        for h in headers:
            cell = WriteOnlyCell(self.ws, value=h)
            cell.font = bold
            header.append(cell)
        self.ws.freeze_panes = "A2"
        self.ws.append(header)

    def append(self, row: list[Any]) -> None:
        out = []
        for value in row:
            v = _cell_value(value)
            cell = WriteOnlyCell(self.ws, value=v)
            if isinstance(v, datetime.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(v, datetime.date):
                cell.number_format = "yyyy-mm-dd"
            out.append(cell)
        self.ws.append(out)

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.wb.save(buf)
        return buf.getvalue()


def workbook(title: str, headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    sheet = Sheet(title, headers)
    for row in rows:
        sheet.append(row)
    return sheet.bytes()


def xlsx(body: bytes, name: str) -> Response[bytes]:
    stamp = datetime.datetime.now(CHINA).strftime("%Y%m%d-%H%M%S")
    return Response(body, media_type=XLSX, headers={
        **PAGE_HEADERS, "Cache-Control": "private, no-store",
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.xlsx"'})


def _headers(columns: list[tuple[str, str]], locale: str) -> list[str]:
    return [_pick(c, locale) for c in columns]


def _absolute(request: Request[Any, Any, Any], href: str | None) -> str:
    return (str(request.base_url).rstrip("/") + href) if href else ""


INBOX_COLUMNS = [("类别", "Kind"), ("编号", "Number"), ("事项", "Matter"), ("状态", "Status"), ("地点", "Place"),
                 ("申请单位", "From"), ("提交时间（北京时间）", "Submitted (Beijing)"), ("办理期限", "Decision due"),
                 ("剩余工作日", "Working days left"), ("已逾期", "Overdue"), ("临近期限", "Near the deadline"),
                 ("链接", "Link")]
SECONDMENT_COLUMNS = [
    ("编号", "Number"), ("借调单位", "Borrowing organ"), ("单位层级", "Organ level"), ("形式", "Form"),
    ("所在社区", "Home community"), ("社区工作者", "Community workers"), ("事由", "Purpose"),
    ("开始日期", "Start"), ("结束日期", "End"), ("状态", "Status"), ("审批单位", "Decided by"),
    ("办理期限", "Decision due"), ("审批时间（北京时间）", "Decided (Beijing)"), ("审批理由", "Reasons"),
    ("返岗日期", "Returned on"), ("逾期起始日", "Overdue since"), ("提交时间（北京时间）", "Submitted (Beijing)"),
    ("链接", "Link")]
COMPLAINT_COLUMNS = [
    ("编号", "Number"), ("状态", "Status"), ("地点", "Place"), ("被投诉单位", "Department"), ("类别", "Subject"),
    ("事项", "Matter"), ("投诉内容", "Description"), ("匿名", "Anonymous"), ("调查结论", "Finding"),
    ("关联准入申请", "Admission request"), ("提交时间（北京时间）", "Filed (Beijing)"),
    ("更新时间（北京时间）", "Updated (Beijing)"), ("链接", "Link")]
LIST_COLUMNS = [
    ("清单", "List"), ("编号", "Code"), ("名称", "Title"), ("类别", "Kind"), ("内容", "Content"), ("依据", "Basis"),
    ("依据文号", "Basis number"), ("责任部门", "Responsible department"), ("适用地区", "Scope"), ("状态", "Status"),
    ("生效日期", "Effective from"), ("失效日期", "Expires on"), ("登记序号", "Entry number")]


class ExportPages(Controller):
    path = "/ui"
    include_in_schema = False
    exception_handlers = PAGE_ERRORS

    @get("/inbox/export.xlsx", opt={"permission": Permission("jurisdiction", "read")})
    async def inbox(self, request: Request[Any, Any, Any], db: DB) -> Response[bytes]:
        """The inbox with the page's filters (kind, state, department, street, since, sort, ...), every row."""
        rows, _ = await every_row(InboxPage.inbox, request, db)
        locale = locale_of(request)

        def status(r: dict[str, Any]) -> str:
            table = "secondment_status" if r["kind"] == "secondment" else "status"
            return words.text(table, r["status"], locale)

        body = workbook("待办" if locale != "en" else "Inbox", _headers(INBOX_COLUMNS, locale), (
            [_pick(KIND_WORDS[r["kind"]], locale), r["id"], r["title"], status(r), r.get("place") or "",
             r.get("from") or "", r.get("at"), r.get("due"), r.get("left"), _yes(bool(r.get("overdue")), locale),
             _yes(bool(r.get("near")), locale), _absolute(request, r.get("href"))] for r in rows))
        return xlsx(body, "inbox")

    @get("/secondments/export.xlsx", opt={"permission": Permission("secondment_request", "read")})
    async def secondments(self, request: Request[Any, Any, Any], db: DB) -> Response[bytes]:
        rows, _ = await every_row(SecondmentPages.index, request, db)
        locale = locale_of(request)
        body = workbook("借调" if locale != "en" else "Secondments", _headers(SECONDMENT_COLUMNS, locale), (
            [s.id, s.organ.get("name", ""), words.text("level", s.effective_level, locale),
             _pick(FORM_WORDS.get(s.form, (s.form, s.form)), locale),
             s.home_community_name or place_name(request, s.home_community_code),
             "、".join(w.display_name or w.worker_ref for w in s.workers), s.purpose, s.start_date, s.end_date,
             words.text("secondment_status", s.status, locale), s.routed_to or "", s.decision_due, s.decided_at,
             words.message(s.decision_reasons, locale) if s.decision_reasons else "", s.returned_on,
             s.overdue_since, s.created_at, _absolute(request, f"/ui/secondments/{s.id}")] for s in rows))
        return xlsx(body, "secondments")

    @get("/complaints/export.xlsx", opt={"permission": Permission("complaint", "read")})
    async def complaints(self, request: Request[Any, Any, Any], db: DB) -> Response[bytes]:
        rows, _ = await every_row(ComplaintPages.index, request, db)
        locale = locale_of(request)
        body = workbook("投诉" if locale != "en" else "Complaints", _headers(COMPLAINT_COLUMNS, locale), (
            [c.id, words.text("status", c.status, locale), place_name(request, c.jurisdiction_code), c.department,
             (SUBJECTS_EN if locale == "en" else SUBJECT_LABELS).get(c.subject_kind, c.subject_kind),
             c.matter, c.description, _yes(c.anonymous, locale), c.finding or "", c.admission_request_id or "",
             c.created_at, c.updated_at, _absolute(request, f"/ui/complaints/{c.id}")] for c in rows))
        return xlsx(body, "complaints")

    @get("/lists/{code:str}/export.xlsx", opt=ON_PLACE)
    async def list_(self, request: Request[Any, Any, Any], db: DB, code: FromPath[str]) -> Response[bytes]:
        """A county's (or a community's county's) list at a date or as a release fixed it, with the list
        page's filters (kind, list, words): the same service call and filter as the page."""
        fn = ListPages.effective.fn
        f = page_filters(fn, request.query_params.items())
        county = ListPages._county(None, request, code)  # type: ignore[arg-type]  # uses no state of its own
        when, fixed, items = await registry.list_at(db, county_code=county,
                                                    as_of=parse_day("as_of", f.get("as_of")),
                                                    release=f.get("release") or None)
        shown = registry.filter_items(items, kind=f.get("kind") or None, list_name=f.get("list_name") or None,
                                      q=f.get("q"))
        locale = locale_of(request)
        body = workbook((fixed.name if fixed else when.isoformat())[:31], _headers(LIST_COLUMNS, locale), (
            [(LISTS_EN if locale == "en" else LIST_LABELS).get(i.list, i.list), i.code, i.title,
             (KINDS_EN if locale == "en" else KIND_LABELS).get(i.kind, i.kind), i.content, i.basis or "",
             i.basis_number or "", i.department or "",
             words.scope(i.scope, place_name(request, i.scope) if i.scope != "national" else None, locale),
             words.text("item_status", i.status, locale), i.effective_from, i.expires_on, i.entry_number]
            for i in shown))
        return xlsx(body, f"list-{code}-{f'release{fixed.id}' if fixed else when.isoformat()}")

    @get("/audit/export.xlsx", opt={"permission": Permission("audit_event", "read")})
    async def audit_(
        self, request: Request[Any, Any, Any], db: DB,
        actor_type: Annotated[str | None, QueryParameter(pattern="^(|user|client|anonymous|system)$")] = None,
        actor_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
        action: Annotated[str | None, QueryParameter(max_length=200)] = None,
        subject_type: Annotated[str | None, QueryParameter(max_length=200)] = None,
        subject_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
        outcome: Annotated[str | None, QueryParameter(pattern="^(|ok|denied|refused|failed)$")] = None,
        jurisdiction: Annotated[str | None, QueryParameter(pattern="^([0-9]{2,12})?$")] = None,
        since: Annotated[str | None, QueryParameter(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = None,
        until: Annotated[str | None, QueryParameter(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = None,
    ) -> Response[bytes]:
        """The audit search's result (the same filters as the page and its CSV), every event."""
        filters = audit_filters(actor_type, actor_id, action, subject_type, subject_id, outcome, since, until)
        sql, args = audit.export_query(filters=filters, subtrees=scope_of(request, jurisdiction or None),
                                       newest_first=True)
        await audit.check_export_query(db, sql=sql, args=args)
        locale = locale_of(request)
        sheet: Sheet | None = None
        async for batch in readable_rows(request.app.state.pool, sql=sql, args=args, locale=locale,
                                         place=lambda c: place_name(request, c)):
            if sheet is None:
                sheet = Sheet("审计" if locale != "en" else "Audit", batch[0])
                continue
            for row in batch:
                sheet.append(row)
        assert sheet is not None
        return xlsx(sheet.bytes(), "audit")
