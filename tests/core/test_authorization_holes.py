"""Regression tests for the authorization holes found by attacking a running demo (issue 12).

- A query parameter given twice let the guard decide on one jurisdiction and the handler serve another.
- A county administrator could mint, list or revoke tokens of a client, or change its roles, that also
  held a role outside the county: the token carried that role too.
- Hidden resources answer 404 to actions as they do to reads; the audit search's person lookup and the
  refusal statistics stay within the caller's county.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

SONGYA = "430121001001"  # the community token's own community (songya-community)
WANGCHENG_COMMUNITY_ROUTES = [
    "/api/v1/community-workers?jurisdiction={own}&jurisdiction=00",
    "/api/v1/community-workers/export?jurisdiction={own}&jurisdiction=00",
    "/api/v1/staffing?jurisdiction={own}&jurisdiction=00",
    "/api/v1/secondment-requests?jurisdiction={own}&jurisdiction=00",
    "/api/v1/secondment-requests/refusals-by-organ?jurisdiction={own}&jurisdiction=00",
]


@pytest.mark.parametrize("path", WANGCHENG_COMMUNITY_ROUTES)
async def test_a_repeated_jurisdiction_is_refused_not_served(path, client, as_client, db):
    r = await client.get(path.format(own=SONGYA), headers=as_client("songya-community"))
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["invalid_params"][0]["name"] == "jurisdiction"
    assert "只能给出一次" in problem["detail"]
    # no worker of another community, let alone another county, is in the answer
    other = await db.fetchval("select display_name from community_worker where community_code <> $1 limit 1", SONGYA)
    assert other
    assert other not in r.text
    # the refusal is evidence, recorded apart from the (rolled back) request
    for _ in range(50):
        if await db.fetchval("select count(*) from audit_event where action = 'request.repeated-parameter'"):
            break
        await asyncio.sleep(0.05)
    assert await db.fetchval("select count(*) from audit_event where action = 'request.repeated-parameter'") == 1


async def test_the_same_parameter_once_is_still_served(client, as_client):
    r = await client.get(f"/api/v1/community-workers?jurisdiction={SONGYA}", headers=as_client("songya-community"))
    assert r.status_code == 200
    assert r.json()
    assert all(w["community_code"] == SONGYA for w in r.json())


async def test_a_repeated_parameter_is_refused_on_a_public_route_too(client):
    r = await client.get(f"/api/v1/registry/communities/{SONGYA}/certificates?q=a&q=b")
    assert r.status_code == 400
    assert r.json()["invalid_params"][0]["name"] == "q"


async def _county_admin(client: Any, as_client: Any, db: Any) -> dict[str, str]:
    """An administrator of Changsha County, made the way a province administrator would."""
    admin = as_client("province-admin")
    r = await client.post("/api/v1/clients", headers=admin, json={
        "name": "county-admin-test", "organisation": "长沙县委社会工作部", "organisation_level": "county",
        "jurisdiction_code": "430121"})
    assert r.status_code == 201, r.text
    client_id = r.json()["id"]
    r = await client.post("/api/v1/role-assignments", headers=admin, json={
        "principal_type": "client", "principal_id": client_id, "role": "admin", "jurisdiction_code": "430121"})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/clients/{client_id}/tokens", headers=admin, json={})
    assert r.status_code == 201, r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    started = time.monotonic()
    while (await client.get(f"/api/v1/clients/{client_id}", headers=headers)).status_code != 200:
        assert time.monotonic() - started < 2, "the county admin's role never applied"
        await asyncio.sleep(0.05)
    return headers


async def _client_also_supervising_the_root(client: Any, as_client: Any, db: Any) -> int:
    """A client at home in the county that also holds supervisor at the root of the tree (00)."""
    r = await client.post("/api/v1/clients", headers=as_client("province-admin"), json={
        "name": "two-hats", "organisation": "长沙县审计局", "organisation_level": "county",
        "jurisdiction_code": "430121"})
    assert r.status_code == 201, r.text
    client_id = r.json()["id"]
    for code in ("430121", "00"):
        await db.execute("insert into role_assignment (principal_type, principal_id, role, jurisdiction_code, "
                         "granted_by) values ('client', $1, 'supervisor', $2, 'system:test')", client_id, code)
    return int(client_id)


async def test_a_county_admin_cannot_mint_a_token_carrying_a_role_held_elsewhere(client, as_client, db):
    county_admin = await _county_admin(client, as_client, db)
    victim = await _client_also_supervising_the_root(client, as_client, db)
    issued = await client.post(f"/api/v1/clients/{victim}/tokens", headers=county_admin, json={})
    assert issued.status_code == 404, issued.text
    assert await db.fetchval("select count(*) from api_token where client_id = $1", victim) == 0
    assert (await client.get(f"/api/v1/clients/{victim}/tokens", headers=county_admin)).status_code == 404
    assert (await client.get(f"/api/v1/clients/{victim}", headers=county_admin)).status_code == 404
    # nor change its roles, in either direction
    r = await client.post("/api/v1/role-assignments", headers=county_admin, json={
        "principal_type": "client", "principal_id": victim, "role": "department", "jurisdiction_code": "430121"})
    assert r.status_code == 404, r.text
    local = await db.fetchval("select id from role_assignment where principal_id = $1 and jurisdiction_code = "
                              "'430121' and principal_type = 'client'", victim)
    assert (await client.post(f"/api/v1/role-assignments/{local}/revoke", headers=county_admin)).status_code == 404
    assert await db.fetchval("select revoked_at from role_assignment where id = $1", local) is None
    # a token an administrator over every one of those jurisdictions issued cannot be revoked by the county either
    token_id = await db.fetchval(
        "insert into api_token (client_id, token_hash, prefix) values ($1, '\\x00'::bytea, 'mr_test') returning id",
        victim)
    assert (await client.post(f"/api/v1/tokens/{token_id}/revoke", headers=county_admin)).status_code == 404
    assert await db.fetchval("select revoked_at from api_token where id = $1", token_id) is None


async def test_a_county_admin_still_manages_a_client_whose_roles_are_all_in_the_county(client, as_client, db):
    county_admin = await _county_admin(client, as_client, db)
    local = await db.fetchval("select id from api_client where name = 'housing-bureau'")
    r = await client.post(f"/api/v1/clients/{local}/tokens", headers=county_admin, json={})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/role-assignments", headers=county_admin, json={
        "principal_type": "client", "principal_id": local, "role": "community", "jurisdiction_code": SONGYA})
    assert r.status_code == 201, r.text


async def test_a_decision_on_another_countys_secondment_is_404_like_reading_it(client, as_client, db):
    wangcheng = await db.fetchval(
        "insert into api_client (name, organisation, organisation_level, jurisdiction_code) values "
        "('wangcheng-orgdept-test', '望城区委组织部', 'county', '430112') returning id")
    request_id = await db.fetchval("select id from secondment_request where status = 'pending_approval' "
                                   "and county_code = '430121' order by id limit 1")
    assert request_id is not None
    await db.execute("insert into role_assignment (principal_type, principal_id, role, jurisdiction_code, "
                     "granted_by) values ('client', $1, 'org_department', '430112', 'system:test')", wangcheng)
    r = await client.post(f"/api/v1/clients/{wangcheng}/tokens", headers=as_client("province-admin"), json={})
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    unknown = await client.post("/api/v1/secondment-requests/999999/decision", headers=headers,
                                json={"decision": "approved", "reasons": "x"})
    started = time.monotonic()
    while True:
        decided = await client.post(f"/api/v1/secondment-requests/{request_id}/decision", headers=headers,
                                    json={"decision": "approved", "reasons": "同意"})
        read = await client.get(f"/api/v1/secondment-requests/{request_id}", headers=headers)
        if decided.status_code != 401 or time.monotonic() - started > 2:
            break
        await asyncio.sleep(0.05)
    assert unknown.status_code == 404
    assert read.status_code == 404
    assert decided.status_code == 404, decided.text
    assert await db.fetchval("select status from secondment_request where id = $1", request_id) == "pending_approval"


async def test_a_decision_by_someone_who_sees_the_request_but_may_not_decide_is_403(client, as_client, db):
    request_id = await db.fetchval("select id from secondment_request where status = 'pending_approval' "
                                   "and county_code = '430121' order by id limit 1")
    r = await client.post(f"/api/v1/secondment-requests/{request_id}/decision", headers=as_client("county-supervisor"),
                          json={"decision": "approved", "reasons": "同意"})
    assert r.status_code == 403


async def test_the_audit_person_lookup_stays_within_the_callers_county(client, as_client, db):
    # a web user whose only role is in the other county, with a name a Changsha supervisor might search for
    user_id = await db.fetchval("insert into web_user (username, display_name, password_hash) values "
                                "('wc-clerk', '望城审计员张三', 'x') returning id")
    await db.execute("insert into role_assignment (principal_type, principal_id, role, jurisdiction_code, "
                     "granted_by) values ('user', $1, 'supervisor', '430112', 'system:test')", user_id)
    from service.audit import service as audit

    county = await db.fetchval("select path from jurisdiction where code = '430121'")
    found = await audit.find_people(db, text="审计员", subtrees=[county], limit=20)
    assert not [p for p in found if p["detail"] == "wc-clerk"]
    everywhere = await audit.find_people(db, text="审计员", subtrees=None, limit=20)
    assert [p for p in everywhere if p["detail"] == "wc-clerk"]
    # the demo's own county clients are still found by a county's supervisor
    assert await audit.find_people(db, text="civil-affairs", subtrees=[county], limit=20)


async def test_refusal_statistics_count_only_callers_inside_the_county(client, as_client, db):
    attempt = {"organ": {"name": "长沙县住房和城乡建设局", "level": "county"}, "form": "secondment",
               "home_community_code": SONGYA, "workers": ["W21001001-12"], "purpose": "借调协助",
               "start_date": "2030-01-07", "end_date": "2030-03-01", "worker_consent": True,
               "community_consent": True}
    url = "/api/v1/secondment-requests/refusals-by-organ?jurisdiction=430121"
    before = (await client.get(url, headers=as_client("county-supervisor"))).json()["total"]
    # another county's department names a Changsha community: refused and recorded, but not Changsha's figure
    r = await client.post("/api/v1/secondment-requests", headers=as_client("wangcheng-civil"), json=attempt)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "refused"
    after_outsider = (await client.get(url, headers=as_client("county-supervisor"))).json()["total"]
    assert after_outsider == before
    # a Changsha department doing the same is counted
    r = await client.post("/api/v1/secondment-requests", headers=as_client("civil-affairs"), json=attempt)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "refused"
    assert (await client.get(url, headers=as_client("county-supervisor"))).json()["total"] == before + 1
