"""Audit-area fixtures: the app's sequencer, a root-level auditor, events made on demand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.audit import keys
from service.audit.sequencer import Sequencer, sources_present
from service.core.audit import Actor, record
from service.core.db import create_pool
from tests.conftest import service_url


@pytest.fixture
async def sequencer(client, database, settings) -> AsyncIterator[Sequencer]:
    """A sequencer on the test's own event loop (the app's runs on the test client's), same key, same
    database: the advisory lock keeps the two from overlapping, as with two processes."""
    pool = await create_pool(service_url(database), min_size=1, max_size=3)  # as the service signs in
    try:
        async with pool.acquire() as conn:
            sources = await sources_present(conn)
        yield Sequencer(pool, keys.load_signing_key(settings), sources)
    finally:
        await pool.close()


@pytest.fixture
async def root_auditor(client, db, as_client) -> dict[str, str]:
    """The province-admin client, also granted `admin` at the root (sees unscoped events too)."""
    client_id = await db.fetchval("select id from api_client where name = 'province-admin'")
    await db.execute("insert into role_assignment (principal_type, principal_id, role, jurisdiction_code, granted_by) "
                     "values ('client', $1, 'admin', '00', 'test')", client_id)
    await client.app.state.authorizer.refresh(db)
    return as_client("province-admin")


async def add_events(db, n: int, **fields: Any) -> list[int]:
    actor = Actor(actor_type=fields.pop("actor_type", "system"), actor_id=fields.pop("actor_id", None),
                  actor_name=fields.pop("actor_name", "bench"), role=fields.pop("role", None))
    ids = []
    for i in range(n):
        ids.append(await record(db, actor=actor, action=fields.get("action", "test.event"),
                                subject_type=fields.get("subject_type", "thing"),
                                subject_id=fields.get("subject_id", str(i)),
                                jurisdiction=fields.get("jurisdiction"), outcome=fields.get("outcome", "ok"),
                                detail={"n": i, "名": "事项"}))
    return ids
