"""The registry's public reads from memory: a community's or county's effective list (today, at a past
date, at a release) and the entry log, kept per process as the bytes the database answer encodes to.

Forgotten by the `registry` change topic (the one the check's lists reload on: the scopes that moved,
read past the last change_seq seen) and at once after this process's own change (service/core/written.py);
the whole cache on a `jurisdictions` change (a community's county). A list "today" is keyed by today's
date, so a future-dated change takes effect on its date here too. See service/core/httpcache.py for the
ETag, 304, gzip and the bounds.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from service.core.httpcache import ResponseCache
from service.core.tree import SEQ_OVERLAP
from service.registry import queries

log = logging.getLogger(__name__)

DECODED_MAX = 256  # counties' lists held decoded for the pages (each ~360 items)
ENTRIES_TAG = "entries"  # entry-log pages: every registry change moves them (the total, the last page)


def moved(tag: Any, scopes: set[str]) -> bool:
    """Does a change of these scopes touch an entry tagged with a county code (or the entry log)?"""
    if tag == ENTRIES_TAG or tag is None:
        return True
    county = str(tag)
    return "national" in scopes or county in scopes or county[:2] in scopes


class PublishedLists:
    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache
        self.last_seq = 0
        # decoded lists for pages, valid while the cache's generation has not moved
        self.decoded: dict[tuple[Any, ...], tuple[int, Any]] = {}

    async def start(self, conn: asyncpg.Connection) -> None:
        self.last_seq = int(await conn.fetchval(queries.MAX_SEQ) or 0)

    async def refresh(self, pool: asyncpg.Pool) -> int:
        """Forget what the changes past the last change_seq seen touch (the `registry` topic)."""
        async with pool.acquire() as conn:
            rows = await conn.fetch(queries.CHANGED_SCOPES, max(0, self.last_seq - SEQ_OVERLAP))
        scopes = {r["scope"] for r in rows}
        for r in rows:
            self.last_seq = max(self.last_seq, r["change_seq"])
        if scopes:
            self.cache.forget(lambda tag: moved(tag, scopes))
            self.decoded.clear()
        return len(scopes)

    def forget_all(self) -> None:
        self.cache.forget()
        self.decoded.clear()

    async def on_jurisdictions(self, _pool: asyncpg.Pool) -> None:
        self.forget_all()


async def answer(request: Any, key: tuple[Any, ...], produce: Any) -> Any:
    """The published answer for `key`: from memory, or made by `produce(conn) -> (body, tag)` on a
    read-only connection and kept. A caller bringing a read-your-writes marker is answered fresh."""
    from service.core.replica import read_connection

    lists: PublishedLists = request.app.state.published
    # with a read replica nothing is kept: the replica serves these reads (docs/scaling.md), and an entry
    # filled from it before it replayed a change would outlive the change's forgetting
    fresh = request.app.state.reads.replica is not None
    entry = None if fresh else lists.cache.get(key)
    if entry is None:
        generation = lists.cache.generation
        async with read_connection(request) as conn:
            body, tag = await produce(conn)
        entry = lists.cache.put(key, body, media_type="application/json", tag=tag,
                                generation=-1 if fresh else generation)
    return lists.cache.respond(request, entry)


async def list_at(request: Any, conn: asyncpg.Connection, *, county_code: str) -> Any:
    """`service.list_at(conn, county_code=..., as_of=None)` (a county's list today, decoded), kept beside
    the encoded answers and forgotten with them: for pages that render the list (the duty page)."""
    from service.registry import service

    lists: PublishedLists | None = getattr(request.app.state, "published", None)
    if lists is None or request.app.state.reads.replica is not None:  # with a replica: see answer()
        return await service.list_at(conn, county_code=county_code, as_of=None)
    key = ("list_at", county_code, service.today())
    held = lists.decoded.get(key)
    if held is not None and held[0] == lists.cache.generation:
        return held[1]
    generation = lists.cache.generation
    found = await service.list_at(conn, county_code=county_code, as_of=key[2])
    if generation == lists.cache.generation:
        if len(lists.decoded) >= DECODED_MAX:
            lists.decoded.pop(next(iter(lists.decoded)))
        lists.decoded[key] = (generation, found)
    return found
