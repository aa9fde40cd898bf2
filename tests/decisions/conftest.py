"""Decision documents' fixtures: the app's sequencer (a proof needs a checkpoint), a request to decide."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from service.audit import keys
from service.audit.sequencer import Sequencer, sources_present
from service.core.db import create_pool
from tests.conftest import service_url


@pytest.fixture
async def sequencer(client, database, settings) -> AsyncIterator[Sequencer]:
    pool = await create_pool(service_url(database), min_size=1, max_size=3)
    try:
        async with pool.acquire() as conn:
            sources = await sources_present(conn)
        yield Sequencer(pool, keys.load_signing_key(settings), sources)
    finally:
        await pool.close()


@pytest.fixture
async def in_review(db) -> int:
    """housing-bureau's request the county reviewer has taken into review (demo data)."""
    return int(await db.fetchval("select id from admission_request where title = '老旧小区改造居民意见征集'"))
