"""Callbacks to departments: signed, retried with backoff, logged, and never in a decision's way."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import msgspec

from service.core.db import create_pool
from service.notifications.delivery import SIGNATURE_HEADER, Backoff, DeliveryWorker
from service.notifications.outbox import enqueue
from tests.admission.conftest import into_review, submit
from tests.helpers.callbacks import Receiver, register

BASE = "/api/v1/admission-requests"


async def test_each_change_of_state_is_delivered_signed_to_the_departments_callback(client, as_client, db):
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    async with Receiver() as receiver:
        secret = await register(client, department, receiver.url)
        answer = await submit(client, department)
        await into_review(client, reviewer, answer["id"])
        await client.post(f"{BASE}/{answer['id']}/decision", headers=reviewer,
                          json={"outcome": "rejected", "reason": "不属于社区职责"})
        await receiver.wait_for(3)
        for _ in range(50):  # the worker records the outcome just after the receiver answered
            if await db.fetchval("select count(*) from outbox where subject_id = $1 and delivered_at is not null",
                                 str(answer["id"])) == 3:
                break
            await asyncio.sleep(0.1)
    statuses = []
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers[SIGNATURE_HEADER.lower()], expected)
        payload = msgspec.json.decode(body)
        assert payload["request_id"] == answer["id"]
        statuses.append(payload["status"])
    assert sorted(statuses) == ["in_review", "rejected", "submitted"]
    rejected = next(msgspec.json.decode(b) for _, b in receiver.received if b"rejected" in b)
    assert rejected["reason"] == "不属于社区职责"
    log = (await client.get(f"{BASE}/{answer['id']}/deliveries", headers=department)).json()
    assert len(log) == 3
    assert all(d["delivered_at"] and d["log"][0]["status_code"] == 200 for d in log)


async def test_a_dead_callback_never_blocks_a_decision_and_is_retried_with_backoff(client, as_client, db):
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    async with Receiver() as closed:
        url = closed.url  # a port that nothing listens on once this block ends
    await register(client, department, url)
    answer = await submit(client, department)
    started = time.perf_counter()
    await into_review(client, reviewer, answer["id"])
    assert time.perf_counter() - started < 2
    for _ in range(100):  # the worker tries at once, off the request's path
        rows = await db.fetch("select * from outbox where subject_id = $1 order by id", str(answer["id"]))
        if len(rows) == 2 and all(r["attempts"] >= 1 for r in rows):
            break
        await asyncio.sleep(0.1)
    assert len(rows) == 2
    assert all(r["delivered_at"] is None and r["attempts"] >= 1 and r["last_error"] for r in rows)
    # the second attempt waits the first backoff step (30 s), not at once
    assert all((r["next_attempt_at"] - r["created_at"]).total_seconds() >= 25 for r in rows)
    attempts = await db.fetch("select * from delivery_attempt where outbox_id = $1", rows[0]["id"])
    assert attempts[0]["url"] == url
    assert attempts[0]["status_code"] is None


def test_backoff_doubles_and_keeps_trying_for_at_least_24_hours():
    backoff = Backoff()
    delays = [backoff.delay(n) for n in range(1, 30)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 2 * 3600
    assert backoff.give_up_after_s >= 24 * 3600


async def test_a_failing_callback_is_given_up_only_after_the_retry_window(database, db):
    # no app here: a worker of our own with a short window is the only one delivering
    pool = await create_pool(database, min_size=1, max_size=2)
    worker = DeliveryWorker(pool, backoff=Backoff(first_s=0.01, max_s=0.01, give_up_after_s=0.5), development=True)
    try:
        async with Receiver(status=500) as receiver:
            client_id = await db.fetchval("update api_client set callback_url = $1, callback_secret = 's3cret' "
                                          "where name = 'civil-affairs' returning id", receiver.url)
            outbox_id = await enqueue(db, client_id=client_id, topic="admission_request.status",
                                      subject_type="admission_request", subject_id="1", payload={"status": "x"})
            assert await worker.run_once() == 1
            row = await db.fetchrow("select * from outbox where id = $1", outbox_id)
            assert row["given_up_at"] is None
            assert row["last_error"] == "HTTP 500"
            await asyncio.sleep(0.6)
            assert await worker.run_once() == 1
        row = await db.fetchrow("select * from outbox where id = $1", outbox_id)
        assert row["given_up_at"] is not None
        assert row["attempts"] == 2
        assert await db.fetchval("select count(*) from delivery_attempt where outbox_id = $1", outbox_id) == 2
        assert len(receiver.received) == 2
    finally:
        await worker.stop()
        await pool.close()
