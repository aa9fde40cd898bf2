"""The working-day calendar: read by anyone, kept by administrators and county reviewers."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.connection import ASGIConnection
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.calendar import service
from service.calendar.schemas import CalendarDayCreate, CalendarDayRead, WorkingDays
from service.core.audit import Actor
from service.core.authz import Permission
from service.core.db import DB
from service.core.errors import NotFound
from service.core.openapi import AUTHED, problems
from service.core.schemas import bounded_day

CountyCode = Annotated[str | None, QueryParameter(pattern="^[0-9]{6}$")]


async def _body_county(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """A county's own day is managed at the county; a national day at the national root."""
    try:
        body = await connection.json()  # type: ignore[attr-defined]
    except Exception:  # a malformed body is answered by the body's own validation
        return None
    if not isinstance(body, dict):
        return None
    code = body.get("county_code")
    return code if isinstance(code, str) else "00"


async def _day_domain(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    raw = connection.path_params["day_id"]
    async with connection.app.state.pool.acquire() as conn:
        code = await service.day_domain(conn, day_id=raw)
    if code is None:
        raise NotFound(f"日历记录 {raw} 不存在 (not found)")
    return str(code)


class CalendarController(Controller):
    path = "/api/v1/calendar"
    tags = ["calendar"]

    @get("/days", operation_id="ListCalendarDays",
         summary="Public holidays and make-up workdays of a year: national, and a county's own (public)",
         opt={"public": True}, responses=problems())
    async def list_days(self, db: DB, year: Annotated[int, QueryParameter(ge=2000, le=2100)],
                        county_code: CountyCode = None) -> list[CalendarDayRead]:
        return await service.list_days(db, year=year, county_code=county_code)

    @get("/working-days", operation_id="AddWorkingDays",
         summary="The date n working days after a start date, on a county's calendar (public)",
         opt={"public": True}, responses=problems())
    async def working_days(self, db: DB, start: FromQuery[datetime.date],
                           n: Annotated[int, QueryParameter(ge=0, le=500)],
                           county_code: CountyCode = None) -> WorkingDays:
        return await service.add_working_days(db, county_code=county_code, start=bounded_day("start", start), n=n)

    @post("/days", operation_id="AddCalendarDay", summary="Add a holiday or make-up workday",
          opt={"permission": Permission("calendar", "manage", domain=_body_county)},
          responses=problems(*AUTHED, 404, 409), security=[{"BearerToken": []}], status_code=201)
    async def add_day(self, request: Request[Any, Any, Any], db: DB,
                      data: JSONBody[CalendarDayCreate]) -> CalendarDayRead:
        return await service.add_day(db, actor=Actor.from_connection(request), data=data, tree=request.app.state.tree)

    @delete("/days/{day_id:int}", operation_id="RemoveCalendarDay", summary="Remove a holiday or make-up workday",
            opt={"permission": Permission("calendar", "manage", domain=_day_domain, hide=True)},
            responses=problems(*AUTHED, 404), security=[{"BearerToken": []}], status_code=200)
    async def remove_day(self, request: Request[Any, Any, Any], db: DB, day_id: FromPath[int]) -> CalendarDayRead:
        return await service.remove_day(db, actor=Actor.from_connection(request), day_id=day_id)


ROUTES = [CalendarController]
