"""Refusals by communities and complaints by anyone, routed to the county's supervisors."""

from __future__ import annotations

from service.complaints.service import COMPLAINTS_PER_HOUR

COMPLAINT = {"jurisdiction_code": "430121002001", "department": "长沙县商务局", "subject_kind": "task",
             "matter": "招商引资任务", "description": "要求社区每季度完成招商引资签约额。"}


async def test_an_anonymous_complaint_reaches_the_county_supervisors_without_personal_data(client, as_client, db):
    r = await client.post("/api/v1/complaints", json=COMPLAINT)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["status"] == "received"
    assert receipt["county_code"] == "430121"
    row = await db.fetchrow("select * from complaint where id = $1", receipt["id"])
    assert row["contact"] is None
    assert row["filed_by"] is None
    event = await db.fetchrow("select * from audit_event where action = 'complaint.file' and subject_id = $1",
                              str(receipt["id"]))
    assert event["client_addr"] is None
    assert event["actor_type"] == "anonymous"
    assert await db.fetchval("select count(*) from complaint_rate where client_addr like '%testclient%'") == 0
    seen = await client.get(f"/api/v1/complaints/{receipt['id']}", headers=as_client("county-supervisor"))
    assert seen.status_code == 200
    assert seen.json()["anonymous"] is True
    # not the departments, not another county's officials
    assert (await client.get("/api/v1/complaints", headers=as_client("civil-affairs"))).status_code == 403
    assert (await client.get(f"/api/v1/complaints/{receipt['id']}",
                             headers=as_client("wangcheng-civil"))).status_code in (403, 404)


async def test_complaints_are_rate_limited_per_client_address(client, db):
    for _ in range(COMPLAINTS_PER_HOUR):
        assert (await client.post("/api/v1/complaints", json=COMPLAINT)).status_code == 201
    r = await client.post("/api/v1/complaints", json=COMPLAINT)
    assert r.status_code == 429
    assert r.json()["type"].endswith("/rate-limited")
    # the demo's one complaint plus the accepted ones
    assert await db.fetchval("select count(*) from complaint") == COMPLAINTS_PER_HOUR + 1


async def test_a_complaint_is_investigated_then_decided_and_counted_per_department(client, as_client):
    supervisor = as_client("county-supervisor")
    complaint_id = (await client.post("/api/v1/complaints", json={**COMPLAINT, "contact": "138xxxx"})).json()["id"]
    r = await client.post(f"/api/v1/complaints/{complaint_id}/status", headers=supervisor,
                          json={"status": "substantiated"})
    assert r.status_code == 409
    assert r.json()["allowed_transitions"] == ["under_investigation"]
    for status in ("under_investigation", "substantiated"):
        r = await client.post(f"/api/v1/complaints/{complaint_id}/status", headers=supervisor,
                              json={"status": status, "finding": "经核实属实"})
        assert r.status_code == 200, r.text
    assert r.json()["contact"] == "138xxxx"
    counts = (await client.get("/api/v1/complaints/by-department", headers=supervisor)).json()
    commerce = next(c for c in counts if c["department"] == "长沙县商务局")
    assert (commerce["substantiated"], commerce["total"]) == (1, 1)


async def test_a_community_records_its_refusal_linking_the_receipt(client, as_client, db):
    community = as_client("songya-community")
    receipt = "6f1c1f0e-6a4e-4e84-9d2f-3f6d1c2b9a10"
    r = await client.post("/api/v1/refusals", headers=community, json={
        "community_code": "430121001001", "department": "长沙县某局", "matter_title": "征订党报党刊",
        "reason": "未列入社区工作事项清单", "receipt_id": receipt})
    assert r.status_code == 201, r.text
    assert r.json()["receipt_id"] == receipt
    assert r.json()["county_code"] == "430121"
    listed = (await client.get("/api/v1/refusals", headers=as_client("county-supervisor"))).json()
    assert r.json()["id"] in {x["id"] for x in listed}
    # a community records only its own refusals
    r = await client.post("/api/v1/refusals", headers=community, json={
        "community_code": "430121001002", "department": "x", "matter_title": "y", "reason": "z"})
    assert r.status_code == 403


async def test_a_complaint_is_not_closed_without_a_finding(client, as_client, db):
    supervisor = as_client("county-supervisor")
    complaint_id = (await client.post("/api/v1/complaints", json=COMPLAINT)).json()["id"]
    r = await client.post(f"/api/v1/complaints/{complaint_id}/status", headers=supervisor,
                          json={"status": "under_investigation"})
    assert r.status_code == 200, r.text
    for finding in (None, "", "   "):
        body = {"status": "substantiated"} | ({} if finding is None else {"finding": finding})
        r = await client.post(f"/api/v1/complaints/{complaint_id}/status", headers=supervisor, json=body)
        assert r.status_code == 422, r.text
        assert [p["name"] for p in r.json()["invalid_params"]] == ["finding"]
        assert "调查结论" in r.json()["detail"]
    assert await db.fetchval("select status from complaint where id = $1", complaint_id) == "under_investigation"
