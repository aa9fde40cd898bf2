"""The duplicate search of admission screening, in memory: pg_trgm's similarity computed in the process.

Every submission compares its title and content with each item of the county's lists (national,
provincial and the county's own, retired items left out). In PostgreSQL (queries.SIMILAR, still the
reference, used by the review page and the command line) that is a scan of ~360 rows and a round trip
per submission; here each process keeps, per scope, an inverted index of the items' trigrams, built
on the first search of that scope and dropped when the registry changes.

The trigrams are pg_trgm's (generate_trgm in contrib/pg_trgm): lower-cased words of letters and
digits, each padded with two spaces before and one after, every three consecutive characters, each
counted once; similarity = shared / (all distinct of both), 0 when either text has none. The title
counts in full, the content at 0.8, the greater of the two wins: the same figures as the SQL (a test
compares both on every demo county).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable

import asyncpg

from service.registry import queries
from service.registry.schemas import SimilarItem

# letters and digits of any script (pg_trgm's ISWORDCHR under a UTF-8 locale); "_" is not one
_WORD = re.compile(r"[^\W_]+")
CONTENT_WEIGHT = 0.8
SCOPES_KEPT = 512

def trigrams(text: str) -> frozenset[str]:
    grams: set[str] = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


class _Field:
    """One text field of a scope's items: each item's count of distinct trigrams, and trigram -> items."""

    __slots__ = ("postings", "sizes")

    def __init__(self, texts: Iterable[str]) -> None:
        self.sizes: list[int] = []
        postings: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            grams = trigrams(text)
            self.sizes.append(len(grams))
            for gram in grams:
                postings.setdefault(gram, []).append(i)
        self.postings = {gram: tuple(items) for gram, items in postings.items()}

    def shared(self, grams: frozenset[str]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for gram in grams:
            for i in self.postings.get(gram, ()):
                counts[i] = counts.get(i, 0) + 1
        return counts


class ScopeIndex:
    """The items of one scope that are not retired, indexed by the trigrams of title and content."""

    __slots__ = ("content", "items", "title")

    def __init__(self, rows: list[asyncpg.Record]) -> None:
        self.items = [(r["scope"], r["code"], r["title"], r["list"], r["kind"]) for r in rows]
        self.title = _Field(r["title"] for r in rows)
        self.content = _Field(r["content"] for r in rows)

    def scores(self, title: frozenset[str], content: frozenset[str]) -> dict[int, float]:
        out: dict[int, float] = {}
        for field, grams, weight in ((self.title, title, 1.0), (self.content, content, CONTENT_WEIGHT)):
            for i, n in field.shared(grams).items():
                score = n / (field.sizes[i] + len(grams) - n) * weight
                if score > out.get(i, 0.0):
                    out[i] = score
        return out


class SimilarItems:
    """Per process: the scopes' indexes, the least recently searched dropped past SCOPES_KEPT."""

    def __init__(self, kept: int = SCOPES_KEPT) -> None:
        self._kept = kept
        self._scopes: OrderedDict[str, ScopeIndex] = OrderedDict()
        self._generation = 0

    def clear(self) -> None:
        """The registry changed: every index is rebuilt on its next search."""
        self._scopes.clear()
        self._generation += 1

    async def _indexes(self, conn: asyncpg.Connection, scopes: list[str]) -> list[ScopeIndex]:
        missing = [s for s in scopes if s not in self._scopes]
        if missing:
            generation = self._generation
            rows = await conn.fetch(queries.SIMILAR_ITEMS, missing)
            built = {s: ScopeIndex([r for r in rows if r["scope"] == s]) for s in missing}
            if generation != self._generation:
                return [self._scopes.get(s) or built[s] for s in scopes]  # changed meanwhile: use, don't keep
            self._scopes.update(built)
        for s in scopes:
            self._scopes.move_to_end(s)
        while len(self._scopes) > self._kept:
            self._scopes.popitem(last=False)
        return [self._scopes[s] for s in scopes]

    async def find(self, conn: asyncpg.Connection, *, scopes: list[str], title: str, content: str,
                   limit: int = 5) -> list[SimilarItem]:
        title_grams, content_grams = trigrams(title), trigrams(content or title)
        found: list[tuple[float, str, str, tuple[str, str, str, str, str]]] = []
        for index in await self._indexes(conn, scopes):
            for i, score in index.scores(title_grams, content_grams).items():
                item = index.items[i]
                found.append((-score, item[1], item[0], item))
        found.sort()
        return [SimilarItem(scope=item[0], code=item[1], title=item[2], list=item[3], kind=item[4],
                            similarity=round(-negative, 4)) for negative, _, _, item in found[:limit]]
