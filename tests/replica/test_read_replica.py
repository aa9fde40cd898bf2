"""Public list reads from a real streaming replica: served by it, read-your-writes, lag, and the replica stopping.

One primary and one standby (pg_basebackup -R) on loopback for the module (tests/replica/cluster.py); the
migrations and the demo data are applied to the primary and reach the standby by streaming replication.
A replica whose replay is paused (pg_wal_replay_pause) is a replica that lags as long as we like: a change
made while it is paused shows which server answered.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from service.app import create_app
from service.core.db import connect
from service.core.replica import LSN_COOKIE, RETRY_AFTER_S, parse_lsn
from service.demo.loader import migrate_and_load
from service.registry.service import today
from tests.conftest import PEPPER, create_service_role, make_settings, service_url
from tests.helpers.app import AppClient, another_browser, running
from tests.helpers.web import approve_on_page, sign_in
from tests.replica.cluster import Cluster, free_port, replication_lag

COUNTY = "430121"
COMMUNITY = "430121001001"
LAG_TRIALS = 300


class Replicated(msgspec.Struct):
    cluster: Any
    primary_url: str
    replica_url: str
    users: dict[str, str]
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    cluster = Cluster()

    async def build() -> Replicated:
        await asyncio.to_thread(cluster.start_primary)
        admin = await connect(cluster.primary.url())
        await admin.execute("create database registry")
        await admin.close()
        await create_service_role(cluster.primary.url())
        creds = await migrate_and_load(cluster.primary.url("registry"), pepper=PEPPER.encode(),
                                       service_url=service_url(cluster.primary.url("registry")))
        await asyncio.to_thread(cluster.start_replica)
        return Replicated(cluster=cluster, primary_url=cluster.primary.url("registry"),
                          replica_url=cluster.replica.url("registry"),
                          users={u: p for u, p, _, _ in creds.users}, tokens={c: t for c, t, _, _ in creds.tokens})

    try:
        yield asyncio.run(build())
    finally:
        cluster.close()


@pytest.fixture
async def client(replicated: Replicated, tmp_path: Path) -> AsyncIterator[AppClient]:
    settings = msgspec.structs.replace(make_settings(replicated.primary_url, tmp_path),
                                       read_database_url=service_url(replicated.replica_url))
    async with running(create_app(settings), base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def replica(replicated: Replicated) -> AsyncIterator[Any]:
    """An admin connection to the standby; replay is running again when the test ends."""
    conn = await connect(replicated.replica_url)
    yield conn
    if not conn.is_closed():
        await conn.execute("select pg_wal_replay_resume()")
        await conn.close()


def token(replicated: Replicated, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {replicated.tokens[name]}"}


def item(code: str, title: str) -> dict[str, Any]:
    return {"item": {"kind": "task", "list": "assisting", "code": code, "title": title,
                     "content": "协助开展登记", "basis": "《长沙县实施方案》", "department": "长沙县民政局",
                     "department_level": "county", "frequency": "monthly"},
            "effective_from": today().isoformat(), "reason": "经准入审核同意"}


def codes(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {i["code"] for i in response.json()["items"]}


async def eventually(check: Any, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.02)


async def test_public_list_reads_are_served_by_the_replica(client, replicated, replica):
    assert await replica.fetchval("select pg_is_in_recovery()") is True
    r = await client.get(f"/api/v1/registry/counties/{COUNTY}/items")
    assert "T-D-001" in codes(r)
    assert r.headers["x-read-from"] == "replica"
    # the service's read pool is connected to the standby, under its own application name
    assert await replica.fetchval(
        "select count(*) from pg_stat_activity where application_name = 'matter-registry-read' "
        "and datname = 'registry'") >= 1

    # proof by content: with replay paused, a change committed on the primary is in no public read
    await replica.execute("select pg_wal_replay_pause()")
    reviewer = token(replicated, "county-reviewer-api")
    added = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items", headers=reviewer,
                              json=item("430121-X-901", "协助开展读写分离测试登记"))
    assert added.status_code == 201, added.text  # writes go to the primary, paused replica or not
    total = added.json()["entry_number"]
    scope = f"/api/v1/registry/scopes/{COUNTY}"
    for path in (f"/api/v1/registry/counties/{COUNTY}/items", f"/api/v1/registry/communities/{COMMUNITY}/items",
                 f"/api/v1/registry/counties/{COUNTY}/export?format=json", f"{scope}/items",
                 f"{scope}/export?format=json", f"/duty/{COMMUNITY}", f"{scope}/items/430121-X-901",
                 f"{scope}/items/430121-X-901/entries", f"/api/v1/registry/entries?start={total}",
                 f"/api/v1/registry/counties/{COUNTY}/releases", f"/api/v1/registry/counties/{COUNTY}/diff"
                 f"?from_date=2020-01-01&to_date={today().isoformat()}"):
        r = await client.get(path)
        assert r.headers["x-read-from"] == "replica", path
        if "X-901" in path:
            assert r.status_code == 404, (path, r.text)
        else:
            assert r.status_code == 200, (path, r.text)
            assert "430121-X-901" not in r.text, path
    assert (await client.get(f"/api/v1/registry/entries?start={total}")).json()["total"] == total - 1
    await replica.execute("select pg_wal_replay_resume()")
    assert await eventually(lambda: _lists(client, f"/api/v1/registry/counties/{COUNTY}/items", "430121-X-901"))


async def test_the_writer_reads_its_change_at_once_and_others_once_it_is_replayed(client, replicated, replica,
                                                                                   tmp_path):
    await replica.execute("select pg_wal_replay_pause()")
    headers = token(replicated, "county-reviewer-api")
    added = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items",
                              json=item("430121-X-902", "协助开展读己所写测试登记"), headers=headers)
    assert added.status_code == 201, added.text
    marker = added.headers["x-min-lsn"]
    assert parse_lsn(marker) is not None
    assert LSN_COOKIE not in added.headers.get("set-cookie", "")  # an API client gets the header only
    path = f"/api/v1/registry/counties/{COUNTY}/items"

    # anyone else reads the replica, which has not replayed the change yet
    other = await client.get(path)
    assert other.headers["x-read-from"] == "replica"
    assert "430121-X-902" not in codes(other)
    # the writer, bringing the marker back, is served by the primary and sees the change
    own = await client.get(path, headers={"X-Min-LSN": marker})
    assert own.headers["x-read-from"] == "primary"
    assert "430121-X-902" in codes(own)
    own_item = await client.get(f"/api/v1/registry/scopes/{COUNTY}/items/430121-X-902/entries",
                                headers={"X-Min-LSN": marker})
    assert own_item.status_code == 200
    # the marker is a position in the primary's WAL, not state of the instance that wrote: another
    # instance behind the same load balancer honours it
    other_settings = msgspec.structs.replace(make_settings(replicated.primary_url, tmp_path / "other"),
                                             read_database_url=service_url(replicated.replica_url))
    async with running(create_app(other_settings), base_url="http://testserver.local") as elsewhere:
        there = await elsewhere.get(path, headers={"X-Min-LSN": marker})
        assert there.headers["x-read-from"] == "primary"
        assert "430121-X-902" in codes(there)
        assert "430121-X-902" not in codes(await elsewhere.get(path))
    # a marker that is not an LSN is ignored (the read is an ordinary one)
    assert (await client.get(path, headers={"X-Min-LSN": "0/ZZ; drop"})).headers["x-read-from"] == "replica"

    # once replayed, everyone sees it, and the writer's reads go back to the replica
    await replica.execute("select pg_wal_replay_resume()")
    assert await eventually(lambda: _lists(client, path, "430121-X-902"))
    again = await client.get(path, headers={"X-Min-LSN": marker})
    assert again.headers["x-read-from"] == "replica"
    assert "430121-X-902" in codes(again)


async def _lists(client: Any, path: str, code: str) -> bool:
    return code in codes(await client.get(path))


async def test_a_web_reviewers_approval_is_on_the_public_duty_page_at_once(client, replicated, replica):
    primary = await connect(replicated.primary_url)
    try:
        request_id = await primary.fetchval("select id from admission_request where title = $1 order by id desc "
                                            "limit 1", "社区高龄老人探访关爱服务")
    finally:
        await primary.close()
    await replica.execute("select pg_wal_replay_pause()")
    await sign_in(client, "reviewer", replicated.users["reviewer"])
    done = await approve_on_page(client, request_id, reason="依据充分，同意。")
    assert done.status_code == 303
    cookie = next(v for k, v in done.headers.multi_items() if k == "set-cookie" and v.startswith(LSN_COOKIE + "="))
    assert "Max-Age=60" in cookie
    assert "HttpOnly" in cookie

    # the reviewer's browser brings the cookie back: the public duty page shows the approved matter
    mine = await client.get(f"/duty/{COMMUNITY}")
    assert mine.headers["x-read-from"] == "primary"
    assert "社区高龄老人探访关爱服务" in mine.text
    # a visitor without the cookie reads the replica, which has not replayed it yet
    async with another_browser(client.app) as visitor:
        theirs = await visitor.get(f"/duty/{COMMUNITY}")
        assert theirs.headers["x-read-from"] == "replica"
        assert "社区高龄老人探访关爱服务" not in theirs.text
        await replica.execute("select pg_wal_replay_resume()")
        assert await eventually(lambda: _duty_has(visitor, "社区高龄老人探访关爱服务"))


async def _duty_has(client: Any, text: str) -> bool:
    return text in (await client.get(f"/duty/{COMMUNITY}")).text


async def test_replication_lag_on_loopback_is_measured(replicated, replica):
    primary = await connect(replicated.primary_url)
    try:
        figures = await replication_lag(primary, replica, LAG_TRIALS)
    finally:
        await primary.close()
    figures["measured_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    print("\nreplication lag on loopback (commit acknowledged -> visible on the replica):", json.dumps(figures))
    assert figures["trials"] == LAG_TRIALS
    assert figures["p50_ms"] < 100, figures  # loopback: milliseconds, not seconds (docs/scaling.md has figures)


async def test_reads_fall_back_to_the_primary_while_the_replica_is_down(client, replicated, replica):
    path = f"/api/v1/registry/counties/{COUNTY}/items"
    assert (await client.get(path)).headers["x-read-from"] == "replica"
    await replica.close()
    await asyncio.to_thread(replicated.cluster.replica.stop)
    try:
        started = time.monotonic()
        for _ in range(5):
            r = await client.get(path)
            assert r.status_code == 200, r.text
            assert r.headers["x-read-from"] == "primary"
            assert "T-D-001" in codes(r)
        took = time.monotonic() - started
        print(f"\nfive list reads with the replica stopped, all from the primary: {took * 1000:.0f} ms")
        assert took < 5, "falling back must not wait on the dead replica"
        page = await client.get(f"/duty/{COMMUNITY}")
        assert page.status_code == 200
        # writes and read-your-writes keep working on the primary alone
        added = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items", headers=token(replicated,
                                  "county-reviewer-api"), json=item("430121-X-903", "协助开展副本停机测试登记"))
        assert added.status_code == 201, added.text
        own = await client.get(path, headers={"X-Min-LSN": added.headers["x-min-lsn"]})
        assert "430121-X-903" in codes(own)
    finally:
        await asyncio.to_thread(replicated.cluster.replica.start)
    # back: after the pause the router tries the replica again, which has caught up by streaming
    await asyncio.sleep(RETRY_AFTER_S)
    assert await eventually(lambda: _served_by_replica_with(client, path, "430121-X-903"))


async def _served_by_replica_with(client: Any, path: str, code: str) -> bool:
    r = await client.get(path)
    return r.status_code == 200 and r.headers["x-read-from"] == "replica" and code in codes(r)


async def test_the_service_starts_and_reads_from_the_primary_when_the_replica_is_unreachable(replicated, tmp_path):
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/registry"  # nothing listens there
    settings = msgspec.structs.replace(make_settings(replicated.primary_url, tmp_path), read_database_url=nowhere)
    async with running(create_app(settings), base_url="http://testserver.local") as c:
        r = await c.get(f"/api/v1/registry/counties/{COUNTY}/items")
        assert r.status_code == 200, r.text
        assert r.headers["x-read-from"] == "primary"
        assert "T-D-001" in codes(r)
