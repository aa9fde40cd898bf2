"""Audit search: by person, action, subject, jurisdiction and time; each event opens in place; the result
exports as CSV through the audit area's streaming export (the page never waits for it).

The API's /api/v1/audit/export takes bearer tokens only (no session cookie there), so the page has its own
export address that hands the same query to the audit area's export stream."""

from __future__ import annotations

import datetime
import io
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Stream, Template

from service.audit import service as audit
from service.audit.routes import scope_of
from service.audit.verify import BOM
from service.core import exports
from service.core.authz import Permission
from service.core.clock import CHINA
from service.core.db import DB
from service.core.errors import ServiceError
from service.core.schemas import parse_day
from service.web import labels as words
from service.web import names
from service.web.context import PAGE_HEADERS, page_context
from service.web.pages.common import PAGE_ERRORS, counties_of, labels, locale_of, place_name, problem_text

Text = Annotated[str | None, QueryParameter(max_length=200)]
Day = Annotated[str | None, QueryParameter(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
OUTCOME_LABELS = {"ok": "成功", "denied": "拒绝访问", "refused": "拒绝办理", "failed": "失败"}
ACTOR_LABELS = {"user": "网页用户", "client": "接口客户端", "anonymous": "匿名", "system": "系统"}
PAGE_SIZE = 50
PEOPLE_MAX = 20


def _start_of(name: str, day: str | None, *, next_day: bool = False) -> datetime.datetime | None:
    """A date on China's calendar as the instant it starts (the next day's start for an inclusive `until`)."""
    parsed = parse_day(name, day)
    if parsed is None:
        return None
    d = parsed + datetime.timedelta(days=1 if next_day else 0)
    return datetime.datetime(d.year, d.month, d.day, tzinfo=CHINA)


def _filters(actor_type: str | None, actor_id: str | None, action: str | None, subject_type: str | None,
             subject_id: str | None, outcome: str | None, since: str | None, until: str | None
             ) -> audit.EventFilters:
    return audit.EventFilters(
        actor_type=actor_type or None, actor_id=(actor_id or None) if actor_type else None, action=action or None,
        subject_type=subject_type or None, subject_id=(subject_id or None) if subject_type else None,
        outcome=outcome or None, since=_start_of("since", since), until=_start_of("until", until, next_day=True))


class AuditPages(Controller):
    path = "/ui/audit"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    @get("/", opt={"permission": Permission("audit_event", "read")})
    async def search(
        self, request: Request[Any, Any, Any], db: DB,
        actor_type: Annotated[str | None, QueryParameter(pattern="^(|user|client|anonymous|system)$")] = None,
        actor_id: Text = None, action: Text = None, subject_type: Text = None, subject_id: Text = None,
        outcome: Annotated[str | None, QueryParameter(pattern="^(|ok|denied|refused|failed)$")] = None,
        jurisdiction: Annotated[str | None, QueryParameter(pattern="^([0-9]{2,12})?$")] = None,
        since: Day = None, until: Day = None, cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        person: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Template:
        people: list[dict[str, str]] = []
        if person and person.strip() and not actor_id:
            # by name: one match is searched at once; several are offered to choose from
            people = await audit.find_people(db, text=person.strip(), subtrees=scope_of(request, None),
                                             limit=PEOPLE_MAX)
            if len(people) == 1:
                actor_type, actor_id = people[0]["actor_type"], people[0]["actor_id"]
        f = {"person": person or "", "actor_type": actor_type or "", "actor_id": actor_id or "", "action": action or "",
             "subject_type": subject_type or "", "subject_id": subject_id or "", "outcome": outcome or "",
             "jurisdiction": jurisdiction or "", "since": since or "", "until": until or ""}
        page, error = None, None
        filters = _filters(actor_type, actor_id, action, subject_type, subject_id, outcome, since, until)
        if person and person.strip() and not actor_id:
            shown = {k: v for k, v in f.items() if v and k != "person"}
            return Template("ui/audit.html", context=page_context(
                request, page=None, error=None if people else "没有找到此人。", f=f, outcomes=OUTCOME_LABELS,
                actors=ACTOR_LABELS, counties=counties_of(request, "audit_event", "read"), details={},
                people=[{**p, "href": "/ui/audit?" + urlencode({**shown, "actor_type": p["actor_type"],
                                                                 "actor_id": p["actor_id"], "person": person})}
                        for p in people], export_href=None, next_href=None, **labels()))
        try:
            page = await audit.list_events(db, filters=filters, subtrees=scope_of(request, jurisdiction or None),
                                           newest_first=True, cursor=cursor or None, limit=PAGE_SIZE)
        except ServiceError as exc:
            error = problem_text(exc, locale_of(request))
        shown = {k: v for k, v in f.items() if v}
        events = page.items if page else []
        who = await names.lookup(db, [(e.actor_type, e.actor_id) for e in events], locale=locale_of(request))
        return Template("ui/audit.html", context=page_context(
            request, page=page, error=error, who=who,
            places={e.jurisdiction_code: place_name(request, e.jurisdiction_code) for e in events
                    if e.jurisdiction_code}, f=f, outcomes=OUTCOME_LABELS, actors=ACTOR_LABELS,
            counties=counties_of(request, "audit_event", "read"), people=[],
            details={e.id: json.dumps(e.detail, ensure_ascii=False, indent=2, sort_keys=True)
                     for e in (page.items if page else [])},
            export_href="/ui/audit/export.csv?" + urlencode(shown),
            next_href=("/ui/audit?" + urlencode({**shown, "cursor": page.next_cursor})
                       if page and page.next_cursor else None), **labels()))

    @get("/export.csv", opt={"permission": Permission("audit_event", "read")})
    async def export(
        self, request: Request[Any, Any, Any], db: DB,
        actor_type: Annotated[str | None, QueryParameter(pattern="^(|user|client|anonymous|system)$")] = None,
        actor_id: Text = None, action: Text = None, subject_type: Text = None, subject_id: Text = None,
        outcome: Annotated[str | None, QueryParameter(pattern="^(|ok|denied|refused|failed)$")] = None,
        jurisdiction: Annotated[str | None, QueryParameter(pattern="^([0-9]{2,12})?$")] = None,
        since: Day = None, until: Day = None,
    ) -> Stream:
        """The search's result as CSV, streamed from a server-side cursor in constant memory."""
        filters = _filters(actor_type, actor_id, action, subject_type, subject_id, outcome, since, until)
        sql, args = audit.export_query(filters=filters, subtrees=scope_of(request, jurisdiction or None),
                                       newest_first=True)
        await audit.check_export_query(db, sql=sql, args=args)
        locale = locale_of(request)
        stamp = datetime.datetime.now(CHINA).strftime("%Y%m%d-%H%M%S")
        rows = readable_csv(request.app.state.pool, sql=sql, args=args, locale=locale,
                            place=lambda code: place_name(request, code))
        return exports.ExportStream(rows, media_type=exports.CSV_MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})


CSV_COLUMNS = (("时间（北京时间）", "Time (Beijing)"), ("操作人", "Actor"), ("操作人类型", "Actor type"),
               ("角色", "Role"), ("操作", "Action"), ("操作代码", "Action code"), ("对象", "Subject"),
               ("辖区", "Jurisdiction"), ("结果", "Outcome"), ("状态码", "Status code"), ("详情", "Detail"),
               ("事件编号", "Event"), ("请求编号", "Request"), ("日志位置", "Log position"), ("摘要", "Digest"))


def _when(value: datetime.datetime, locale: str) -> str:
    local = value.astimezone(CHINA)
    if locale == "en":
        return local.strftime("%Y-%m-%d %H:%M:%S +08:00")
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S}"


async def readable_rows(pool: Any, *, sql: str, args: list[Any], locale: str, place: Any) -> Any:
    """The search's result as a person reads it (the page's language, names, a Beijing-time instant per row),
    the header first, streamed from the audit area's server-side cursor in constant memory; names are looked
    up per batch on a second connection. Batches of rows: for the CSV below and the Excel export."""
    yield [[en if locale == "en" else zh for zh, en in CSV_COLUMNS]]
    async with pool.acquire() as conn, pool.acquire() as lookups, conn.transaction(
            readonly=True, isolation="repeatable_read"):
        async for batch in audit.leaf_batches(conn, sql, args, log_id=None):
            rows = [r for r, _ in batch]
            who = await names.lookup(lookups, [(r["actor_type"], r["actor_id"]) for r in rows], locale=locale)
            out = []
            for r in rows:
                subject = words.subject(r["subject_type"], r["subject_id"], locale)
                detail = r["detail"]
                shown = (detail if isinstance(detail, str)
                         else json.dumps(detail, ensure_ascii=False, sort_keys=True)) if detail else ""
                out.append([
                    r["occurred_at"].astimezone(CHINA), who.actor(r["actor_type"], r["actor_id"], r["actor_name"]),
                    words.text("actor_type", r["actor_type"], locale),
                    words.text("role", r["role"], locale) if r["role"] else "",
                    words.action(r["action"], locale), r["action"], subject["text"],
                    place(r["jurisdiction_code"]) if r["jurisdiction_code"] else "",
                    words.text("outcome", r["outcome"], locale), r["status_code"] or "",
                    words.message(shown, locale),
                    r["id"], r["request_id"] or "", r["leaf_index"] if r["leaf_index"] is not None else "",
                    r["digest"] or ""])
            yield out


async def readable_csv(pool: Any, *, sql: str, args: list[Any], locale: str, place: Any) -> Any:
    """`readable_rows` as CSV (a BOM first, the instant written out in the page's language). The API's export
    (/api/v1/audit/export) keeps the canonical fields and the leaves."""
    buf = io.StringIO()
    out = exports.writer(buf, lineterminator="\r\n")

    def flush() -> bytes:
        data = buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
        return data

    first = True
    async for batch in readable_rows(pool, sql=sql, args=args, locale=locale, place=place):
        for row in batch:
            out.writerow(row if first else [_when(row[0], locale), *row[1:]])
        yield (BOM + flush()) if first else flush()
        first = False
