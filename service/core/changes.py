"""LISTEN/NOTIFY: changes made by one process reach every other process within a second.

One dedicated connection per process listens on `mr_change`. A topic's handler re-reads what moved
(by change_seq) rather than trusting the payload, so a lost notification is repaired by the next
one, and after a reconnect every handler runs once to catch up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg
import msgspec

from service.core.db import CONNECTION_ERRORS

log = logging.getLogger(__name__)

CHANNEL = "mr_change"
Handler = Callable[[asyncpg.Pool], Awaitable[object]]


class ChangeListener:
    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        self._url = url
        self._pool = pool
        self._handlers: dict[str, list[Handler]] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self.connected = asyncio.Event()

    def on(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            topic = msgspec.json.decode(payload).get("topic", "")
        except msgspec.DecodeError:
            return
        if topic in self._handlers:
            self._dirty.add(topic)
            self._wake.set()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._keep_listening()), asyncio.create_task(self._apply_loop())]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=10)

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=2)

    async def _keep_listening(self) -> None:
        first = True
        while True:
            try:
                self._conn = await asyncpg.connect(self._url, timeout=5)
                self._lost.clear()
                self._conn.add_termination_listener(lambda _c: self._lost.set())
                await self._conn.add_listener(CHANNEL, self._notified)
                self.connected.set()
                if not first:
                    # notifications sent while we were away are gone: catch up on everything
                    self._dirty.update(self._handlers)
                    self._wake.set()
                first = False
                await self._lost.wait()
                log.warning("change listener lost its connection; reconnecting")
            except CONNECTION_ERRORS as exc:
                log.warning("change listener cannot connect: %s", exc)
            self.connected.clear()
            await asyncio.sleep(1)

    async def _apply_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            topics, self._dirty = self._dirty, set()
            for topic in topics:
                for handler in self._handlers.get(topic, []):
                    try:
                        await handler(self._pool)
                    except Exception:  # a failed refresh is retried on the next notification
                        log.exception("applying change %s failed", topic)
                        self._dirty.add(topic)
            if self._dirty:
                await asyncio.sleep(1)
                self._wake.set()

