"""The daily run: overdue secondments are marked without anyone asking, once, whatever the process count."""

from __future__ import annotations

import asyncio

from service.app import create_app
from service.core.audit import Actor
from service.core.clock import today
from service.core.db import connect
from service.secondments import service
from service.secondments.jobs import run_daily
from service.secondments.schemas import SecondmentDecision
from tests.helpers.app import running
from tests.secondments.conftest import days

ORGDEPT = Actor(actor_type="system", actor_id=None, actor_name="test:县委组织部")


async def _active_past_end(client, street, orgdept, body, db) -> int:
    """A secondment approved on its start day, 40 days ago, that ended yesterday: an approval today of a
    start already past would start it today instead (history is not written backwards)."""
    created = (await client.post("/api/v1/secondment-requests", headers=street, json=body(
        workers=["W21001001-03"], start_date=days(-40).isoformat(), end_date=days(-1).isoformat()))).json()
    async with db.transaction():
        decided = await service.decide(db, actor=ORGDEPT, request_id=created["id"], today=days(-40),
                                       data=SecondmentDecision(outcome="approve", reasons="同意"))
    assert decided.status == "active"
    return int(created["id"])


async def _run(db):
    for _ in range(50):  # the app's own start-up run may hold the lock for a moment
        report = await run_daily(db)
        if report.ran:
            return report
        await asyncio.sleep(0.1)
    raise AssertionError("the daily run never got its lock")


async def test_daily_run_marks_overdue_once_and_lists_it_for_the_county(client, street, orgdept, body, db, as_client):
    request_id = await _active_past_end(client, street, orgdept, body, db)
    report = await _run(db)
    assert report.overdue == [request_id]
    assert (await _run(db)).overdue == []  # the same day again changes nothing
    row = await db.fetchrow("select status, overdue_since from secondment_request where id = $1", request_id)
    assert (row["status"], row["overdue_since"]) == ("overdue", today())
    assert await db.fetchval("select count(*) from audit_event where action = 'secondment.overdue' and "
                             "subject_id = $1", str(request_id)) == 1
    r = await client.get("/api/v1/secondment-requests?jurisdiction=430121&state=overdue",
                         headers=as_client("county-orgdept-api"))
    assert request_id in [i["id"] for i in r.json()["items"]]
    r = await client.post(f"/api/v1/secondment-requests/{request_id}/return", headers=street, json={})
    assert r.json()["status"] == "returned"


async def test_daily_run_in_several_processes_at_once_marks_each_secondment_once(
        client, street, orgdept, body, database, db):
    request_id = await _active_past_end(client, street, orgdept, body, db)
    conns = [await connect(database) for _ in range(3)]
    try:
        reports = await asyncio.gather(*(run_daily(c) for c in conns))
    finally:
        for c in conns:
            await c.close()
    assert sum(r.ran for r in reports) >= 1
    # whoever ran (these three, or the app's own start-up run), the secondment was marked exactly once
    assert [i for r in reports for i in r.overdue].count(request_id) <= 1
    assert await db.fetchval("select status from secondment_request where id = $1", request_id) == "overdue"
    assert await db.fetchval("select count(*) from audit_event where action = 'secondment.overdue' and "
                             "subject_id = $1", str(request_id)) == 1


async def test_the_service_marks_overdue_by_itself_at_start_up(client, street, orgdept, body, db, settings):
    request_id = await _active_past_end(client, street, orgdept, body, db)
    # a second process starting: its daily job runs at once, nobody calls it
    async with running(create_app(settings), base_url="http://testserver.local"):
        for _ in range(50):
            if await db.fetchval("select status from secondment_request where id = $1", request_id) == "overdue":
                break
            await asyncio.sleep(0.1)
    assert await db.fetchval("select status from secondment_request where id = $1", request_id) == "overdue"
