"""A server worker killed (SIGKILL) in the middle of submissions, the clients retrying with the same key.

Eight clients each submit admission requests with an Idempotency-Key; on a connection error or a 5xx
they send the same request with the same key again. Two granian workers serve them; each is killed
outright once while the submissions flow (granian starts a new one in its place). Afterwards every acknowledged
request is in the database exactly once with the id its client was given, and no key made two rows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx

from tests.admission.conftest import submission
from tests.resilience.conftest import audit_verifies, eventually

PER_CLIENT = 6
CLIENTS = 8


async def test_a_worker_killed_mid_submission_loses_and_duplicates_nothing(start_instances, as_client, db):
    (server,) = await start_instances(1, workers=2)
    department = as_client("civil-affairs")
    acknowledged: dict[str, dict[str, object]] = {}  # key -> the answer
    titles: dict[str, str] = {}
    retries: list[str] = []

    async def submit_until_acknowledged(http: httpx.AsyncClient, key: str) -> None:
        body = submission()
        titles[key] = body["title"]
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, f"{key} never acknowledged"
            try:
                r = await http.post("/api/v1/admission-requests", json=body,
                                    headers={**department, "Idempotency-Key": key})
            except httpx.TransportError as exc:
                retries.append(f"{key}: {type(exc).__name__}")
            else:
                if r.status_code < 500:
                    assert r.status_code == 201, r.text
                    acknowledged[key] = r.json()
                    return
                retries.append(f"{key}: HTTP {r.status_code}")
            await asyncio.sleep(0.05)

    async def client(n: int) -> None:
        # a fresh connection per request would mostly miss the kill; keep-alive ones are cut by it
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            for i in range(PER_CLIENT):
                await submit_until_acknowledged(http, f"kill-{n}-{i}")

    killed: list[int] = []
    load = [asyncio.create_task(client(n)) for n in range(CLIENTS)]
    try:
        # each kill takes one of the two first workers: granian gives up ("crash loop") when a worker it has
        # just respawned dies again within 5.5 s, which is not what this test is about
        first_workers = server.workers_now()
        for after in (10, 28):
            await eventually(lambda after=after: asyncio.sleep(0, len(acknowledged) >= after), within=30, every=0.01)
            victim = next(pid for pid in server.workers_now() if pid in first_workers and pid not in killed)
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            # granian starts another worker in its place; the next kill waits until it serves
            started = 2 + len(killed)
            try:
                await eventually(lambda started=started: asyncio.sleep(0, server.log().count("Started worker-")
                                                                        >= started), within=20, every=0.1)
            except AssertionError as exc:
                raise AssertionError(f"granian did not start a worker in place of {victim}:\n"
                                     f"{server.log()[-3000:]}") from exc
        await asyncio.gather(*load)
    finally:
        for task in load:
            task.cancel()

    assert len(acknowledged) == CLIENTS * PER_CLIENT
    assert retries, "the kills should have cut some submissions short"
    rows = await db.fetch("select id, title from admission_request where title = any($1)", list(titles.values()))
    by_title: dict[str, list[int]] = {}
    for row in rows:
        by_title.setdefault(row["title"], []).append(row["id"])
    # none lost, none twice, and each is the one its client was told about
    assert {key: by_title.get(title) for key, title in titles.items()} == {
        key: [answer["id"]] for key, answer in acknowledged.items()}
    keys = await db.fetchval("select count(*) from idempotency_key where key = any($1) and status_code = 201",
                             list(titles))
    assert keys == len(titles)
    assert not set(killed) & set(server.workers_now())
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        assert (await http.get("/readyz")).status_code == 200
    audit_verifies(server.env)
