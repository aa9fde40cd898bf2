"""Who did it, by name: the actor references the areas record (`user:2`, `client:1`,
`client:3:xingsha-office`, `system:matter-registry`) become the person's or the organisation's name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg

from service.web import queries
from service.web.labels import SYSTEM


def parse(ref: str | None) -> tuple[str, str | None, str | None]:
    """(type, id, name) of an actor reference; a bare name is a system or an imported source."""
    if not ref:
        return "system", None, None
    kind, _, rest = ref.partition(":")
    if kind not in ("user", "client", "system", "anonymous"):
        return "name", None, ref
    ident, _, name = rest.partition(":")
    if kind == "system":
        return "system", None, rest or None
    return kind, ident if ident.isdigit() else None, name or (None if ident.isdigit() else ident or None)


class Names:
    """Names looked up once per page (two queries whatever the number of references)."""

    def __init__(self, users: dict[str, str], clients: dict[str, str], locale: str) -> None:
        self.users, self.clients, self.locale = users, clients, locale

    def of(self, ref: str | None) -> str:
        kind, ident, name = parse(ref)
        return self.actor(kind, ident, name)

    def actor(self, kind: str | None, ident: str | None, name: str | None) -> str:
        system = SYSTEM[1] if self.locale == "en" else SYSTEM[0]
        if kind == "system" or (kind is None and not name):
            return system
        if kind == "user" and ident in self.users:
            return self.users[ident]
        if kind == "client" and ident in self.clients:
            return self.clients[ident]
        if kind == "anonymous":
            return "Anonymous" if self.locale == "en" else "匿名"
        return name or system


async def lookup(conn: asyncpg.Connection, refs: Iterable[Any], *, locale: str = "zh-CN") -> Names:
    """`refs`: actor references (strings) or (actor_type, actor_id) pairs."""
    users: set[int] = set()
    clients: set[int] = set()
    for ref in refs:
        kind, ident = (ref[0], ref[1]) if isinstance(ref, tuple) else parse(ref)[:2]
        if ident and str(ident).isdigit():
            (users if kind == "user" else clients if kind == "client" else set()).add(int(ident))
    user_names = {str(r["id"]): r["display_name"] for r in await conn.fetch(queries.USER_NAMES, sorted(users))} \
        if users else {}
    client_names = {str(r["id"]): r["organisation"] or r["name"]
                    for r in await conn.fetch(queries.CLIENT_NAMES, sorted(clients))} if clients else {}
    return Names(user_names, client_names, locale)
