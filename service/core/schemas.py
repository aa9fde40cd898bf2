"""Base classes for request and response models (msgspec), and the bounds every input shares."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

import msgspec

from service.core.errors import ValidationFailed


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body: unknown fields are refused."""


class Output(msgspec.Struct, kw_only=True):
    """A response body."""


class Page(msgspec.Struct, kw_only=True):
    next_cursor: str | None = None


# ---- text: a title must show something ----

# whitespace, and the characters that take no room on the page: zero-width spaces and joiners,
# bidirectional marks, word joiners, variation selectors, the byte-order mark, Hangul fillers
_INVISIBLE = (r"\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
              r"\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0")
VISIBLE = f"[^{_INVISIBLE}]"
_VISIBLE = re.compile(VISIBLE)

# a title or name: at least one visible character (msgspec's pattern is a search), 1..max characters
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=VISIBLE,
                                    description="at least one visible character")]


def has_visible_text(text: str) -> bool:
    return _VISIBLE.search(text) is not None


# ---- money: yuan, bounded ----

# the most a single amount may be (CNY): a community matter's funds are far below; beyond is a typo
MONEY_MAX = 100_000_000
Money = Annotated[float, msgspec.Meta(ge=0, le=MONEY_MAX, description=f"yuan, 0 to {MONEY_MAX}")]


# ---- dates and instants ----

# what a date in a query may be: the calendar the service keeps (and far inside what PostgreSQL and
# Python can represent, so no arithmetic on it overflows)
DAY_MIN = dt.date(2000, 1, 1)
DAY_MAX = dt.date(2100, 12, 31)
INSTANT_MIN = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
INSTANT_MAX = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
# submissions, secondments and decisions: within this many years of today
WINDOW_YEARS = 10


def bounded_day(name: str, value: dt.date, *, earliest: dt.date = DAY_MIN, latest: dt.date = DAY_MAX) -> dt.date:
    if not earliest <= value <= latest:
        raise ValidationFailed.field(name, f"日期须在 {earliest.isoformat()} 至 {latest.isoformat()} 之间 "
                                           f"(the date must be between {earliest} and {latest})")
    return value


def parse_day(name: str, text: str | None) -> dt.date | None:
    """A YYYY-MM-DD from a query string or form (blank: none); a date that does not exist is refused."""
    if text is None or not text.strip():
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationFailed.field(name, f"不是有效的日期：{text[:20]} (not a valid date, YYYY-MM-DD)") from exc
    return bounded_day(name, day)


def bounded_instant(name: str, value: dt.datetime | None) -> dt.datetime | None:
    """An instant from a query, in UTC, within what the audit log can hold (1970 to 9000)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        utc = None
    if utc is None or not INSTANT_MIN <= utc <= INSTANT_MAX:
        raise ValidationFailed.field(name, f"时间须在 {INSTANT_MIN.date()} 至 {INSTANT_MAX.date()} 之间 "
                                           "(the instant is out of range)")
    return utc


def within_years(name: str, value: dt.date, *, today: dt.date, years: int = WINDOW_YEARS) -> dt.date:
    """A date of a submission, a secondment or a decision: within `years` years either side of today."""
    return bounded_day(name, value, earliest=today.replace(year=today.year - years) if not (
        today.month == 2 and today.day == 29) else dt.date(today.year - years, 2, 28),
        latest=today.replace(year=today.year + years) if not (today.month == 2 and today.day == 29)
        else dt.date(today.year + years, 2, 28))
