"""The daily run: approved secondments whose start has come become active; active ones past their end
without a return become overdue and are listed for the county. Nobody has to ask.

Safe with several processes: the run takes a transaction-level advisory lock (a process that does not
get it skips; the holder does the work), and each UPDATE moves a row only from the state it expects,
so a run repeated the same day changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

import asyncpg
from litestar import Litestar

from service.core import audit
from service.core.audit import SYSTEM
from service.core.clock import CHINA, today
from service.core.db import CONNECTION_ERRORS
from service.secondments import queries
from service.secondments.schemas import DailyRunReport
from service.secondments.service import get, notify_client

log = logging.getLogger(__name__)

LOCK_KEY = 0x4D52_5345  # "MRSE"
RUN_AT_HOUR = 1  # 01:00 China time, and once at start-up to catch up


async def run_daily(conn: asyncpg.Connection, *, day: date | None = None) -> DailyRunReport:
    """One run, in its own transaction on `conn`. Tests call this directly."""
    on = day or today()
    async with conn.transaction():
        if not await conn.fetchval(queries.TRY_XACT_LOCK, LOCK_KEY):
            return DailyRunReport(ran=False, activated=[], overdue=[])
        started = await conn.fetch(queries.DUE_TO_START, on)
        for row in started:
            await audit.record(conn, actor=SYSTEM, action="secondment.activate", subject_type="secondment_request",
                               subject_id=str(row["id"]), jurisdiction=row["jurisdiction_code"],
                               change={"from": "approved", "to": "active", "on": on.isoformat()})
            await notify_client(conn, client_id=row["client_id"], topic="secondment.active",
                          request=await get(conn, request_id=row["id"]))
        overdue = await conn.fetch(queries.DUE_OVERDUE, on)
        for row in overdue:
            await audit.record(conn, actor=SYSTEM, action="secondment.overdue", subject_type="secondment_request",
                               subject_id=str(row["id"]), jurisdiction=row["jurisdiction_code"],
                               change={"from": "active", "to": "overdue", "end_date": row["end_date"].isoformat(),
                                       "on": on.isoformat()})
            await notify_client(conn, client_id=row["client_id"], topic="secondment.overdue",
                          request=await get(conn, request_id=row["id"]))
    if started or overdue:
        log.info("secondments daily run: %d activated, %d overdue", len(started), len(overdue))
    return DailyRunReport(ran=True, activated=[r["id"] for r in started], overdue=[r["id"] for r in overdue])


def seconds_until_next_run(now: datetime) -> float:
    local = now.astimezone(CHINA)
    target = local.replace(hour=RUN_AT_HOUR, minute=0, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    return (target - local).total_seconds()


async def _loop(pool: asyncpg.Pool) -> None:
    while True:
        try:
            async with pool.acquire() as conn:
                await run_daily(conn)
        except CONNECTION_ERRORS:
            log.exception("secondments daily run failed; retrying in ten minutes")
            await asyncio.sleep(600)
            continue
        await asyncio.sleep(seconds_until_next_run(datetime.now(CHINA)))


async def start_daily_job(app: Litestar) -> Callable[[], Awaitable[None]]:
    task = asyncio.create_task(_loop(app.state.pool), name="secondments-daily")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
