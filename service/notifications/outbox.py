"""Enqueue a notification for a department's callback, in the caller's transaction.

The delivery worker (HMAC-SHA256 signature, retries with backoff, a log of every attempt) lives
beside this module; a decision never waits for a callback.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from service.notifications import queries


def statement(*, client_id: int, topic: str, subject_type: str, subject_id: str,
              payload: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The INSERT of one delivery and its arguments (for `enqueue`, or `db.write_together`)."""
    return queries.ENQUEUE, (client_id, topic, subject_type, subject_id, payload)


async def enqueue(
    conn: asyncpg.Connection, *, client_id: int, topic: str, subject_type: str, subject_id: str,
    payload: dict[str, Any],
) -> int | None:
    """Queue a delivery to the client's callback URL; None when the client registered none."""
    sql, args = statement(client_id=client_id, topic=topic, subject_type=subject_type, subject_id=subject_id,
                          payload=payload)
    outbox_id: int | None = await conn.fetchval(sql, *args)
    return outbox_id
