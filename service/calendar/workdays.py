"""Working days: weekends off, public holidays off, make-up workdays (调休) on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import asyncpg
import msgspec

from service.calendar import queries


class Calendar(msgspec.Struct, frozen=True):
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The date `n` working days after `start` (start itself not counted)."""
        day = start
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative when end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        # Monday to Friday by whole weeks and the days left over, then the calendar's exceptions in
        # the range: a holiday on a weekday takes one off, a make-up workday on a weekend adds one
        weeks, rest = divmod((end - start).days, 7)
        first = start.weekday()
        count = weeks * 5 + sum(1 for i in range(1, rest + 1) if (first + i) % 7 < 5)
        count -= sum(1 for day in self.holidays if start < day <= end and day.weekday() < 5
                     and day not in self.workdays)
        count += sum(1 for day in self.workdays if start < day <= end and day.weekday() >= 5)
        return count


def build(rows: Iterable[tuple[date, str]]) -> Calendar:
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in rows:  # national rows first; a county's own row for the same day wins
        (holidays if kind == "holiday" else workdays).add(day)
        (workdays if kind == "holiday" else holidays).discard(day)
    return Calendar(holidays=frozenset(holidays), workdays=frozenset(workdays))


async def load(conn: asyncpg.Connection, *, county_code: str | None, start: date, end: date) -> Calendar:
    rows = await conn.fetch(queries.DAYS_BETWEEN, county_code, start, end)
    return build((r["day"], r["kind"]) for r in rows)
