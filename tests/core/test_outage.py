"""PostgreSQL gone while serving: 503 problems and /readyz failing; back without a restart."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from service.app import create_app
from service.core.db import connect
from service.core.embedded import start_embedded, stop_embedded
from service.core.migrate import migrate
from service.core.settings import PROJECT_ROOT
from tests.conftest import SERVICE_ROLE, create_service_role, make_settings
from tests.helpers.app import running


async def test_database_outage_answers_503_and_recovers_without_restart(tmp_path):
    # a folder of our own, not pytest's tmp_path, which a concurrent pytest run may prune from under the server
    folder = Path(tempfile.mkdtemp(prefix="mr-outage-pg-"))
    pgdata = folder / "own-pg"
    url = start_embedded(pgdata)
    await create_service_role(url)
    conn = await connect(url)
    await migrate(conn, PROJECT_ROOT / "migrations", grant_to=SERVICE_ROLE)
    await conn.close()
    try:
        async with running(create_app(make_settings(url, tmp_path))) as client:
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/api/v1/jurisdictions/00")).status_code == 200

            await asyncio.to_thread(stop_embedded, pgdata)
            started = time.monotonic()
            r = await client.get("/api/v1/jurisdictions/00")
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/problem+json")
            assert time.monotonic() - started < 6, "must fail fast, not hang"
            assert (await client.get("/readyz")).status_code == 503
            assert (await client.get("/healthz")).status_code == 200

            await asyncio.to_thread(start_embedded, pgdata)
            deadline = time.monotonic() + 15
            status = 0
            while time.monotonic() < deadline:
                status = (await client.get("/api/v1/jurisdictions/00")).status_code
                if status == 200:
                    break
                await asyncio.sleep(0.2)
            assert status == 200
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await asyncio.to_thread(stop_embedded, pgdata)
        shutil.rmtree(folder, ignore_errors=True)
