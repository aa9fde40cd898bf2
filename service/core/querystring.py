"""Query strings sent as raw UTF-8 bytes (`?q=无犯罪记录证明` from curl or a browser's address bar)
are read as UTF-8: Litestar decodes the bytes as Latin-1 before percent-decoding them as UTF-8, so the
one fix is to percent-encode every non-ASCII byte before anything reads the query string: the first step
of the request path (service/core/path.py) does."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

# every printable ASCII byte stays as it is: '%', '&', '=' and '+' keep their meaning
_ASCII_SAFE = bytes(range(0x20, 0x7F))


def utf8_query_string(query_string: bytes) -> bytes:
    if query_string.isascii():
        return query_string
    return quote_from_bytes(query_string, safe=_ASCII_SAFE).encode("ascii")
