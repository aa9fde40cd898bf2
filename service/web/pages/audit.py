"""Audit search: by person, action, subject, jurisdiction and time; each event opens in place; the result
exports as CSV through the audit area's streaming export (the page never waits for it)."""

from __future__ import annotations

import datetime
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from service.audit import service as audit
from service.audit.routes import scope_of
from service.core.authz import Permission
from service.core.db import DB
from service.core.errors import ServiceError
from service.web.context import PAGE_HEADERS, page_context
from service.web.format import CHINA
from service.web.pages.common import PAGE_ERRORS, counties_of, labels, problem_text

Text = Annotated[str | None, QueryParameter(max_length=200)]
Day = Annotated[str | None, QueryParameter(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
OUTCOME_LABELS = {"ok": "成功", "denied": "拒绝访问", "refused": "拒绝办理", "failed": "失败"}
ACTOR_LABELS = {"user": "网页用户", "client": "接口客户端", "anonymous": "匿名", "system": "系统"}
PAGE_SIZE = 50


def _start_of(day: str | None, *, next_day: bool = False) -> datetime.datetime | None:
    """A date on China's calendar as the instant it starts (the next day's start for an inclusive `until`)."""
    if not day:
        return None
    d = datetime.date.fromisoformat(day) + datetime.timedelta(days=1 if next_day else 0)
    return datetime.datetime(d.year, d.month, d.day, tzinfo=CHINA)


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
    ) -> Template:
        f = {"actor_type": actor_type or "", "actor_id": actor_id or "", "action": action or "",
             "subject_type": subject_type or "", "subject_id": subject_id or "", "outcome": outcome or "",
             "jurisdiction": jurisdiction or "", "since": since or "", "until": until or ""}
        page, error = None, None
        api: dict[str, str] = {}
        try:
            filters = audit.EventFilters(
                actor_type=actor_type or None, actor_id=(actor_id or None) if actor_type else None,
                action=action or None, subject_type=subject_type or None,
                subject_id=(subject_id or None) if subject_type else None, outcome=outcome or None,
                since=_start_of(since), until=_start_of(until, next_day=True))
            page = await audit.list_events(db, filters=filters, subtrees=scope_of(request, jurisdiction or None),
                                           newest_first=True, cursor=cursor or None, limit=PAGE_SIZE)
            api = {k: v for k, v in {
                "actor_type": filters.actor_type, "actor_id": filters.actor_id, "action": filters.action,
                "subject_type": filters.subject_type, "subject_id": filters.subject_id,
                "outcome": filters.outcome, "jurisdiction": jurisdiction or None,
                "since": filters.since.isoformat() if filters.since else None,
                "until": filters.until.isoformat() if filters.until else None}.items() if v}
        except ServiceError as exc:
            error = problem_text(exc)
        shown = {k: v for k, v in f.items() if v}
        return Template("ui/audit.html", context=page_context(
            request, page=page, error=error, f=f, outcomes=OUTCOME_LABELS, actors=ACTOR_LABELS,
            counties=counties_of(request, "audit_event", "read"),
            details={e.id: json.dumps(e.detail, ensure_ascii=False, indent=2, sort_keys=True)
                     for e in (page.items if page else [])},
            export_href="/api/v1/audit/export?" + urlencode({**api, "format": "csv"}),
            next_href=("/ui/audit?" + urlencode({**shown, "cursor": page.next_cursor})
                       if page and page.next_cursor else None), **labels()))
