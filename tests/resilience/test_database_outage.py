"""PostgreSQL stopped and started again in the middle of a load, with a server process running.

A PostgreSQL server of this test's own (embedded, in a temporary folder), so stopping it touches no
other test. Four clients submit, check and read for the whole run. While the database is down every
request that needs it fails fast with a 503 problem (no hang, no 500); the service recovers without
a restart (its background loops too: callbacks are delivered after); every request that got a 2xx is
in the database afterwards; the audit log verifies.
(tests/core/test_outage.py proves the single-request version inside the test process.)
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec

from service.core.db import connect
from service.core.embedded import start_embedded, stop_embedded
from service.demo.loader import migrate_and_load
from tests.admission.conftest import submission
from tests.conftest import PEPPER, create_service_role, service_url
from tests.helpers.callbacks import Receiver
from tests.resilience.conftest import audit_verifies, eventually

COMMUNITY = "430121001001"
KINDS = ("submit", "check", "list", "read")
# a check is answered from memory and recorded afterwards; a public list read too, once this process holds it
NEEDS_DATABASE = ("submit", "read")
FAIL_FAST_S = 3.0
AFTERWARDS_S = 35.0


@dataclass
class Call:
    kind: str
    started: float
    ended: float = 0.0
    status: int | None = None
    error: str | None = None
    answer: dict[str, object] = field(default_factory=dict)
    title: str | None = None


async def prepare(url: str) -> str:
    """Schema and demo data on the test's own server; the department's token."""
    await create_service_role(url)
    creds = await migrate_and_load(url, pepper=PEPPER.encode(), service_url=service_url(url))
    return next(token for name, token, _, _ in creds.tokens if name == "civil-affairs")


async def test_postgresql_stopped_and_restarted_under_load(start_instances):
    # a folder of our own, not pytest's tmp_path, which a concurrent pytest run may prune from under the server
    folder = Path(tempfile.mkdtemp(prefix="mr-outage-pg-"))
    pgdata = folder / "own-pg"
    url = await asyncio.to_thread(start_embedded, pgdata)
    try:
        token = await prepare(url)
        (server,) = await start_instances(1, on=url)
        headers = {"Authorization": f"Bearer {token}"}
        calls: list[Call] = []
        stop = asyncio.Event()
        first_request = await connect(url)
        try:
            seed_id = await first_request.fetchval("select min(id) from admission_request")
        finally:
            await first_request.close()
        counter = itertools.count()

        async def one(http: httpx.AsyncClient, kind: str) -> None:
            call = Call(kind=kind, started=time.monotonic())
            calls.append(call)
            try:
                if kind == "submit":
                    body = submission()
                    call.title = body["title"]
                    r = await http.post("/api/v1/admission-requests", headers={
                        **headers, "Idempotency-Key": f"outage-{next(counter)}"}, json=body)
                elif kind == "check":
                    r = await http.post("/api/v1/checks", headers=headers, json={
                        "community_code": COMMUNITY, "matter": {"code": "430121-A-001"}, "role": "assisting"})
                elif kind == "list":
                    r = await http.get("/api/v1/registry/counties/430121/items")
                else:
                    r = await http.get(f"/api/v1/admission-requests/{seed_id}", headers=headers)
                call.status = r.status_code
                if r.status_code < 300:
                    call.answer = r.json()
                elif r.status_code == 503:
                    assert r.headers["content-type"].startswith("application/problem+json")
            except (httpx.HTTPError, AssertionError) as exc:
                call.error = f"{type(exc).__name__}: {exc}"
            call.ended = time.monotonic()

        async def client(n: int) -> None:
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
                for i in itertools.count(n):
                    if stop.is_set():
                        return
                    await one(http, KINDS[i % len(KINDS)])
                    await asyncio.sleep(0.01)

        def succeeded_since(moment: float) -> set[str]:
            return {c.kind for c in calls if c.started >= moment and c.status is not None and c.status < 300}

        async with httpx.AsyncClient(base_url=server.base, timeout=10) as probe, Receiver() as receiver:
            r = await probe.put("/api/v1/callback", headers=headers, json={"url": receiver.url})
            assert r.status_code == 200, r.text
            load = [asyncio.create_task(client(n)) for n in range(4)]
            try:
                began = time.monotonic()
                await eventually(lambda: asyncio.sleep(0, set(KINDS) <= succeeded_since(began)), within=10)
                await asyncio.to_thread(stop_embedded, pgdata)
                down_at = time.monotonic()
                ready_while_down = (await probe.get("/readyz")).status_code
                await asyncio.sleep(2.0)  # the load keeps running against the stopped database
                restart_at = time.monotonic()
                await asyncio.to_thread(start_embedded, pgdata)
                up_at = time.monotonic()
                recovered_in = await eventually(
                    lambda: asyncio.sleep(0, set(KINDS) <= succeeded_since(up_at)), within=15, every=0.05)
                ready_after = (await probe.get("/readyz")).status_code
            finally:
                stop.set()
                await asyncio.gather(*load)
            # the background loops survived: a request submitted now is delivered to the department's callback
            r = await probe.post("/api/v1/admission-requests", headers=headers, json=submission())
            assert r.status_code == 201, r.text
            after = r.json()["id"]

            async def delivered() -> bool:
                return any(msgspec.json.decode(body).get("request_id") == after for _, body in receiver.received)

            # generous: in two of some twenty runs on the busy machine a background loop needed more than 10 s
            # after the restart (cause not found; under the pool's 30 s command timeout); the promise is
            # "afterwards", and a loop that died would never get there
            await eventually(delivered, within=AFTERWARDS_S, every=0.1)

        # nothing hung, nothing broke: every answer was a 2xx or a 503 problem, each in good time
        odd = [c for c in calls if c.error or c.status is None or not (c.status < 300 or c.status == 503)]
        assert not odd, odd[:5]
        slow = [c for c in calls if c.ended - c.started > FAIL_FAST_S]
        assert not slow, [(c.kind, c.status, round(c.ended - c.started, 2)) for c in slow[:5]]
        # while the database was down, what needs it was refused with 503, and there was such traffic
        while_down = [c for c in calls if c.started >= down_at and c.ended <= restart_at]
        assert {c.kind for c in while_down if c.kind in NEEDS_DATABASE} == set(NEEDS_DATABASE)
        assert all(c.status == 503 for c in while_down if c.kind in NEEDS_DATABASE)
        assert ready_while_down == 503
        # back without a restart of the server
        assert ready_after == 200
        assert server.process.poll() is None
        assert recovered_in < 15

        conn = await connect(url)
        try:
            acknowledged = [c for c in calls if c.kind == "submit" and c.status == 201]
            assert acknowledged
            stored = {r["id"]: r["title"] for r in await conn.fetch(
                "select id, title from admission_request where id = any($1::bigint[])",
                [c.answer["id"] for c in acknowledged])}
            assert stored == {c.answer["id"]: c.title for c in acknowledged}
            # nothing twice, whatever the client was told
            titles = [c.title for c in calls if c.kind == "submit"]
            assert await conn.fetchval("select max(n) from (select count(*) as n from admission_request "
                                       "where title = any($1) group by title) t", titles) == 1
            # checks answered from memory while the database was down are written once it is back
            checks = [str(c.answer["id"]) for c in calls if c.kind == "check" and c.status == 200]
            assert any(c.kind == "check" and c.status == 200 and c.started >= down_at and c.ended <= restart_at
                       for c in calls)

            async def all_checks_recorded() -> bool:
                found = await conn.fetchval("select count(*) from check_record where id::text = any($1)", checks)
                return bool(found == len(checks))

            await eventually(all_checks_recorded, within=AFTERWARDS_S, every=0.2)
        finally:
            await conn.close()
        audit_verifies({**server.env, "DATABASE_URL": url})
    finally:
        await asyncio.to_thread(stop_embedded, pgdata)
        shutil.rmtree(folder, ignore_errors=True)
