"""A province's certificate template: its additions to the national list, loaded through the API into the
province's scope with its document cited, answered to residents, and never retained by a county.

The list loaded here is a test fixture (tests/data/provincial_certificates_fixture.json), not a real document:
no real provincial list with a verifiable number was available."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURE = Path(__file__).parents[1] / "data" / "provincial_certificates_fixture.json"
LOAD = "/api/v1/registry/scopes/43/certificate-template"
ASK = "/api/v1/registry/communities/430121001001/certificates"


def fixture() -> dict:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data.pop("_comment")
    return data


async def test_a_provincial_list_adds_its_own_certificates_and_leaves_the_national_ones_alone(client, as_client, db):
    r = await client.post(LOAD, headers=as_client("province-admin"), json=fixture())
    assert r.status_code == 201, r.text
    report = r.json()
    outcomes = {c["name"]: (c["outcome"], c.get("code"), c.get("national_name")) for c in report["certificates"]}
    assert outcomes["缴费票据遗失证明"] == ("added", "C-43-01", None)
    assert outcomes["转学证明"] == ("added", "C-43-02", None)
    assert outcomes["独生子女证明"] == ("added", "C-43-03", None)
    assert outcomes["生育状况证明"] == ("national", None, "婚育状况证明")  # the province's wording of a national one
    assert "测试样例-非真实文号-001" in report["document"]
    item = (await client.get("/api/v1/registry/scopes/43/items/C-43-01")).json()["item"]
    assert (item["kind"], item["list"]) == ("certificate", "cancelled")
    assert item["basis_number"] == "测试样例-非真实文号-001"
    assert item["issued_instead_by"] == "开具票据的单位"
    assert await db.fetchval("select count(*) from audit_event where action = 'registry.add' "
                             "and subject_id like '43/C-43-%'") == 3
    # loading the same list again changes nothing
    before = await db.fetchval("select count(*) from registry_entry")
    r = await client.post(LOAD, headers=as_client("province-admin"), json=fixture())
    assert r.status_code == 201, r.text
    assert {c["outcome"] for c in r.json()["certificates"]} == {"unchanged", "national"}
    assert await db.fetchval("select count(*) from registry_entry") == before


async def test_residents_of_the_province_are_answered_with_the_provincial_document(client, as_client):
    assert (await client.post(LOAD, headers=as_client("province-admin"), json=fixture())).status_code == 201
    r = await client.get(ASK, params={"q": "开个转学证明"})
    answer = r.json()
    assert answer["found"] is True, answer
    assert answer["may_issue"] is False
    assert answer["matched_name"] == "转学证明"
    assert answer["scope"] == "43"
    assert answer["issued_instead_by"] == "教育行政部门或学校"
    assert "测试样例-非真实文号-001" in (answer["basis_number"] or "")


async def test_a_county_cannot_retain_what_its_province_cancelled(client, as_client):
    assert (await client.post(LOAD, headers=as_client("province-admin"), json=fixture())).status_code == 201
    r = await client.post("/api/v1/registry/scopes/430121/items", headers=as_client("county-reviewer-api"), json={
        "item": {"kind": "certificate", "list": "retained", "code": "430121-C-R-09", "title": "独生子女证明"},
        "effective_from": "2026-12-31", "reason": "本县保留"})
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "certificate.cancelled-not-retained"


async def test_a_list_without_a_number_or_for_another_scope_is_refused_and_nothing_written(client, as_client, db):
    admin = as_client("province-admin")
    before = await db.fetchval("select count(*) from registry_entry")
    data = fixture()
    data["document"]["number"] = ""
    r = await client.post(LOAD, headers=admin, json=data)
    assert r.status_code in (400, 422), r.text
    assert "number" in r.text
    r = await client.post("/api/v1/registry/scopes/430121/certificate-template", headers=admin, json=fixture())
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "registry.provincial-scope"
    data = fixture()
    data["certificates"].append({"name": "转学证明"})
    r = await client.post(LOAD, headers=admin, json=data)
    assert r.status_code == 422, r.text
    assert r.json()["invalid_params"][0]["name"] == "certificates[4].name"
    assert await db.fetchval("select count(*) from registry_entry") == before
    # a county reviewer may not load a province's list
    r = await client.post(LOAD, headers=as_client("county-reviewer-api"), json=fixture())
    assert r.status_code == 403, r.text
