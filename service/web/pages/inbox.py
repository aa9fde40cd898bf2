"""The inbox: the admission requests, secondment requests and complaints awaiting this person's role."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from service.admission import service as admission
from service.calendar import service as calendar
from service.complaints import service as complaints
from service.core.authz import Permission
from service.core.clock import today
from service.core.db import DB
from service.core.schemas import parse_day
from service.secondments import service as secondments
from service.web.context import PAGE_HEADERS, page_context
from service.web.pages.common import (
    NEAR_DAYS,
    PAGE_ERRORS,
    children,
    counties_of,
    domains,
    labels,
    locale_of,
    place_name,
    subject_of,
)

OPEN = {"admission": ("submitted", "in_review"), "secondment": ("pending_approval",),
        "complaint": ("received", "under_investigation")}
Text = Annotated[str | None, QueryParameter(max_length=100)]


def _streets(targets: list[str]) -> set[str] | None:
    """The streets an admission request reaches (None: a whole county, so every street)."""
    if any(len(t) < 9 for t in targets):
        return None
    return {t[:9] for t in targets}


def _places(request: Request[Any, Any, Any], county: str, targets: list[str]) -> str:
    """Where an admission request goes, by name: the communities and streets it names (the first three and
    how many more), or the whole county."""
    if not targets or any(len(t) < 9 for t in targets):
        return place_name(request, county)
    names = [place_name(request, t) for t in targets]
    if len(names) <= 3:
        return ("、" if locale_of(request) != "en" else ", ").join(names)
    if locale_of(request) == "en":
        return ", ".join(names[:3]) + f" and {len(names) - 3} more"
    return "、".join(names[:3]) + f"等{len(names)}处"


class InboxPage(Controller):
    path = "/ui/inbox"
    include_in_schema = False
    response_headers = PAGE_HEADERS
    exception_handlers = PAGE_ERRORS

    @get("/", opt={"permission": Permission("jurisdiction", "read")})
    async def inbox(
        self, request: Request[Any, Any, Any], db: DB,
        kind: Annotated[str | None, QueryParameter(pattern="^(|admission|secondment|complaint)$")] = None,
        state_filter: Annotated[str | None, QueryParameter(name="state", pattern="^(|open|all|[a-z_]{3,30})$")] = None,
        department: Text = None, street: Annotated[str | None, QueryParameter(pattern="^([0-9]{9})?$")] = None,
        since: Annotated[str | None, QueryParameter(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = None,
        sort: Annotated[str | None, QueryParameter(pattern="^(|urgent|newest)$")] = None,
    ) -> Template:
        state = state_filter or "open"
        since_day = parse_day("since", since)
        day = today()
        rows: list[dict[str, Any]] = []

        review = counties_of(request, "admission_request", "review")
        if review:
            page = await admission.list_requests(db, subject=subject_of(request),
                                                 review_counties=[c.code for c in review], status=None,
                                                 county_code=None, overdue=False, before=None, limit=500)
            for a in page.items:
                if a.county_code not in {c.code for c in review}:
                    continue  # the person's own submissions are not awaiting its review
                rows.append({"kind": "admission", "id": a.id, "title": a.title, "status": a.status,
                             "county": a.county_code, "verdict": a.verdict,
                             "place": _places(request, a.county_code, a.targets), "streets": _streets(a.targets),
                             "from": a.department, "due": a.decision_due, "overdue": a.overdue,
                             "at": a.submitted_at, "href": f"/ui/admission/{a.id}"})

        for code in domains(request, "secondment_request", "decide"):
            found = await secondments.list_requests(db, jurisdiction=code, state=None, organ=None, worker=None)
            for s in found.items:
                if s.status == "refused":
                    continue  # refused at once by the rules: nothing to decide
                rows.append({"kind": "secondment", "id": s.id, "title": s.purpose, "status": s.status,
                             "county": s.county_code, "verdict": None,
                             "place": s.home_community_name or place_name(request, s.home_community_code),
                             "streets": {(s.home_community_code or "")[:9]}, "from": s.organ.get("name", ""),
                             "due": s.decision_due if s.status == "pending_approval" else None,
                             "overdue": s.status == "overdue" or (
                                 s.status == "pending_approval" and s.decision_due is not None
                                 and s.decision_due < day),
                             "at": s.created_at, "href": f"/ui/secondments/{s.id}"})

        supervised = counties_of(request, "complaint", "manage")
        if supervised:
            for c in await complaints.list_complaints(db, counties=[n.code for n in supervised], status=None,
                                                      limit=500):
                rows.append({"kind": "complaint", "id": c.id, "title": c.matter, "status": c.status,
                             "county": None, "verdict": None,
                             "place": place_name(request, c.jurisdiction_code),
                             "streets": {c.jurisdiction_code[:9]},
                             "from": c.department, "due": None, "overdue": False, "at": c.created_at,
                             "href": f"/ui/complaints/{c.id}"})

        # deadlines in working days, on each county's own calendar (holidays off, make-up workdays on)
        left = await calendar.working_days_left(db, today=day, dues=[(r["county"], r["due"]) for r in rows
                                                                      if r["due"] is not None])
        for r in rows:
            r["left"] = left.get((r["county"], r["due"])) if r["due"] is not None else None
            r["near"] = not r["overdue"] and r["left"] is not None and 0 <= r["left"] <= NEAR_DAYS

        def keep(r: dict[str, Any]) -> bool:
            if kind and r["kind"] != kind:
                return False
            if state == "open" and r["status"] not in OPEN[r["kind"]] and r["status"] != "overdue":
                return False
            if state not in ("open", "all") and r["status"] != state:
                return False
            if department and department.strip() not in r["from"]:
                return False
            if street and r["streets"] is not None and street not in r["streets"]:
                return False
            at = r["at"]
            return not (since_day and at is not None and at.date() < since_day)

        shown = [r for r in rows if keep(r)]
        far = datetime.date.max
        if sort == "newest":
            shown.sort(key=lambda r: r["at"] or datetime.datetime.min.replace(tzinfo=datetime.UTC), reverse=True)
        else:  # most urgent first: overdue, then nearest deadline, then newest
            shown.sort(key=lambda r: (not r["overdue"], r["due"] or far,
                                      -(r["at"].timestamp() if r["at"] else 0)))
        counts = {k: sum(1 for r in shown if r["kind"] == k) for k in OPEN}
        streets = [s for c in {*review, *supervised, *counties_of(request, "secondment_request", "decide")}
                   for s in children(request, c.code, "street")]
        states = sorted({r["status"] for r in rows})
        return Template("ui/inbox.html", context=page_context(
            request, rows=shown, counts=counts, total=len(shown), overdue=sum(1 for r in shown if r["overdue"]),
            near=sum(1 for r in shown if r["near"]), near_days=NEAR_DAYS,
            streets=sorted(streets, key=lambda s: s.code), states=states,
            f={"kind": kind or "", "state": state, "department": department or "", "street": street or "",
               "since": since or "", "sort": sort or "urgent"}, **labels()))
