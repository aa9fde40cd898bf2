"""The public lists from memory: byte for byte the database's answer, a strong ETag and 304, gzip when
asked, forgotten within a second of a change made anywhere and at once after this process's own."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import time

from litestar.serialization import encode_json

from service.core.audit import SYSTEM
from service.core.httpcache import ResponseCache
from service.registry import service
from service.registry.schemas import ItemCreate
from service.registry.service import today

COUNTY = "430121"
COMMUNITY = "430121001001"
ITEM = {"kind": "task", "list": "assisting", "code": "430121-A-150", "title": "协助开展独居老人探访登记",
        "content": "协助登记", "department": "长沙县民政局", "department_level": "county"}


def codes(response) -> set[str]:
    return {i["code"] for i in response.json()["items"]}


async def test_the_cached_answer_is_byte_for_byte_the_database_answer(client, db):
    past = datetime.date(2025, 3, 1)
    expected = {
        f"/api/v1/registry/communities/{COMMUNITY}/items": await service.effective_list_json(
            db, county_code=COUNTY, community_code=COMMUNITY, as_of=None, release=None, kind=None,
            list_name=None, q=None),
        f"/api/v1/registry/communities/{COMMUNITY}/items?as_of=2025-03-01&list=assisting":
            await service.effective_list_json(db, county_code=COUNTY, community_code=COMMUNITY, as_of=past,
                                              release=None, kind=None, list_name="assisting", q=None),
        f"/api/v1/registry/counties/{COUNTY}/items?q=调解": await service.effective_list_json(
            db, county_code=COUNTY, community_code=None, as_of=None, release=None, kind=None, list_name=None,
            q="调解"),
        f"/api/v1/registry/counties/{COUNTY}/items?release=2025年版": await service.effective_list_json(
            db, county_code=COUNTY, community_code=None, as_of=None, release="2025年版", kind=None,
            list_name=None, q=None),
        "/api/v1/registry/entries?start=3&limit=20": encode_json(await service.entries(db, start=3, limit=20)),
    }
    for path, body in expected.items():
        first = await client.get(path)  # made and kept
        again = await client.get(path)  # from memory
        assert first.status_code == again.status_code == 200, (path, first.text[:200])
        assert first.content == body, path
        assert again.content == body, path
        assert first.headers["content-type"] == "application/json"
        assert again.headers["etag"] == first.headers["etag"]
        assert first.headers["etag"].startswith('"')
        assert not first.headers["etag"].startswith("W/")
        assert "no-cache" in again.headers["cache-control"]
    assert len(client.app.state.published.cache) == len(expected)
    assert client.app.state.published.cache.hits >= len(expected)


async def test_if_none_match_is_answered_304_and_gzip_when_asked(client):
    path = f"/api/v1/registry/communities/{COMMUNITY}/items"
    plain = await client.get(path, headers={"Accept-Encoding": "identity"})
    etag = plain.headers["etag"]
    r = await client.get(path, headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    assert (await client.get(path, headers={"If-None-Match": '"other"'})).status_code == 200
    # gzip: compressed once, the same bytes underneath, a validator of its own
    zipped = await client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content  # httpx decodes it
    assert zipped.headers["etag"] != etag
    assert len(client.app.state.published.cache._entries[next(iter(client.app.state.published.cache._entries))]
               .gzipped) < len(plain.content) / 3
    r = await client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]})
    assert r.status_code == 304
    # a page not found is not kept, and says so as before
    assert (await client.get("/api/v1/registry/communities/430121009009/items")).status_code == 404


async def test_a_change_made_elsewhere_is_seen_within_a_second(client, db):
    path = f"/api/v1/registry/counties/{COUNTY}/items"
    before = await client.get(path)
    assert "430121-A-150" not in codes(before)
    entries = (await client.get("/api/v1/registry/entries?start=1&limit=5")).json()
    # another process (here: a connection of the test's own) changes the county's list
    async with db.transaction():
        await service.add_item(db, actor=SYSTEM, scope=COUNTY, item=ItemCreate(**ITEM), effective_from=today(),
                               reason="经准入审核同意")
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        r = await client.get(path)
        if "430121-A-150" in codes(r):
            break
        await asyncio.sleep(0.02)
    assert "430121-A-150" in codes(r), "the cached list was not forgotten within a second"
    assert r.headers["etag"] != before.headers["etag"]
    # an old validator no longer matches
    assert (await client.get(path, headers={"If-None-Match": before.headers["etag"]})).status_code == 200
    assert (await client.get("/api/v1/registry/entries?start=1&limit=5")).json()["total"] == entries["total"] + 1
    # another county's list, which the change does not touch, stays where it was
    assert client.app.state.published.cache.generation > 0


async def test_this_process_reads_its_own_change_at_once(client, as_client):
    path = f"/api/v1/registry/communities/{COMMUNITY}/items"
    assert "T-A-005" in codes(await client.get(path))
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/T-A-005/retire",
                          headers=as_client("county-reviewer-api"),
                          json={"effective_from": today().isoformat(), "reason": "由物业服务企业承担"})
    assert r.status_code == 201, r.text
    assert "T-A-005" not in codes(await client.get(path))  # no waiting for the notification


def test_the_cache_is_bounded_by_entries_and_bytes():
    cache = ResponseCache(max_entries=3, max_bytes=10_000)
    for n in range(5):
        cache.put(n, b"x" * 100, media_type="application/json", generation=cache.generation)
    assert len(cache) == 3
    assert cache.get(0) is None
    assert cache.get(4) is not None
    cache.get(2)  # used: the least recently used goes first
    cache.put(5, b"y" * 100, media_type="application/json", generation=cache.generation)
    assert cache.get(3) is None
    assert cache.get(2) is not None
    cache.put("big", b"z" * 2400, media_type="application/json", generation=cache.generation)
    cache.put("big2", b"z" * 2400, media_type="application/json", generation=cache.generation)
    assert cache.bytes <= 10_000
    cache.put("huge", b"z" * 5000, media_type="application/json", generation=cache.generation)
    assert cache.get("huge") is None  # over a quarter of the bound: answered, never kept
    # a fill that began before a forget is not kept
    generation = cache.generation
    cache.forget()
    cache.put("late", b"old", media_type="application/json", generation=generation)
    assert cache.get("late") is None
    assert len(cache) == 0
    assert gzip.decompress(gzip.compress(b"ok")) == b"ok"
