"""Public answers kept as encoded bytes per process, served with a strong ETag, 304 and gzip.

An area keeps a `ResponseCache` for reads that are public and change rarely (the registry's lists: see
service/registry/published.py). An entry is the exact body the handler would have produced, its ETag
(SHA-256 of the body) and, made once on the first request that accepts it, its gzip encoding. The area
forgets entries when its change topic says they moved. A fill that began before a forget is not kept
(`generation`), so an answer read from a snapshot older than the change is never stored after it.
Bounded by entries and by bytes, least recently used first out; an entry is at most `max_age_s` old.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from litestar import Request, Response

CACHE_CONTROL = "public, no-cache"  # keep it, but ask again (a 304 costs next to nothing) before using it
VARY = "Accept-Encoding"
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6


class Entry:
    __slots__ = ("body", "etag", "gzip_etag", "gzipped", "headers", "kept", "made", "media_type", "tag")

    def __init__(self, body: bytes, media_type: str, tag: Any, headers: dict[str, str] | None) -> None:
        self.body = body
        self.media_type = media_type
        self.tag = tag
        self.headers = headers or {}
        digest = hashlib.sha256(body).hexdigest()[:32]
        self.etag = f'"{digest}"'
        self.gzip_etag = f'"{digest}-gz"'  # another representation, another strong validator
        self.gzipped: bytes | None = None
        self.made = time.monotonic()
        self.kept = False

    @property
    def size(self) -> int:
        return len(self.body) + (len(self.gzipped) if self.gzipped else 0) + 200


def accepts_gzip(request: Request[Any, Any, Any]) -> bool:
    value = request.headers.get("accept-encoding")
    if not value:
        return False
    for part in value.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def _matches(if_none_match: str, etags: tuple[str, ...]) -> bool:
    if if_none_match.strip() == "*":
        return True
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag.startswith("W/"):
            tag = tag[2:]  # If-None-Match compares weakly (RFC 9110 13.1.2)
        if tag in etags:
            return True
    return False


class ResponseCache:
    def __init__(self, *, max_entries: int = 4096, max_bytes: int = 128 * 1024 * 1024,
                 max_age_s: float = 300.0) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self.bytes = 0
        self.generation = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry.made > self.max_age_s:
            if entry is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: Hashable, body: bytes, *, media_type: str, generation: int, tag: Any = None,
            headers: dict[str, str] | None = None) -> Entry:
        """Keep `body` under `key` unless something was forgotten since `generation` was read."""
        entry = Entry(body, media_type, tag, headers)
        if generation != self.generation or entry.size > self.max_bytes // 4:
            return entry  # answered, not kept
        if key in self._entries:
            self._drop(key)
        self._entries[key] = entry
        entry.kept = True
        self.bytes += entry.size
        self._bound()
        return entry

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        entry.kept = False
        self.bytes -= entry.size

    def _bound(self) -> None:
        while self._entries and (len(self._entries) > self.max_entries or self.bytes > self.max_bytes):
            key = next(iter(self._entries))
            self._drop(key)

    def forget(self, which: Callable[[Any], bool] | None = None) -> int:
        """Forget every entry (or those whose tag `which` picks); fills under way are not kept."""
        self.generation += 1
        if which is None:
            n = len(self._entries)
            for entry in self._entries.values():
                entry.kept = False
            self._entries.clear()
            self.bytes = 0
            return n
        gone = [k for k, e in self._entries.items() if which(e.tag)]
        for k in gone:
            self._drop(k)
        return len(gone)

    def respond(self, request: Request[Any, Any, Any], entry: Entry) -> Response[bytes]:
        """The entry as the answer to this request: 304 when the caller holds it, gzip when accepted."""
        compress = len(entry.body) >= GZIP_MIN_BYTES and accepts_gzip(request)
        etag = entry.gzip_etag if compress else entry.etag
        headers = {**entry.headers, "ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": VARY}
        given = request.headers.get("if-none-match")
        if given and _matches(given, (entry.etag, entry.gzip_etag)):
            return Response(b"", status_code=304, headers=headers)
        body = entry.body
        if compress:
            if entry.gzipped is None:
                entry.gzipped = gzip.compress(entry.body, compresslevel=GZIP_LEVEL, mtime=0)
                if entry.kept:
                    self.bytes += len(entry.gzipped)
                    self._bound()
            body = entry.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=entry.media_type, headers=headers)
