"""China time: every date the service decides on (deadlines, effective dates, the daily job) is China's.

China keeps one time zone and no daylight saving (UTC+8 since 1991). Use `today()` for the date and
`CHINA` for a zone-aware datetime; never `date.today()`, which is the machine's date.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def now() -> datetime.datetime:
    return datetime.datetime.now(CHINA)


def today() -> datetime.date:
    """The date in China."""
    return now().date()
