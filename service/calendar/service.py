"""Managing the working-day calendar (national rows and each county's own)."""

from __future__ import annotations

import datetime

import asyncpg

from service.calendar import queries, workdays
from service.calendar.schemas import CalendarDayCreate, CalendarDayRead, WorkingDays
from service.core import audit
from service.core.audit import Actor
from service.core.errors import Conflict, NotFound, ValidationFailed
from service.core.tree import JurisdictionTree, lookup


async def list_days(conn: asyncpg.Connection, *, year: int, county_code: str | None) -> list[CalendarDayRead]:
    rows = await conn.fetch(queries.LIST, datetime.date(year, 1, 1), datetime.date(year, 12, 31), county_code)
    return [CalendarDayRead(**dict(r)) for r in rows]


async def day_domain(conn: asyncpg.Connection, *, day_id: int) -> str | None:
    """The county of a calendar day, '00' for a national one (None: no such day), for the guard."""
    code: str | None = await conn.fetchval(queries.DOMAIN, day_id)
    return code


async def add_day(conn: asyncpg.Connection, *, actor: Actor, data: CalendarDayCreate,
                  tree: JurisdictionTree | None = None) -> CalendarDayRead:
    if data.county_code is not None:
        county = await lookup(conn, data.county_code, tree=tree)
        if county is None or county.level != "county":
            raise ValidationFailed.field("county_code", f"{data.county_code} 不是县级行政区 (not a county)")
    if data.kind == "workday" and data.day.weekday() < 5:
        raise ValidationFailed.field("day", f"{data.day} 本来就是工作日 (a make-up workday falls on a weekend)",
                                     rule="calendar.workday-on-weekend")
    who = f"{actor.actor_type}:{actor.actor_id or actor.actor_name}"
    try:
        row = await conn.fetchrow(queries.INSERT, data.day, data.kind, data.name, data.county_code, who)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"{data.day} 已有记录 (the day is already in the calendar)") from exc
    day = CalendarDayRead(**dict(row))
    await audit.record(conn, actor=actor, action="calendar.add", subject_type="calendar_day", subject_id=str(day.id),
                       jurisdiction=data.county_code, change=data)
    return day


async def remove_day(conn: asyncpg.Connection, *, actor: Actor, day_id: int) -> CalendarDayRead:
    row = await conn.fetchrow(queries.DELETE, day_id)
    if row is None:
        raise NotFound(f"日历记录 {day_id} 不存在 (not found)")
    day = CalendarDayRead(**dict(row))
    await audit.record(conn, actor=actor, action="calendar.remove", subject_type="calendar_day",
                       subject_id=str(day_id), jurisdiction=day.county_code,
                       change={"day": day.day.isoformat(), "kind": day.kind, "name": day.name})
    return day


async def add_working_days(conn: asyncpg.Connection, *, county_code: str | None, start: datetime.date,
                           n: int) -> WorkingDays:
    calendar = await workdays.load(conn, county_code=county_code, start=start,
                                   end=start + datetime.timedelta(days=n * 3 + 60))
    return WorkingDays(county_code=county_code, start=start, working_days=n, end=calendar.add_working_days(start, n))


Due = tuple[str | None, datetime.date]  # (county code, deadline)


async def working_days_left(conn: asyncpg.Connection, *, today: datetime.date, dues: list[Due]) -> dict[Due, int]:
    """For each (county, deadline): the working days from `today` to it on that county's calendar (0: due
    today; negative: that many working days overdue). One calendar read per county."""
    out: dict[tuple[str | None, datetime.date], int] = {}
    by_county: dict[str | None, list[datetime.date]] = {}
    for county, due in dues:
        by_county.setdefault(county, []).append(due)
    for county, days in by_county.items():
        calendar = await workdays.load(conn, county_code=county, start=min([today, *days]),
                                       end=max([today, *days]))
        for due in days:
            out[(county, due)] = calendar.working_days_between(today, due)
    return out
