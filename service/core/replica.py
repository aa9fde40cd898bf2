"""Public reads from a streaming replica (READ_DATABASE_URL), with read-your-writes for whoever just wrote.

The rule (docs/scaling.md says why):
- A handler that only reads public data asks for `read_db: ReadDB`. It gets a connection in a read-only,
  repeatable-read transaction: from the replica's pool when READ_DATABASE_URL is set, from the primary's
  otherwise (so without a replica nothing changes but the transaction mode).
- After a change (a non-GET request by an authenticated caller that committed through `db: DB`), the
  response carries where the primary's WAL then stood, `pg_current_wal_insert_lsn()`: in the `X-Min-LSN` header,
  and for a web user also in the short-lived `mr_min_lsn` cookie. A read that brings the marker back (header
  or cookie) is served by the replica only if the replica has replayed that far
  (`pg_last_wal_replay_lsn() >= marker`, checked before the read's snapshot is taken), else by the primary.
- A replica that cannot be reached (acquire, the check or BEGIN fails) is skipped for RETRY_AFTER_S and the
  read goes to the primary. A replica that dies in the middle of a read fails that one read (503, like the
  primary) and the next reads go to the primary.
- Responses to reads carry `X-Read-From: replica|primary` when a replica is configured (diagnostics).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.types import Message, Scope

from service.core import queries
from service.core.db import create_pool
from service.core.errors import ServiceUnavailable
from service.core.settings import Settings

log = logging.getLogger(__name__)

LSN_HEADER = "x-min-lsn"
LSN_COOKIE = "mr_min_lsn"
SOURCE_HEADER = b"x-read-from"
MARKER_MAX_AGE_S = 60  # long enough for any sane lag; a replica further behind is a fault to page on
RETRY_AFTER_S = 2.0  # after a replica failure, reads go to the primary for this long before trying again
REPLICA_ACQUIRE_S = 1.0
REPLICA_CONNECT_S = 2.0
_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")
_FAILURES = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def parse_lsn(text: str | None) -> int | None:
    """'16/B374D848' -> an integer that orders as pg_lsn does; None for anything else."""
    match = _LSN.match(text.strip()) if text else None
    return (int(match[1], 16) << 32 | int(match[2], 16)) if match else None


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def marker_of(request: Request[Any, Any, Any]) -> int | None:
    """The highest LSN the caller brought back, in the header or the cookie."""
    found = [parse_lsn(request.headers.get(LSN_HEADER)), parse_lsn(request.cookies.get(LSN_COOKIE))]
    values = [v for v in found if v is not None]
    return max(values) if values else None


class Lease:
    """A connection in a read-only transaction, and the pool it goes back to."""

    def __init__(self, pool: asyncpg.Pool, conn: Any, tx: Any, source: str) -> None:
        self.pool, self.conn, self.tx, self.source = pool, conn, tx, source

    async def end(self) -> None:
        with contextlib.suppress(*_FAILURES):
            await self.tx.rollback()  # read-only: ending it either way is the same, rollback is cheaper

    async def release(self) -> None:
        with contextlib.suppress(*_FAILURES):
            await self.pool.release(self.conn, timeout=2)


class ReadRouter:
    """Chooses the replica or the primary for each public read (one per process, in app.state.reads)."""

    def __init__(self, primary: asyncpg.Pool, replica: asyncpg.Pool | None) -> None:
        self.primary = primary
        self.replica = replica
        self.down_until = 0.0
        self.served = {"replica": 0, "primary": 0, "behind": 0, "unavailable": 0}

    def failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self.down_until:
            log.warning("read replica unavailable (or its pool busy), reading from the primary for %.0f s: %r",
                        RETRY_AFTER_S, exc)
        self.down_until = time.monotonic() + RETRY_AFTER_S

    async def begin(self, min_lsn: int | None) -> Lease:
        lease = None
        if self.replica is not None:
            if time.monotonic() < self.down_until:
                self.served["unavailable"] += 1
            else:
                lease = await self._from_replica(self.replica, min_lsn)
        lease = lease or await self._from_primary()
        self.served[lease.source] += 1
        return lease

    async def _from_replica(self, pool: asyncpg.Pool, min_lsn: int | None) -> Lease | None:
        try:
            conn: Any = await pool.acquire(timeout=REPLICA_ACQUIRE_S)
        except _FAILURES as exc:
            self.failed(exc)
            return None
        try:
            if min_lsn is not None:
                # before the snapshot: replay only moves forward, so the snapshot taken next sees the change
                replayed = await conn.fetchval(queries.WAL_REPLAY_LSN)
                if replayed is not None and (parse_lsn(replayed) or 0) < min_lsn:  # None: not in recovery
                    self.served["behind"] += 1
                    await pool.release(conn)
                    return None
            tx = conn.transaction(isolation="repeatable_read", readonly=True)
            await tx.start()
            return Lease(pool, conn, tx, "replica")
        except _FAILURES as exc:
            self.failed(exc)
            with contextlib.suppress(*_FAILURES):
                await pool.release(conn, timeout=1)
            return None

    async def _from_primary(self) -> Lease:
        try:
            conn: Any = await self.primary.acquire(timeout=5)
        except (OSError, asyncpg.PostgresConnectionError, TimeoutError) as exc:
            raise ServiceUnavailable("数据库暂时不可用 (database unavailable)") from exc
        try:
            tx = conn.transaction(isolation="repeatable_read", readonly=True)
            await tx.start()
        except BaseException:
            await self.primary.release(conn)
            raise
        return Lease(self.primary, conn, tx, "primary")


@contextlib.asynccontextmanager
async def read_connection(request: Request[Any, Any, Any]) -> AsyncIterator[Any]:
    """A read-only connection, from the replica when it may serve this caller (the `read_db` dependency,
    and a handler that reads only on a miss of its cache)."""
    router: ReadRouter = request.app.state.reads
    lease = await router.begin(marker_of(request) if router.replica is not None else None)
    if router.replica is not None:
        request.scope["state"]["read_from"] = lease.source
    try:
        yield lease.conn
    except BaseException as exc:
        if lease.source == "replica" and lease.conn.is_closed():  # the replica went away during the read
            router.failed(exc)
        if lease.source == "replica" and isinstance(exc, asyncpg.SerializationError):
            # a read-only transaction never conflicts with another: on a standby this is replay cancelling
            # the read (a conflict with recovery), not "a concurrent change won" (409): ask for a retry
            raise ServiceUnavailable("只读副本取消了本次读取，请重试 (the read replica cancelled this read "
                                     "in a conflict with recovery; retry)") from exc
        raise
    finally:
        await lease.end()
        await lease.release()


async def provide_read_connection(state: State, request: Request[Any, Any, Any]) -> AsyncGenerator[Any, None]:
    """The `read_db` dependency: a read-only connection, from the replica when it may serve this caller."""
    async with read_connection(request) as conn:
        yield conn


async def open_read_pool(settings: Settings) -> asyncpg.Pool | None:
    """The replica's pool, or None without READ_DATABASE_URL. It opens no connection up front, so the
    service starts (reading from the primary) even when the replica is down."""
    if not settings.read_database_url:
        return None
    pool = await create_pool(settings.read_database_url, min_size=0, max_size=settings.pool_max,
                             application_name="matter-registry-read", connect_timeout=REPLICA_CONNECT_S)
    try:
        async with pool.acquire(timeout=REPLICA_CONNECT_S) as conn:
            standby = await conn.fetchval(queries.IN_RECOVERY)
        log.info("read replica reachable (in recovery: %s)", standby)
    except _FAILURES as exc:
        log.warning("read replica not reachable at start; public reads go to the primary until it is: %r", exc)
    return pool


async def close_read_pool(pool: asyncpg.Pool | None) -> None:
    if pool is None:
        return
    try:
        await asyncio.wait_for(pool.close(), 5)
    except (TimeoutError, *_FAILURES):
        pool.terminate()


def mark_response(scope: Scope, message: Message) -> None:
    """Put the marker of a change on its response (X-Min-LSN; the mr_min_lsn cookie for a web user) and say
    which server answered a read (X-Read-From); only with a read replica (service/core/path.py). The LSN
    itself is taken by `provide_connection` right after its commit (service/core/db.py)."""
    state: dict[str, Any] = scope.get("state", {})  # type: ignore[assignment]
    lsn, source = state.get("min_lsn"), state.get("read_from")
    if (lsn and message["status"] < 400) or source:  # type: ignore[typeddict-item]
        headers = list(message.get("headers", []))
        if source:
            headers.append((SOURCE_HEADER, source.encode()))
        if lsn and message["status"] < 400:  # type: ignore[typeddict-item]
            headers.append((LSN_HEADER.encode(), lsn.encode()))
            identity = state.get("identity")
            if getattr(identity, "kind", None) == "user":
                secure = "" if scope["app"].state.settings.dev_mode else "; Secure"
                headers.append((b"set-cookie", f"{LSN_COOKIE}={lsn}; Max-Age={MARKER_MAX_AGE_S}; "
                                               f"Path=/; HttpOnly; SameSite=Lax{secure}".encode()))
        message["headers"] = headers  # type: ignore[typeddict-unknown-key]
