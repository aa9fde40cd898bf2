"""The jurisdiction tree held in memory: ancestry answers for authorization and scoping.

Loaded once in the lifespan and refreshed from rows whose change_seq moved (see core/changes.py).
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
import msgspec

from service.core import queries

LEVELS = ("nation", "province", "city", "county", "street", "community")
LEVEL_RANK = {level: i for i, level in enumerate(LEVELS)}
# how many change_seq values to read again on each refresh, so a transaction that took its seq
# earlier but committed later than another is not skipped
SEQ_OVERLAP = 1000


class Node(msgspec.Struct, frozen=True):
    code: str
    parent_code: str | None
    level: str
    name: str
    population: int | None
    path: str
    county_code: str | None


class JurisdictionTree:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.last_seq = 0

    async def refresh(self, conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(queries.TREE_SINCE, max(0, self.last_seq - SEQ_OVERLAP))
        for r in rows:
            self.nodes[r["code"]] = Node(
                code=r["code"], parent_code=r["parent_code"], level=r["level"], name=r["name"],
                population=r["population"], path=r["path"], county_code=r["county_code"],
            )
            self.last_seq = max(self.last_seq, r["change_seq"])
        return len(rows)

    def get(self, code: str) -> Node | None:
        return self.nodes.get(code)

    def chain(self, code: str) -> list[str]:
        """The code and every ancestor, nearest first; empty when the code is unknown."""
        node = self.nodes.get(code)
        if node is None:
            return []
        return node.path.strip("/").split("/")[::-1]

    def is_within(self, code: str, ancestor: str) -> bool:
        node = self.nodes.get(code)
        anc = self.nodes.get(ancestor)
        return node is not None and anc is not None and node.path.startswith(anc.path)

    def county_of(self, code: str) -> str | None:
        node = self.nodes.get(code)
        return node.county_code if node else None


async def lookup(conn: asyncpg.Connection, code: str, *, tree: JurisdictionTree | None = None) -> Node | None:
    """The jurisdiction `code`, or None when there is none: the one way to look a code up.

    From the tree when it is given and holds the code; else from the database, so a code created a
    moment ago (before this process heard of it) is found. A code's level and existence never change
    once created; its path and county move with `move` and reach the tree a moment later, so a caller
    that needs a path read in its own transaction passes no tree.
    """
    node = tree.get(code) if tree is not None else None
    if node is None:
        row = await conn.fetchrow(queries.NODE, code)
        node = Node(**dict(row)) if row is not None else None
    return node


async def lookup_many(conn: asyncpg.Connection, codes: Iterable[str], *, tree: JurisdictionTree | None = None
                      ) -> dict[str, Node]:
    """`lookup` for many codes: those the tree holds from it, the rest in one query; unknown codes are absent."""
    found: dict[str, Node] = {}
    missing = []
    for code in set(codes):
        node = tree.get(code) if tree is not None else None
        if node is None:
            missing.append(code)
        else:
            found[code] = node
    if missing:
        for row in await conn.fetch(queries.NODES, missing):
            found[row["code"]] = Node(**dict(row))
    return found
