"""Authentication and the authorization guard, through the HTTP API."""

from __future__ import annotations

import asyncio

from tests.conftest import bearer


async def test_readyz_answers_when_database_and_schema_are_current(client):
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.headers["x-request-id"]


async def test_wrong_token_is_401_problem_and_leaves_an_audit_event(client, db):
    r = await client.get("/api/v1/me", headers=bearer("mr_not-a-real-token"))
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/unauthorized")
    assert body["request_id"] == r.headers["x-request-id"]
    row = await db.fetchrow("select * from audit_event where request_id = $1", body["request_id"])
    assert row["outcome"] == "denied"
    assert row["status_code"] == 401
    assert "mr_not-a-real-token" not in str(dict(row))


GENERIC_401 = "未认证或令牌无效 (authentication required or token invalid)"


async def _reason_recorded(db, request_id: str) -> str:
    return (await db.fetchval("select detail->>'reason' from audit_event where request_id = $1 and status_code = 401",
                              request_id))


async def test_revoked_token_stops_working_at_once(client, as_client, db):
    headers = as_client("civil-affairs")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    token_id = await db.fetchval(
        "select t.id from api_token t join api_client c on c.id = t.client_id where c.name = 'civil-affairs'")
    r = await client.post(f"/api/v1/tokens/{token_id}/revoke", headers=as_client("province-admin"))
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"]
    await asyncio.sleep(0.3)  # the `tokens` notification clears the cache
    r = await client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401
    # the caller is not told why; the audit event is
    assert r.json()["detail"] == GENERIC_401
    assert await _reason_recorded(db, r.headers["x-request-id"]) == "token revoked"


async def test_expired_token_is_refused(client, as_client, db):
    await db.execute("update api_token set expires_at = now() - interval '1 minute' where client_id = "
                     "(select id from api_client where name = 'housing-bureau')")
    r = await client.get("/api/v1/me", headers=as_client("housing-bureau"))
    assert r.status_code == 401
    assert r.json()["detail"] == GENERIC_401
    assert await _reason_recorded(db, r.headers["x-request-id"]) == "token expired"


async def test_unknown_revoked_and_expired_tokens_get_the_same_401_detail(client, as_client, db):
    await db.execute("update api_token set expires_at = now() - interval '1 minute' where client_id = "
                     "(select id from api_client where name = 'housing-bureau')")
    await db.execute("update api_token set revoked_at = now() where client_id = "
                     "(select id from api_client where name = 'xingsha-office')")
    details = set()
    for headers in ({"Authorization": "Bearer mr_no-such-token"}, {"Authorization": "Basic abc"},
                    as_client("housing-bureau"), as_client("xingsha-office")):
        r = await client.get("/api/v1/me", headers=headers)
        assert r.status_code == 401
        details.add(r.json()["detail"])
    assert details == {GENERIC_401}


async def test_tokens_are_stored_only_as_hashes(demo, db):
    token = demo.tokens["civil-affairs"]
    rows = await db.fetch("select token_hash, prefix from api_token")
    assert all(token.encode() not in bytes(r["token_hash"]) for r in rows)
    assert token[:10] in {r["prefix"] for r in rows}


async def test_role_covers_its_subtree_but_not_a_neighbouring_county(client, as_client):
    admin = as_client("province-admin")
    # the province admin may rename a community three levels down
    r = await client.patch("/api/v1/jurisdictions/430121001001", headers=admin, json={"name": "松雅社区"})
    assert r.status_code == 200
    # the county reviewer of Changsha County may not touch Wangcheng District
    r = await client.patch("/api/v1/jurisdictions/430112001", headers=as_client("county-reviewer-api"),
                           json={"name": "x"})
    assert r.status_code == 403
    assert r.json()["type"].endswith("/forbidden")


async def test_a_refusal_is_recorded_even_though_the_request_rolled_back(client, as_client, db):
    r = await client.patch("/api/v1/jurisdictions/430112001", headers=as_client("civil-affairs"), json={"name": "x"})
    assert r.status_code == 403
    row = await db.fetchrow("select * from audit_event where request_id = $1", r.headers["x-request-id"])
    assert row["outcome"] == "denied"
    assert row["jurisdiction_code"] == "430112001"
    assert row["actor_type"] == "client"
    assert await db.fetchval("select name from jurisdiction where code = '430112001'") == "高塘岭街道"


async def test_me_lists_the_roles_a_client_holds(client, as_client):
    r = await client.get("/api/v1/me", headers=as_client("xingsha-office"))
    assert r.status_code == 200
    assert r.json()["roles"] == [{"role": "street_office", "jurisdiction_code": "430121001",
                                  "jurisdiction_name": "星沙街道"}]


async def test_anonymous_caller_gets_401_on_a_protected_route(client, db):
    r = await client.post("/api/v1/users", json={"username": "abc", "display_name": "x", "password": "p" * 12})
    assert r.status_code == 401
    assert await db.fetchval("select count(*) from web_user where username = 'abc'") == 0
