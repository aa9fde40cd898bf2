"""The dashboard: the person's counties drawn as pictures (server-made SVG), each from its area's functions."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from service.admission import service as admission
from service.complaints import service as complaints
from service.core.authz import Permission
from service.core.clock import CHINA, today
from service.core.db import DB
from service.registry import service as registry
from service.registry.routes import LIST_LABELS
from service.secondments import service as secondments
from service.web import charts
from service.web.context import PAGE_HEADERS, page_context
from service.web.format import month, number
from service.web.i18n import pick_locale, translations
from service.web.pages.common import PAGE_ERRORS, counties_of
from service.workers import service as workers

MONTHS = 6
OUTCOME_SERIES = (("approved", "批准"), ("rejected", "驳回"), ("returned", "退回修改"), ("open", "待审"),
                  ("refused", "自动拒绝"))
# decision times are read per request (the listing has no decision date): at most this many


class DashboardPage(Controller):
    path = "/ui/dashboard"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    @get("/", opt={"permission": Permission("jurisdiction", "read")})
    async def dashboard(self, request: Request[Any, Any, Any], db: DB) -> Template:
        locale = pick_locale(request.cookies.get("mr_lang"), request.headers.get("accept-language"))
        _ = translations(locale).gettext
        day = today()
        figures: list[tuple[str, Any, str]] = []  # (heading, svg, note)

        reviewed = counties_of(request, "admission_request", "read")
        if reviewed and counties_of(request, "admission_request", "review"):
            first = datetime.date(day.year, day.month, 1)
            keys = []
            for back in range(MONTHS - 1, -1, -1):
                m = first.month - back
                keys.append(datetime.date(first.year + (m - 1) // 12, (m - 1) % 12 + 1, 1))
            since = datetime.datetime(keys[0].year, keys[0].month, 1, tzinfo=CHINA)
            codes = [c.code for c in reviewed]
            counted = await admission.monthly_outcomes(db, counties=codes, since=since)
            per_month = {k: Counter(counted.get(k, {})) for k in keys}
            figures.append((_("每月准入申请及结果"), charts.stacked_columns(
                _("每月准入申请及结果"), [(month(k, locale), dict(c)) for k, c in per_month.items()],
                [(k, _(label)) for k, label in OUTCOME_SERIES]), ""))
            median, decided = await admission.median_decision_days(db, counties=codes, since=since)
            figures.append((_("审核用时中位数"), charts.horizontal_bars(
                _("审核用时中位数"), [(_("中位数"), round(median, 1) if median is not None else 0)],
                unit=_("天")), _("已决定的申请") + f" {number(decided, locale)}"))

        counties = counties_of(request, "jurisdiction", "read")
        rows = []
        for county in counties:
            items = await registry.effective_items(db, county_code=county.code, as_of=day)
            counts = Counter(i.list for i in items)
            prefix = f"{county.name} · " if len(counties) > 1 else ""
            rows += [(prefix + _(LIST_LABELS.get(k, k)), float(v))
                     for k, v in sorted(counts.items(), key=lambda kv: list(LIST_LABELS).index(kv[0])
                                        if kv[0] in LIST_LABELS else 99)]
        if rows:
            figures.append((_("各县清单事项数"), charts.horizontal_bars(
                _("各县清单事项数"), rows, fmt=lambda v: number(v, locale)), ""))

        for county in counties_of(request, "community_worker", "read"):
            report = await workers.staffing(db, jurisdiction=county.code)
            figures.append((f"{county.name} · {_('社区在岗人数与配备标准')}", charts.horizontal_bars(
                f"{county.name} · {_('社区在岗人数与配备标准')}",
                [(c.community_name, float(c.present)) for c in report.communities],
                marks=[c.below_standard for c in report.communities], unit=_("人"),
                notes=[f" / {_('配备标准')} {number(c.required, locale)}" for c in report.communities]),
                _("红色：低于配备标准") + f"（{number(report.communities_below_standard, locale)}）"))

        for county in counties_of(request, "secondment_request", "read"):
            active = await secondments.list_requests(db, jurisdiction=county.code, state="active", organ=None,
                                                     worker=None)
            overdue = await secondments.list_requests(db, jurisdiction=county.code, state="overdue", organ=None,
                                                      worker=None)
            pending = await secondments.list_requests(db, jurisdiction=county.code, state="pending", organ=None,
                                                      worker=None)
            figures.append((f"{county.name} · {_('借调情况')}", charts.horizontal_bars(
                f"{county.name} · {_('借调情况')}",
                [(_("借调中"), float(len(active.items))), (_("逾期未返岗"), float(len(overdue.items))),
                 (_("待审批"), float(len(pending.items)))], marks=[False, True, False], unit=_("件")), ""))

        supervised = counties_of(request, "complaint", "read")
        if supervised:
            per_department = await complaints.per_department(db, counties=[c.code for c in supervised])
            figures.append((_("各部门被投诉数"), charts.horizontal_bars(
                _("各部门被投诉数"), [(d.department, float(d.total)) for d in per_department], unit=_("件")), ""))

        return Template("ui/dashboard.html", context=page_context(request, figures=figures, on=day))
