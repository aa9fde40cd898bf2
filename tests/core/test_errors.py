"""Bad input gets a problem document naming the field and the rule; never a 500."""

from __future__ import annotations


async def test_unknown_field_is_refused_and_named(client, as_client, db):
    r = await client.patch("/api/v1/jurisdictions/430121001", headers=as_client("province-admin"),
                           json={"name": "星沙", "colour": "red"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["invalid_params"][0]["name"] == "colour"
    assert await db.fetchval("select name from jurisdiction where code = '430121001'") == "星沙街道"


async def test_wrong_type_names_the_field(client, as_client):
    r = await client.patch("/api/v1/jurisdictions/430121001", headers=as_client("province-admin"), json={"name": 7})
    assert r.status_code == 422
    assert r.json()["invalid_params"][0]["name"] == "name"


async def test_malformed_json_is_400_problem(client, as_client):
    r = await client.patch("/api/v1/jurisdictions/430121001", headers={
        **as_client("province-admin"), "content-type": "application/json"}, content=b'{"name": ')
    assert r.status_code == 400
    assert r.json()["type"].endswith("/malformed-body")


async def test_body_over_the_limit_is_413(client, as_client):
    r = await client.post("/api/v1/jurisdictions/import", headers={
        **as_client("province-admin"), "content-type": "text/csv"}, content=b"x" * 1_100_000)
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_duplicate_is_409_not_500(client, as_client):
    body = {"name": "civil-affairs", "organisation": "重复", "organisation_level": "county",
            "jurisdiction_code": "430121"}
    r = await client.post("/api/v1/clients", headers=as_client("province-admin"), json=body)
    assert r.status_code == 409
    assert r.json()["type"].endswith("/conflict")


async def test_unknown_jurisdiction_is_404_naming_it(client):
    r = await client.get("/api/v1/jurisdictions/999999")
    assert r.status_code == 404
    assert "999999" in r.json()["detail"]


async def test_rule_violation_cites_the_rule_and_writes_nothing(client, as_client, db):
    # a community (12 digits) cannot hang directly under a county
    r = await client.post("/api/v1/jurisdictions", headers=as_client("province-admin"), json={
        "code": "430121009001", "parent_code": "430121", "level": "community", "name": "新社区"})
    assert r.status_code == 422
    body = r.json()
    assert body["invalid_params"][0]["rule"]
    assert await db.fetchval("select count(*) from jurisdiction where code = '430121009001'") == 0
    refused = await db.fetchrow("select * from audit_event where request_id = $1", r.headers["x-request-id"])
    assert refused["outcome"] == "refused"


async def test_missing_query_parameter_is_named(client):
    r = await client.get("/api/v1/registry/communities/430121001001/certificates")
    assert r.status_code in (400, 422), r.text
    assert [p["name"] for p in r.json()["invalid_params"]] == ["q"], r.text


async def test_query_parameter_out_of_range_is_named(client):
    r = await client.get("/api/v1/calendar/working-days?start=2026-12-01&n=9999")
    assert r.status_code in (400, 422), r.text
    assert [p["name"] for p in r.json()["invalid_params"]] == ["n"], r.text
