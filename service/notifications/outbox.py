"""Enqueue a notification for a department's callback, in the caller's transaction.

The delivery worker (HMAC-SHA256 signature, retries with backoff, a log of every attempt) lives
beside this module; a decision never waits for a callback.
"""

from __future__ import annotations

from typing import Any

import asyncpg

_ENQUEUE = """
insert into outbox (client_id, topic, subject_type, subject_id, payload)
select id, $2, $3, $4, $5 from api_client where id = $1 and callback_url is not null
returning id
"""


async def enqueue(
    conn: asyncpg.Connection, *, client_id: int, topic: str, subject_type: str, subject_id: str,
    payload: dict[str, Any],
) -> int | None:
    """Queue a delivery to the client's callback URL; None when the client registered none."""
    outbox_id: int | None = await conn.fetchval(_ENQUEUE, client_id, topic, subject_type, subject_id, payload)
    return outbox_id
