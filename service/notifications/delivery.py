"""The delivery worker: posts outbox rows to departments' callback URLs.

- Claims due rows with FOR UPDATE SKIP LOCKED and pushes their next attempt a lease ahead, then
  commits before any network call: several processes share the work, none holds a transaction open
  while a callback is slow, and a process that dies mid-delivery leaves the row due again.
- Signs as Standard Webhooks do (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
  HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`), so a receiver can refuse replays; and, for receivers
  written before, the body alone: `X-MR-Signature: sha256=<hex HMAC-SHA256(client secret, body)>`.
- Delivers only to https URLs resolving to public addresses (notifications/addresses.py), checked again
  right before each attempt; redirects are never followed.
- Retries with exponential backoff (30 s doubling, at most 2 h apart) for 48 hours, then gives up;
  every attempt is a `delivery_attempt` row.
- Woken by the `outbox` change topic (the outbox trigger), and by a timer for retries.
- Each claimed row is delivered in a task of its own (at most `batch` at once), so one department's
  endpoint that hangs until the timeout delays nobody else's notifications.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import msgspec
from litestar import Litestar

from service.core.db import CONNECTION_ERRORS
from service.notifications import queries
from service.notifications.addresses import CallbackRefused, check_public

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-MR-Signature"

def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_secret(secret: str) -> str:
    """The client's secret in the Standard Webhooks form (`whsec_` + base64 of the key's bytes)."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: v1 and the base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" under the key."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()


def _shown(exc: Exception) -> str:
    """What a department sees of a failed attempt: the kind of failure, not the service's internals."""
    if isinstance(exc, httpx.TimeoutException):
        return "等待回调应答超时"
    if isinstance(exc, httpx.ConnectError):
        return "无法连接回调地址"
    return "回调请求失败"


class Backoff(msgspec.Struct, frozen=True):
    first_s: float = 30.0
    max_s: float = 2 * 3600.0
    give_up_after_s: float = 48 * 3600.0
    """at least 24 hours of retries, as the issue asks; 48 to cover a weekend outage"""

    def delay(self, attempts: int) -> float:
        return float(min(self.first_s * (2 ** max(attempts - 1, 0)), self.max_s))


class DeliveryWorker:
    def __init__(self, pool: asyncpg.Pool, *, backoff: Backoff | None = None, batch: int = 20,
                 lease_s: float = 120.0, timeout_s: float = 10.0, idle_s: float = 30.0,
                 development: bool = False) -> None:
        self._pool = pool
        self._development = development
        self.backoff = backoff or Backoff()
        self._batch = batch
        self._lease = lease_s
        self._idle = idle_s
        self.timeout_s = timeout_s
        """how long one callback may take (connect, send, answer) before the attempt counts as failed"""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._http = httpx.AsyncClient(follow_redirects=False,
                                       headers={"User-Agent": "matter-registry-callbacks/1"})

    def wake(self) -> None:
        self._wake.set()

    async def on_change(self, _pool: asyncpg.Pool) -> None:
        self.wake()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        in_flight = list(self._in_flight)
        for task in in_flight:
            task.cancel()
        if in_flight:
            # bounded: shutdown must not hang on a delivery that does not end when cancelled (a callback or
            # the database not answering); such a row stays leased and is delivered again after the lease
            await asyncio.wait(in_flight, timeout=5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._http.aclose(), timeout=5)

    async def _run(self) -> None:
        while True:
            # cleared before looking, not after: a wake-up that arrives while the loop claims or asks what is
            # due next (a new row committed meanwhile) must not be wiped out, or the row waits for the timer
            self._wake.clear()
            try:
                room = self._batch - len(self._in_flight)
                if room <= 0:
                    wait = self._idle  # a delivery that ends wakes the loop
                elif await self._start(room):
                    continue  # there may be more due
                else:
                    wait = await self._until_next_due()
            except CONNECTION_ERRORS as exc:
                log.warning("delivery worker: %s", exc)
                wait = 5.0
                self._wake.clear()  # after an error, back off for the whole wait
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _until_next_due(self) -> float:
        async with self._pool.acquire() as conn:
            due: datetime.datetime | None = await conn.fetchval(queries.NEXT_DUE)
        if due is None:
            return self._idle
        seconds = (due - datetime.datetime.now(datetime.UTC)).total_seconds()
        return min(max(seconds, 0.05), self._idle)

    async def _claim(self, limit: int) -> list[asyncpg.Record]:
        async with self._pool.acquire() as conn, conn.transaction():
            return list(await conn.fetch(queries.CLAIM, limit, self._lease))

    async def _start(self, limit: int) -> int:
        """Claim what is due and deliver each row in a task of its own: a callback that hangs holds up
        only itself (until the timeout), never the loop nor the other departments' deliveries."""
        rows = await self._claim(limit)
        for row in rows:
            task = asyncio.create_task(self._deliver_logged(row))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return len(rows)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self.wake()  # room for another, and a failed attempt's retry may fall due before the loop's timer

    async def _deliver_logged(self, row: asyncpg.Record) -> None:
        try:
            await self._deliver(row)
        except Exception:  # the row stays leased and is tried again when the lease ends
            log.exception("delivery %s: the attempt could not be recorded", row["id"])

    async def run_once(self) -> int:
        """Deliver what is due now and wait for the outcomes; the number of rows attempted."""
        rows = await self._claim(self._batch)
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def _deliver(self, row: asyncpg.Record) -> None:
        url: str | None = row["callback_url"]
        body = msgspec.json.encode({"delivery_id": row["id"], "topic": row["topic"], **row["payload"]})
        status: int | None = None
        error: str | None = None
        started = time.perf_counter()
        if not url or not row["callback_secret"]:
            error = "未登记回调地址或签名密钥"
        else:
            secret, message_id, timestamp = row["callback_secret"], f"mr_{row['id']}", int(time.time())
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body),
                       "webhook-id": message_id, "webhook-timestamp": str(timestamp),
                       "webhook-signature": standard_signature(secret, message_id, timestamp, body),
                       "X-MR-Delivery": str(row["id"]), "X-MR-Topic": row["topic"]}
            try:
                await check_public(url, development=self._development)
                response = await self._http.post(url, content=body, headers=headers, timeout=self.timeout_s)
                status = response.status_code
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except CallbackRefused as exc:
                error = f"未投递：{exc}"
            except httpx.HTTPError as exc:
                log.info("delivery %s to client %s failed: %s", row["id"], row["client_id"], type(exc).__name__)
                error = _shown(exc)
        duration = int((time.perf_counter() - started) * 1000)
        attempts = row["attempts"] + 1
        age = (datetime.datetime.now(datetime.UTC) - row["created_at"]).total_seconds()
        give_up = error is not None and age + self.backoff.delay(attempts) > self.backoff.give_up_after_s
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(queries.ATTEMPT, row["id"], url or "", status, error, duration)
            if error is None:
                await conn.execute(queries.DELIVERED, row["id"])
            else:
                await conn.execute(queries.RETRY, row["id"], error, self.backoff.delay(attempts), give_up)


async def start_delivery(app: Litestar) -> Callable[[], Awaitable[None]] | None:
    worker = DeliveryWorker(app.state.pool, development=app.state.settings.dev_mode)
    app.state.delivery_worker = worker
    app.state.listener.on("outbox", worker.on_change)
    worker.start()
    return worker.stop


def payload_of(body: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = msgspec.json.decode(body)
    return decoded
