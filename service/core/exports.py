"""CSV for people's spreadsheets: every export writes through here.

A cell that starts with = + - @ (or a tab or carriage return, which some programs skip before reading a
formula) is run as a formula by Excel, WPS and LibreOffice (CSV injection, OWASP). Such a text cell is
written with a leading apostrophe, which the programs show as text. Numbers are left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from litestar.response import Stream

# Litestar appends "; charset=utf-8" to a text/ type itself: given here with it, it came out twice
CSV_MEDIA_TYPE = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer's interface, with every text cell neutralised."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: Any, **options: Any) -> SafeWriter:
    return SafeWriter(out, **options)


class ExportStream(Stream):
    """A Stream whose own media type wins over the handler's declared one (Litestar prefers the
    handler's for streams, so an export offering CSV or JSON Lines was always labelled JSON Lines)."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["media_type"] = self.media_type
        return super().to_asgi_response(*args, **kwargs)
