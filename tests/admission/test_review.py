"""Review: transitions, decisions that change the county's list, concurrency, who sees what."""

from __future__ import annotations

import asyncio

from service.app import create_app
from tests.admission.conftest import into_review, submission, submit
from tests.helpers.app import running

BASE = "/api/v1/admission-requests"


async def test_approval_writes_the_item_into_the_county_list_citing_the_request(client, as_client, db):
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    answer = await submit(client, department, item_code="ADM-T-APPROVE")
    await into_review(client, reviewer, answer["id"])
    r = await client.post(f"{BASE}/{answer['id']}/decision", headers=reviewer,
                          json={"outcome": "approved", "reason": "同意"})
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "approved"
    assert decided["item_code"] == "ADM-T-APPROVE"
    item = await db.fetchrow("select * from registry_item where scope = '430121' and code = 'ADM-T-APPROVE'")
    assert item is not None
    assert item["status"] == "active"
    entry = await db.fetchrow("select * from registry_entry where scope = '430121' and code = 'ADM-T-APPROVE'")
    assert f"admission_request:{answer['id']}" in str(dict(entry))
    history = (await client.get(f"{BASE}/{answer['id']}/history", headers=department)).json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "submitted"), ("submitted", "in_review"), ("in_review", "approved")]
    actions = [r["action"] for r in await db.fetch(
        "select action from audit_event where subject_type = 'admission_request' and subject_id = $1 order by id",
        str(answer["id"]))]
    assert actions == ["admission.submit", "admission.start_review", "admission.approve"]


