"""Several processes of one deployment behave as one: a role change made through one is applied by
the other within a second (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import time

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers.app import running


async def test_a_role_granted_through_one_process_applies_in_another_within_a_second(
    settings, database, tmp_path, as_client, db
):
    other = create_app(make_settings(database, tmp_path / "other"))
    async with running(create_app(settings)) as first, running(other) as second:
        headers = as_client("housing-bureau")
        target = "/api/v1/jurisdictions/430121002"
        assert (await second.patch(target, headers=headers, json={"name": "湘龙街道"})).status_code == 403
        client_id = await db.fetchval("select id from api_client where name = 'housing-bureau'")
        r = await first.post("/api/v1/role-assignments", headers=as_client("province-admin"), json={
            "principal_type": "client", "principal_id": client_id, "role": "admin", "jurisdiction_code": "430121"})
        assert r.status_code == 201, r.text
        started = time.monotonic()
        while True:
            status = (await second.patch(target, headers=headers, json={"name": "湘龙街道"})).status_code
            if status == 200 or time.monotonic() - started > 1.0:
                break
            await asyncio.sleep(0.05)
        assert status == 200
        assert time.monotonic() - started <= 1.0

        # and a revocation the same way
        r = await first.post(f"/api/v1/role-assignments/{r.json()['id']}/revoke", headers=as_client("province-admin"))
        assert r.status_code == 200
        started = time.monotonic()
        while (await second.patch(target, headers=headers, json={"name": "湘龙街道"})).status_code != 403:
            assert time.monotonic() - started <= 1.0
            await asyncio.sleep(0.05)
