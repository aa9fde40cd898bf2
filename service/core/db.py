"""The PostgreSQL pool (one per process, built in the lifespan) and the request's transaction."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import anyio
import asyncpg
import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.types import Scope

from service.core import queries
from service.core import written as changes
from service.core.auth import identity_of
from service.core.errors import ServiceUnavailable


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=lambda v: msgspec.json.encode(v).decode(), decoder=msgspec.json.decode,
        schema="pg_catalog",
    )
    await conn.set_type_codec(
        "json", encoder=lambda v: msgspec.json.encode(v).decode(), decoder=msgspec.json.decode,
        schema="pg_catalog",
    )


async def connect(url: str) -> asyncpg.Connection:
    """A single connection with the same codecs as the pool's (CLI, listeners, tests)."""
    conn = await asyncpg.connect(url, timeout=10, server_settings={"timezone": "UTC"})
    await _init_connection(conn)
    return conn


Statement = tuple[str, Sequence[Any]]
_PARAM = re.compile(r"\$(\d+)")


def _shifted(m: re.Match[str], *, shift: int) -> str:
    return f"${int(m.group(1)) + shift}"


async def write_together(conn: asyncpg.Connection, *statements: Statement | None) -> list[Any]:
    """Run several `insert ... returning id` statements as one (data-modifying CTEs): one round trip
    instead of one each, in the caller's transaction. Returns each statement's id (None: no row, or
    no statement). Parameters are renumbered, so each statement keeps its own $1, $2, ... (and must
    not write `$n` inside a string literal)."""
    parts: list[str] = []
    args: list[Any] = []
    for n, statement in enumerate(statements):
        if statement is None:
            continue
        sql, values = statement
        offset = len(args)
        renumbered = _PARAM.sub(functools.partial(_shifted, shift=offset), sql.strip())
        parts.append(f"s{n} as ({renumbered})")
        args.extend(values)
    if not parts:
        return [None] * len(statements)
    picks = ", ".join(f"(select id from s{n} limit 1)" if statement is not None else "null"
                      for n, statement in enumerate(statements))
    row = await conn.fetchrow(f"with {', '.join(parts)} select {picks}", *args)
    assert row is not None
    return list(row)


def database_url(url: str, name: str) -> str:
    """The same server's URL pointing at database `name` (a `?host=` socket query is kept)."""
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


async def recreate_database(server_url: str, name: str) -> str:
    """Drop database `name` (forcing its connections off) and create it empty again; its URL."""
    admin = await connect(server_url)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    return database_url(server_url, name)


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10, application_name: str = "matter-registry",
                      connect_timeout: float = 60) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection, timeout=connect_timeout,
        command_timeout=30, server_settings={"application_name": application_name, "timezone": "UTC"},
    )
    assert pool is not None
    return pool


# What a lost or broken database connection raises. InternalClientError: PostgreSQL, shutting down,
# sends its "terminating connection" error to an idle connection; asyncpg's protocol then refuses the
# next query on it ("another operation is in progress") until it notices the socket closed.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError,
)

# how a handler asks for the request's connection: `db: DB`
DB = NamedDependency[asyncpg.Connection]
# how a public read asks for a read-only connection, from the read replica when there is one:
# `read_db: ReadDB` (service/core/replica.py)
ReadDB = NamedDependency[asyncpg.Connection]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def pool_from(state: State) -> asyncpg.Pool:
    pool: asyncpg.Pool = state.pool
    return pool


class _Lease:
    """The request's connection and transaction, ended exactly once: by the dependency when Litestar
    runs its cleanup, or by `release_leases` when it does not."""

    def __init__(self, pool: asyncpg.Pool, conn: Any, tx: Any) -> None:
        self.pool, self.conn, self.tx = pool, conn, tx
        self.open = True

    async def rollback(self) -> None:
        if not self.open:
            return
        self.open = False
        try:
            # the connection may be gone (the database stopped mid-request): then the server has already
            # rolled back, and the request's own error (a 503 problem) is what the caller must see
            with contextlib.suppress(OSError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                                     asyncpg.PostgresConnectionError):
                await self.tx.rollback()
        finally:
            await self.pool.release(self.conn)


async def provide_connection(state: State, request: Request[Any, Any, Any]) -> AsyncGenerator[asyncpg.Connection, None]:
    """The request owns the transaction: commit when the handler returns, roll back if it raises.

    Services never commit; they receive this connection. With a read replica, a change by an authenticated
    caller notes where the primary's WAL stands after the commit (read-your-writes, service/core/replica.py).

    Litestar resolves this beside the handler's other dependencies; when one of those fails (a bad filter),
    it cancels this one and never runs its cleanup. So taking the connection and beginning are shielded
    from that cancellation, and the lease is left in the request's state for `release_leases` to roll
    back: no connection goes back to the pool inside a transaction, and none waits for the GC.
    """
    pool = pool_from(state)
    with anyio.CancelScope(shield=True):
        try:
            conn: Any = await pool.acquire(timeout=5)
        except (OSError, asyncpg.PostgresConnectionError, TimeoutError) as exc:
            raise ServiceUnavailable("数据库暂时不可用 (database unavailable)") from exc
        tx = conn.transaction()
        try:
            await tx.start()
        except BaseException:
            await pool.release(conn)
            raise
    lease = _Lease(pool, conn, tx)
    request.scope.setdefault("state", {}).setdefault(LEASES, []).append(lease)  # type: ignore[typeddict-item]
    try:
        yield conn
    except BaseException:
        await lease.rollback()
        raise
    if not lease.open:
        return
    lease.open = False
    try:
        await tx.commit()
        changes.committed()  # this process's caches learn of the change now, the others by notification
        if (state.get("read_pool") is not None and request.method not in SAFE_METHODS
                and identity_of(request).kind != "anonymous"):
            # the insert position: past this commit's record even with synchronous_commit off
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                request.scope["state"]["min_lsn"] = await conn.fetchval(queries.WAL_INSERT_LSN)
    except BaseException:
        with contextlib.suppress(OSError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                                 asyncpg.PostgresConnectionError, asyncpg.PostgresError):
            if conn.is_in_transaction():
                await tx.rollback()
        raise
    finally:
        await pool.release(conn)


LEASES = "db_leases"


async def release_leases(scope: Scope) -> None:
    """Roll back and release a request's connection that Litestar left open (see provide_connection); the
    request path (service/core/path.py) calls this when the request ends, whatever happened."""
    leases = scope.get("state", {}).pop(LEASES, None)  # type: ignore[attr-defined]
    for lease in leases or ():
        if lease.open:
            with anyio.CancelScope(shield=True):
                await lease.rollback()
