"""The jurisdiction tree: public reads, administrator changes, CSV import."""

from __future__ import annotations


async def test_anyone_can_read_a_county_subtree(client):
    r = await client.get("/api/v1/jurisdictions/430121/subtree", params={"level": "community"})
    assert r.status_code == 200
    names = {n["name"] for n in r.json()["nodes"]}
    assert len(names) == 12
    assert "松雅社区" in names


async def test_admin_creates_a_community_under_a_street(client, as_client, db):
    r = await client.post("/api/v1/jurisdictions", headers=as_client("province-admin"), json={
        "code": "430121001004", "parent_code": "430121001", "level": "community", "name": "星城社区",
        "population": 9100})
    assert r.status_code == 201, r.text
    assert r.json()["county_code"] == "430121"
    assert r.json()["path"][-2:] == ["430121001", "430121001004"]
    assert await db.fetchval("select population from jurisdiction where code = '430121001004'") == 9100


async def test_moving_a_street_to_another_county_moves_its_communities(client, as_client, db):
    r = await client.post("/api/v1/jurisdictions/430121004/move", headers=as_client("province-admin"),
                          json={"new_parent_code": "430112"})
    assert r.status_code == 200, r.text
    rows = await db.fetch("select code, county_code, path from jurisdiction where code like '430121004%'")
    assert {r["county_code"] for r in rows} == {"430112"}
    assert all("/430112/430121004/" in r["path"] for r in rows)


async def test_a_county_role_cannot_move_its_street_into_another_county(client, as_client, db):
    # the county reviewer does not even hold jurisdiction.manage; a county admin would hold it only for its county
    r = await client.post("/api/v1/jurisdictions/430121004/move", headers=as_client("county-reviewer-api"),
                          json={"new_parent_code": "430112"})
    assert r.status_code == 403
    assert await db.fetchval("select parent_code from jurisdiction where code = '430121004'") == "430121"


async def test_a_node_cannot_move_under_itself(client, as_client):
    r = await client.post("/api/v1/jurisdictions/430121/move", headers=as_client("province-admin"),
                          json={"new_parent_code": "430121001"})
    assert r.status_code == 422


CSV_OK = (
    "code,parent_code,level,name,population\n"
    "430121005,430121,street,黄兴镇,\n"
    "430121005001,430121005,community,黄兴社区,8800\n"
)


async def test_csv_import_loads_rows_whose_parent_comes_earlier_in_the_file(client, as_client, db):
    r = await client.post("/api/v1/jurisdictions/import", headers={
        **as_client("province-admin"), "content-type": "text/csv"}, content=CSV_OK.encode())
    assert r.status_code == 201, r.text
    assert r.json()["loaded"] == 2
    assert await db.fetchval("select county_code from jurisdiction where code = '430121005001'") == "430121"


async def test_csv_import_with_a_bad_row_loads_nothing_and_names_the_line(client, as_client, db):
    bad = CSV_OK + "430121006,430121,street,,\n"
    r = await client.post("/api/v1/jurisdictions/import", headers={
        **as_client("province-admin"), "content-type": "text/csv"}, content=bad.encode())
    assert r.status_code == 422
    assert r.json()["extra"]["rejected"][0]["line"] == 4
    assert await db.fetchval("select count(*) from jurisdiction where code like '430121005%'") == 0


async def test_csv_import_partial_loads_the_good_rows_and_reports_the_bad(client, as_client, db):
    bad = CSV_OK + "430121006,999999,street,无名街道,\n"
    r = await client.post("/api/v1/jurisdictions/import", params={"partial": "true"}, headers={
        **as_client("province-admin"), "content-type": "text/csv"}, content=bad.encode())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["loaded"] == 2
    assert body["rejected"][0]["line"] == 4
    assert "999999" in body["rejected"][0]["reason"]
