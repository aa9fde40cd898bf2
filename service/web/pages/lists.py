"""Lists: a county's or a community's effective list by kind and list, item history, releases, differences."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from service.core.authz import Permission, path_domain
from service.core.db import DB
from service.core.errors import NotFound, ServiceError
from service.core.schemas import parse_day
from service.registry import service as registry
from service.registry.routes import LIST_LABELS
from service.web import names
from service.web.context import PAGE_HEADERS, page_context
from service.web.pages.common import (
    PAGE_ERRORS,
    authorizer_of,
    children,
    counties_of,
    locale_of,
    place_name,
    problem_text,
)

KIND_LABELS = {"task": "工作事项", "plaque": "牌子", "certificate": "证明事项", "report": "报表台账",
               "digital": "政务应用与群组"}
CHANGE_LABELS = {"added": "新增", "removed": "移出", "changed": "变更"}
ENTRY_LABELS = {"add": "新增", "amend": "修改", "suspend": "暂停", "resume": "恢复", "retire": "退出"}
Day = Annotated[str | None, QueryParameter(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
Name = Annotated[str | None, QueryParameter(max_length=100)]
ON_PLACE = {"permission": Permission("jurisdiction", "read", domain=path_domain("code"), hide=True)}


def _day(text: str | None, name: str = "as_of") -> datetime.date | None:
    return parse_day(name, text)


class ListPages(Controller):
    path = "/ui/lists"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    def _county(self, request: Request[Any, Any, Any], code: str) -> str:
        node = authorizer_of(request).tree.get(code)
        if node is None or node.county_code is None:
            raise NotFound(f"{code} 不是县或县以下的行政区 (not a county or a place in one)")
        return node.county_code

    @get("/", opt={"permission": Permission("jurisdiction", "read")})
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        counties = counties_of(request, "jurisdiction", "read")
        places = [(c, children(request, c.code, "community")) for c in counties]
        return Template("ui/lists_index.html", context=page_context(request, places=places))

    @get("/{code:str}", opt=ON_PLACE)
    async def effective(
        self, request: Request[Any, Any, Any], db: DB, code: FromPath[str], as_of: Day = None, release: Name = None,
        kind: Annotated[str | None, QueryParameter(pattern="^(|task|plaque|certificate|report|digital)$")] = None,
        list_name: Annotated[str | None, QueryParameter(name="list", pattern="^[a-z_]{0,20}$")] = None, q: Name = None,
    ) -> Template:
        county = self._county(request, code)
        when, fixed, items = await registry.list_at(db, county_code=county, as_of=_day(as_of), release=release or None)
        shown = registry.filter_items(items, kind=kind or None, list_name=list_name or None, q=q)
        # 待生效: what is recorded to take effect after the date shown (not for a release, which is fixed)
        pending = [] if release else registry.filter_items(
            await registry.upcoming_items(db, county_code=county, after=when), kind=kind or None,
            list_name=list_name or None, q=q)
        groups: dict[str, list[Any]] = {}
        for item in shown:
            groups.setdefault(item.list, []).append(item)
        order = list(LIST_LABELS)
        tree = authorizer_of(request).tree
        return Template("ui/lists.html", context=page_context(
            request, place=tree.get(code), county=tree.get(county), as_of=when, release=fixed, total=len(shown),
            pending=pending,
            groups=[(LIST_LABELS.get(k, k), k, v) for k, v in sorted(
                groups.items(), key=lambda g: order.index(g[0]) if g[0] in order else 99)],
            releases=await registry.list_releases(db, county_code=county),
            f={"as_of": as_of or "", "release": release or "", "kind": kind or "", "list": list_name or "",
               "q": q or ""}, lists=LIST_LABELS, kinds=KIND_LABELS))

    @get("/{code:str}/items/{list_scope:str}/{item_code:str}", opt=ON_PLACE)
    async def history(self, request: Request[Any, Any, Any], db: DB, code: FromPath[str], list_scope: FromPath[str],
                      item_code: FromPath[str]) -> Template:
        county = self._county(request, code)
        if list_scope not in registry.template_scopes(county):
            raise NotFound(f"{list_scope} 不属于 {county} 的清单 (not a scope of this county's list)")
        record = await registry.get_record(db, scope=list_scope, code=item_code)
        entries = await registry.item_history(db, scope=list_scope, code=item_code)
        who = await names.lookup(db, [e.actor for e in entries], locale=locale_of(request))
        return Template("ui/item_history.html", context=page_context(
            request, place=authorizer_of(request).tree.get(code), record=record, entries=entries[::-1],
            entry_labels=ENTRY_LABELS, lists=LIST_LABELS, who=who, scope_name=place_name(request, record.scope)))

    @get("/{code:str}/diff", opt=ON_PLACE)
    async def diff(self, request: Request[Any, Any, Any], db: DB, code: FromPath[str], from_release: Name = None,
                   from_date: Day = None, to_release: Name = None, to_date: Day = None) -> Template:
        county = self._county(request, code)
        releases = await registry.list_releases(db, county_code=county)
        result, error = None, None
        if (from_release or from_date) and (to_release or to_date):
            try:
                result = await registry.difference(
                    db, county_code=county, from_release=from_release or None,
                    from_date=None if from_release else _day(from_date, "from_date"), to_release=to_release or None,
                    to_date=None if to_release else _day(to_date, "to_date"))
            except ServiceError as exc:
                error = problem_text(exc, locale_of(request))
        tree = authorizer_of(request).tree
        return Template("ui/diff.html", context=page_context(
            request, place=tree.get(code), county=tree.get(county), releases=releases, result=result, error=error,
            change_labels=CHANGE_LABELS,
            f={"from_release": from_release or "", "from_date": from_date or "", "to_release": to_release or "",
               "to_date": to_date or ""}))
