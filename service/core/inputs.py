"""One guard on the request line, before any handler or query: a NUL byte anywhere in the path or
the query string, or an integer beyond PostgreSQL's bigint, is refused with a generic 422 (never the
database's own text), audited as every 422 is (core/errors.py)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from service.core.errors import InvalidParam, ValidationFailed

INT8_MAX = 2**63 - 1
_INTEGER = re.compile(r"[+-]?[0-9]{19,}")  # shorter runs of digits always fit in a bigint
REFUSED = "请求含有不允许的字符或超出范围的数值 (a NUL byte or an out-of-range integer was refused)"


def _bad(value: str) -> str | None:
    if "\x00" in value:
        return "含有 NUL 字符 (contains a NUL byte)"
    if _INTEGER.fullmatch(value) and abs(int(value)) > INT8_MAX:
        return "数值超出范围 (integer out of range)"
    return None


def refused_params(path: str, query_string: bytes) -> list[InvalidParam]:
    """What in the request line is refused, by name ('path' for a segment of the path)."""
    found = [InvalidParam(name="path", reason=reason) for reason in map(_bad, path.split("/")) if reason]
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                          errors="surrogateescape")
    except ValueError:
        pairs = []
    for key, value in pairs:
        reason = _bad(key) or _bad(value)
        if reason:
            found.append(InvalidParam(name=key.replace("\x00", "") or "query", reason=reason))
    return found


_LONG_RUN = re.compile(r"[0-9]{19}")


def check_request_line(path: str, query_string: bytes) -> None:
    """Refuse (ValidationFailed, 422) a request whose path or query string carries what no handler may
    receive. Nearly every request line holds no NUL, no run of 19 digits and no percent-escape in its query
    string, and so cannot hold anything refused: those are let through without parsing the query string."""
    if "\x00" not in path and not _LONG_RUN.search(path) and (
            not query_string or (b"%" not in query_string and b"\x00" not in query_string
                                 and not _LONG_RUN.search(query_string.decode("latin-1")))):
        return
    params = refused_params(path, query_string)
    if params:
        raise ValidationFailed(REFUSED, invalid_params=params)
