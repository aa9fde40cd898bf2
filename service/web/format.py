"""Dates and numbers as Chinese readers expect them: 2026年11月28日, China time, 1,234 and 12.3万 (Babel's CLDR
formats for zh_CN; English pages get ISO dates, which county staff also read, and grouped digits)."""

from __future__ import annotations

import datetime
from typing import Any

from babel.dates import format_date
from babel.numbers import format_compact_decimal, format_decimal

from service.core.clock import CHINA


def _day(value: Any) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=datetime.UTC)).astimezone(CHINA).date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def date(value: Any, locale: str = "zh-CN") -> str:
    """2026年11月28日 (English: 2026-11-28); a datetime is shown on China's calendar."""
    day = _day(value)
    if day is None:
        return "—" if value in (None, "") else str(value)
    if locale == "en":
        return day.isoformat()
    return format_date(day, "long", locale="zh_CN")


def datetime_(value: Any, locale: str = "zh-CN") -> str:
    """2026年11月28日 13:05 in China time."""
    if not isinstance(value, datetime.datetime):
        return date(value, locale)
    local = (value if value.tzinfo else value.replace(tzinfo=datetime.UTC)).astimezone(CHINA)
    return f"{date(local.date(), locale)} {local:%H:%M}"


def month(value: datetime.date, locale: str = "zh-CN") -> str:
    return f"{value:%Y-%m}" if locale == "en" else format_date(value, "y年M月", locale="zh_CN")


def number(value: Any, locale: str = "zh-CN") -> str:
    """Digits grouped by thousands (as Chinese official tables print them); 万 and 亿 above 100,000 in Chinese."""
    if value is None:
        return "—"
    n = float(value)
    if locale != "en" and abs(n) >= 100_000:
        return format_compact_decimal(n, locale="zh_CN", fraction_digits=1)  # 12.3万, 4.5亿
    return format_decimal(n, format="#,##0.##", locale="en" if locale == "en" else "zh_CN")


def days(value: float | None, locale: str = "zh-CN") -> str:
    if value is None:
        return "—"
    shown = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{shown} days" if locale == "en" else f"{shown}天"


def helpers(locale: str) -> dict[str, Any]:
    """The template functions, bound to the page's locale."""
    return {
        "fmt_date": lambda v: date(v, locale), "fmt_datetime": lambda v: datetime_(v, locale),
        "fmt_number": lambda v: number(v, locale), "fmt_days": lambda v: days(v, locale),
    }