async def test_revocation_takes_the_item_off_the_list(client, as_client, db):
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    answer = await submit(client, department, item_code="ADM-T-REVOKE")
    await into_review(client, reviewer, answer["id"])
    await client.post(f"{BASE}/{answer['id']}/decision", headers=reviewer, json={"outcome": "approved"})
    r = await client.post(f"{BASE}/{answer['id']}/revoke", headers=reviewer, json={"reason": "居民普遍反对"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "revoked"
    status = await db.fetchval("select status from registry_item where scope = '430121' and code = 'ADM-T-REVOKE'")
    assert status == "retired"


async def test_an_impossible_transition_is_409_naming_the_allowed_ones(client, as_client):
    answer = await submit(client, as_client("civil-affairs"))
    r = await client.post(f"{BASE}/{answer['id']}/decision", headers=as_client("county-reviewer-api"),
                          json={"outcome": "approved"})
    assert r.status_code == 409
    problem = r.json()
    assert problem["type"].endswith("/invalid-transition")
    assert problem["allowed_transitions"] == ["in_review", "withdrawn"]


async def test_two_reviewers_deciding_at_once_exactly_one_decision_stands(client, as_client, settings, db):
    reviewer = as_client("county-reviewer-api")
    answer = await submit(client, as_client("civil-affairs"), item_code="ADM-T-RACE")
    await into_review(client, reviewer, answer["id"])
    async with running(create_app(settings), base_url="http://testserver.local") as other:
        approve = client.post(f"{BASE}/{answer['id']}/decision", headers=reviewer, json={"outcome": "approved"})
        reject = other.post(f"{BASE}/{answer['id']}/decision", headers=reviewer,
                            json={"outcome": "rejected", "reason": "不同意"})
        results = await asyncio.gather(approve, reject)
    assert sorted(r.status_code for r in results) == [200, 409]
    winner = next(r for r in results if r.status_code == 200).json()["status"]
    assert await db.fetchval("select status from admission_request where id = $1", answer["id"]) == winner
    decisions = await db.fetchval(
        "select count(*) from admission_transition where request_id = $1 and to_status in ('approved', 'rejected')",
        answer["id"])
    assert decisions == 1
    listed = await db.fetchval("select count(*) from registry_item where code = 'ADM-T-RACE'")
    assert listed == (1 if winner == "approved" else 0)


async def test_rejection_and_return_carry_the_reviewers_reasons(client, as_client):
    reviewer = as_client("county-reviewer-api")
    answer = await submit(client, as_client("civil-affairs"))
    await into_review(client, reviewer, answer["id"])
    r = await client.post(f"{BASE}/{answer['id']}/decision", headers=reviewer, json={"outcome": "rejected"})
    assert r.status_code == 422
    assert r.json()["invalid_params"][0]["name"] == "reason"
    r = await client.post(f"{BASE}/{answer['id']}/decision", headers=reviewer,
                          json={"outcome": "rejected", "reason": "与现有事项重复"})
    assert r.status_code == 200
    assert r.json()["decision_reason"] == "与现有事项重复"


async def test_a_returned_request_comes_back_as_a_new_linked_revision(client, as_client):
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    first = await submit(client, department, resources={})
    await into_review(client, reviewer, first["id"])
    r = await client.post(f"{BASE}/{first['id']}/decision", headers=reviewer,
                          json={"outcome": "returned", "reason": "请补充经费保障"})
    assert r.json()["status"] == "returned"
    r = await client.post(f"{BASE}/{first['id']}/resubmit", headers=department, json=submission(
        title=first["title"], resources={"funding_yuan": 5000, "funding_source": "县级财政"}))
    assert r.status_code == 201, r.text
    second = r.json()
    assert (second["revision"], second["previous_id"], second["group_id"]) == (2, first["id"], first["group_id"])
    assert second["status"] == "submitted"
    assert second["screening"]["verdict"] == "clear"
    old = (await client.get(f"{BASE}/{first['id']}", headers=department)).json()
    assert old["status"] == "resubmitted"
    # a submitted request is frozen
    r = await client.put(f"{BASE}/{second['id']}", headers=department, json=submission())
    assert r.status_code == 409


async def test_a_draft_is_edited_then_submitted_and_then_frozen(client, as_client):
    department = as_client("civil-affairs")
    r = await client.post(BASE, headers=department, params={"draft": "true"}, json=submission(basis=None))
    assert r.status_code == 201
    draft = r.json()
    assert draft["status"] == "draft"
    assert draft["screening"] is None
    r = await client.put(f"{BASE}/{draft['id']}", headers=department, json=submission(title="修改后的草稿标题XYZ"))
    assert r.status_code == 200
    assert r.json()["title"] == "修改后的草稿标题XYZ"
    r = await client.post(f"{BASE}/{draft['id']}/submit", headers=department)
    assert r.status_code == 200
    assert r.json()["status"] == "submitted"
    assert r.json()["screening"]["verdict"] == "clear"
    r = await client.put(f"{BASE}/{draft['id']}", headers=department, json=submission())
    assert r.status_code == 409


async def test_the_department_withdraws_but_cannot_decide(client, as_client):
    department = as_client("civil-affairs")
    answer = await submit(client, department)
    r = await client.post(f"{BASE}/{answer['id']}/decision", headers=department, json={"outcome": "approved"})
    assert r.status_code == 404  # not a reviewer of the county: the request's existence does not leak
    r = await client.post(f"{BASE}/{answer['id']}/withdraw", headers=department, json={"reason": "另行安排"})
    assert r.status_code == 200
    assert r.json()["status"] == "withdrawn"


async def test_departments_see_only_their_own_and_nobody_sees_another_countys(client, as_client):
    mine = await submit(client, as_client("civil-affairs"))
    assert (await client.get(f"{BASE}/{mine['id']}", headers=as_client("civil-affairs"))).status_code == 200
    assert (await client.get(f"{BASE}/{mine['id']}", headers=as_client("housing-bureau"))).status_code == 404
    assert (await client.get(f"{BASE}/{mine['id']}", headers=as_client("wangcheng-civil"))).status_code == 404
    assert (await client.get(f"{BASE}/{mine['id']}", headers=as_client("county-reviewer-api"))).status_code == 200
    listed = (await client.get(BASE, headers=as_client("housing-bureau"))).json()["items"]
    assert mine["id"] not in {i["id"] for i in listed}
    assert {i["department"] for i in listed} == {"长沙县住房和城乡建设局"}
    listed = (await client.get(BASE, headers=as_client("wangcheng-civil"))).json()["items"]
    assert all(i["county_code"] != "430121" for i in listed)


async def test_a_target_outside_the_callers_jurisdiction_is_refused(client, as_client, db):
    r = await client.post(BASE, headers=as_client("wangcheng-civil"), json=submission(targets=["430121001001"]))
    assert r.status_code == 403
    assert r.json()["rule"] == "admission.target-not-covered"


async def test_targets_in_two_counties_are_split_into_linked_requests_each_reviewed_at_home(client, as_client, db):
    client_id = await db.fetchval("select id from api_client where name = 'civil-affairs'")
    r = await client.post("/api/v1/role-assignments", headers=as_client("province-admin"), json={
        "principal_type": "client", "principal_id": client_id, "role": "department", "jurisdiction_code": "430112"})
    assert r.status_code == 201, r.text
    await asyncio.sleep(0.5)
    answer = await submit(client, as_client("civil-affairs"), targets=["430121001001", "430112001001"])
    assert answer["county_code"] == "430112"
    assert [(x["county_code"], x["status"]) for x in answer["linked"]] == [("430121", "submitted")]
    other = answer["linked"][0]["id"]
    reviewer = as_client("county-reviewer-api")
    assert (await client.get(f"{BASE}/{answer['id']}", headers=reviewer)).status_code == 404
    assert (await client.get(f"{BASE}/{other}", headers=reviewer)).json()["targets"] == ["430121001001"]


async def test_overdue_requests_are_marked_and_listed(client, as_client):
    r = await client.get(BASE, headers=as_client("county-reviewer-api"), params={"overdue": "true"})
    items = r.json()["items"]
    assert items
    assert all(i["overdue"] for i in items)
    assert "社区残疾人康复需求登记" in {i["title"] for i in items}


async def test_the_dashboard_figures_count_every_request_of_the_county(db):
    import datetime
    import statistics

    from service.admission import service

    # decisions 2, 3 and 7 days after submission, whatever the demo recorded
    decided = [r["id"] for r in await db.fetch(
        "select id from admission_request where county_code = '430121' and decided_at is not null order by id")]
    assert decided, "the demo has decided requests"
    spans = [2, 3, 7, 11][:len(decided)]
    for request_id, days in zip(decided, spans, strict=False):
        await db.execute("update admission_request set decided_at = submitted_at + make_interval(days => $2) "
                         "where id = $1", request_id, days)
    since = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    median, n = await service.median_decision_days(db, counties=["430121"], since=since)
    assert n == len(decided)
    assert median == statistics.median(spans[:len(decided)])
    assert await service.median_decision_days(db, counties=["430112"], since=since) == (None, 0)

    per_month = await service.monthly_outcomes(db, counties=["430121"], since=since)
    by_status = await db.fetch("select status, count(*) from admission_request where county_code = '430121' "
                               "and submitted_at is not null group by status")
    expected: dict[str, int] = {}
    for r in by_status:
        key = "open" if r["status"] in ("submitted", "in_review") else r["status"]
        expected[key] = expected.get(key, 0) + r["count"]
    totals: dict[str, int] = {}
    for outcomes in per_month.values():
        for outcome, count in outcomes.items():
            totals[outcome] = totals.get(outcome, 0) + count
    assert totals == expected
