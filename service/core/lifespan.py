"""What each process builds once: the pool, the jurisdiction tree, the enforcer, the listener."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
from litestar import Litestar

from service.core import migrate, queries, roles
from service.core.auth import IdentityResolver
from service.core.authz import Authorizer
from service.core.changes import ChangeListener
from service.core.db import create_pool
from service.core.embedded import embedded_urls
from service.core.replica import ReadRouter, close_read_pool, open_read_pool
from service.core.settings import Settings
from service.core.tree import JurisdictionTree

log = logging.getLogger(__name__)

# Areas that keep something of their own for the life of the process register a starter here:
# it receives the app once the core is up and returns an async stopper (or None).
Starter = Callable[[Litestar], Awaitable[Callable[[], Awaitable[None]] | None]]
STARTERS: list[Starter] = []
SHUTDOWN_STEP_S = 10.0


class SchemaBehind(RuntimeError):
    pass


async def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server signed in as the service's own role."""
    if settings.database_url:
        return settings.database_url
    _owner, service = await embedded_urls(settings.data_dir)
    return service


async def check_own_role(conn: asyncpg.Connection, settings: Settings) -> None:
    """The service's role must own nothing and hold no power beyond its grants; outside development it
    does not start otherwise (in development, e.g. a benchmark on a database of its own, a warning)."""
    try:
        await roles.check_unprivileged(conn, await conn.fetchval(queries.CURRENT_USER))
    except roles.RoleError as exc:
        if not settings.dev_mode:
            raise
        log.warning("%s", exc)


@contextlib.asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    settings.require_secrets()
    url = await database_url(settings)
    pool = await create_pool(url, min_size=settings.pool_min, max_size=settings.pool_max)
    read_pool = None
    stoppers: list[Callable[[], Awaitable[None]]] = []
    listener: ChangeListener | None = None
    try:
        async with pool.acquire() as conn:
            await check_own_role(conn, settings)
            behind = await migrate.pending(conn, settings.migrations_dir)
            if behind:
                raise SchemaBehind(
                    f"database schema is behind: {len(behind)} migration(s) not applied ({', '.join(behind)}); "
                    "run `matter-registry migrate` first"
                )
            tree = JurisdictionTree()
            await tree.refresh(conn)
            authorizer = Authorizer(settings.policies_dir, tree)
            await authorizer.refresh(conn)
        identities = IdentityResolver(pool, settings.token_pepper)
        read_pool = await open_read_pool(settings)  # None without READ_DATABASE_URL
        app.state.update({
            "pool": pool, "database_url": url, "tree": tree, "authorizer": authorizer, "identities": identities,
            "read_pool": read_pool, "reads": ReadRouter(pool, read_pool),
        })
        listener = ChangeListener(url, pool)
        listener.on("jurisdictions", lambda p: _with_conn(p, tree.refresh))
        listener.on("roles", lambda p: _with_conn(p, authorizer.refresh))
        listener.on("jurisdictions", lambda p: _with_conn(p, authorizer.refresh))
        listener.on("tokens", identities.on_change)
        listener.on("users", identities.on_change)
        app.state.listener = listener
        for starter in STARTERS:
            stop = await starter(app)
            if stop is not None:
                stoppers.append(stop)
        await listener.start()
        yield
    finally:
        # every step bounded: a background loop or a connection that does not let go must not keep the
        # process (or a test's app) from ending; what is cut off is logged, and leased work is retried
        for stop in reversed(stoppers):
            await _bounded(stop(), "a background loop")
        if listener is not None:
            await _bounded(listener.stop(), "the change listener")
        await _bounded(close_read_pool(read_pool), "the read pool")
        if not await _bounded(pool.close(), "the pool"):
            pool.terminate()


async def _bounded(step: Awaitable[Any], what: str, *, timeout_s: float = SHUTDOWN_STEP_S) -> bool:
    """Await one shutdown step for at most `timeout_s`; False (logged) when it did not end in time."""
    try:
        await asyncio.wait_for(step, timeout=timeout_s)
    except TimeoutError:
        log.warning("shutdown: %s did not stop within %.0f s; going on", what, timeout_s)
        return False
    except Exception:
        log.exception("shutdown: %s failed to stop", what)
    return True


async def _with_conn(pool: asyncpg.Pool, fn: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    async with pool.acquire() as conn:
        return await fn(conn)
