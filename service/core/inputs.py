"""One guard on the request line, before any handler or query: a NUL byte anywhere in the path or
the query string, or an integer beyond PostgreSQL's bigint, is refused with a generic 422 (never the
database's own text), audited as every 422 is (core/errors.py)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from litestar.types import ASGIApp, Receive, Scope, Send

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


class RequestLineGuard:
    """Refuses a request whose path or query string carries what no handler may receive."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            params = refused_params(scope.get("path", ""), scope.get("query_string", b""))
            if params:
                raise ValidationFailed(REFUSED, invalid_params=params)
        await self.app(scope, receive, send)
