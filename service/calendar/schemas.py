"""Calendar days: public holidays and make-up workdays (调休)."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import msgspec

from service.core.schemas import Input, Output


class CalendarDayCreate(Input):
    day: datetime.date
    kind: Literal["holiday", "workday"]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    county_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None
    """null: a national day (an administrator at the national level); otherwise the county's own"""


class CalendarDayRead(Output):
    id: int
    day: datetime.date
    kind: str
    name: str
    county_code: str | None
    created_at: datetime.datetime
    created_by: str


class WorkingDays(Output):
    county_code: str | None
    start: datetime.date
    working_days: int
    end: datetime.date
