"""Secondment requests through the HTTP API: the county-level ban, the rules, routing, decisions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from service.calendar import workdays
from service.core.clock import today
from tests.secondments.conftest import BANCANG, SONGYA, XIANGLONG, days

COUNTY_RULE = "县级以上机关企事业单位不得借调社区工作者"


async def test_county_bureau_request_is_refused_with_rule_cited_and_counted_per_organ(
        client, as_client, body, db):
    before = await client.get("/api/v1/secondment-requests/refusals-by-organ?jurisdiction=430121",
                              headers=as_client("county-supervisor"))
    assert before.status_code == 200, before.text
    counted = {o["organ_name"]: o["refused"] for o in before.json()["organs"]}
    # the bureau even claims to be a street office: its token says county, and county wins
    r = await client.post("/api/v1/secondment-requests", headers=as_client("civil-affairs"),
                          json=body(organ={"name": "长沙县民政局", "level": "street"}, form="task_force"))
    assert r.status_code == 201, r.text
    refused = r.json()
    assert refused["status"] == "refused"
    assert refused["effective_level"] == "county"
    assert COUNTY_RULE in refused["broken_rules"][0]["text"]
    assert refused["allowed_transitions"] == []
    event = await db.fetchrow("select * from audit_event where action = 'secondment.refuse' and subject_id = $1",
                              str(refused["id"]))
    assert event["outcome"] == "refused"
    assert COUNTY_RULE in event["detail"]["rule"]
    after = await client.get("/api/v1/secondment-requests/refusals-by-organ?jurisdiction=430121",
                             headers=as_client("county-supervisor"))
    counts = {o["organ_name"]: o["refused"] for o in after.json()["organs"]}
    assert counts["长沙县民政局"] == counted.get("长沙县民政局", 0) + 1
    assert counts["长沙县住房和城乡建设局"] == 1  # the demo's attempt


async def test_street_office_request_goes_to_org_department_with_decision_deadline(client, street, body, db):
    r = await client.post("/api/v1/secondment-requests", headers=street, json=body())
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "pending_approval"
    assert created["routed_to"] == "长沙县委组织部"
    assert created["allowed_transitions"] == ["approved", "rejected", "withdrawn"]
    cal = await workdays.load(db, county_code="430121", start=today(), end=days(60))
    assert created["decision_due"] == cal.add_working_days(today(), 15).isoformat()
    assert await db.fetchval("select count(*) from audit_event where action = 'secondment.submit' and subject_id = $1",
                             str(created["id"])) == 1


async def test_request_breaking_several_rules_lists_every_rule_and_writes_nothing(client, street, body, db):
    count = await db.fetchval("select count(*) from secondment_request")
    # W21001002-03 (天华社区) came back from a secondment about two years ago: still in the 24-month cooldown
    r = await client.post("/api/v1/secondment-requests", headers=street, json=body(
        home_community_code="430121001002", workers=["W21001002-03"], start_date=days(5).isoformat(),
        end_date=days(250).isoformat(), worker_consent=False, community_consent=False))
    assert r.status_code == 422, r.text
    problem = r.json()
    rules = {b["rule"] for b in problem["extra"]["broken_rules"]}
    assert rules == {"max_duration", "worker_consent", "community_consent", "cooldown"}
    assert {p["name"] for p in problem["invalid_params"]} == {"end_date", "worker_consent", "community_consent",
                                                              "workers[0]"}
    assert all(p["rule"] for p in problem["invalid_params"])
    assert await db.fetchval("select count(*) from secondment_request") == count


async def test_bad_input_names_each_problem_and_writes_nothing(client, street, body, db):
    count = await db.fetchval("select count(*) from secondment_request")
    r = await client.post("/api/v1/secondment-requests", headers=street, json=body(
        workers=["W21001001-05", "NOBODY-1", "W21002001-01"],  # already seconded, unknown, of another street
        start_date=days(30).isoformat(), end_date=days(20).isoformat()))
    assert r.status_code == 422, r.text
    params = r.json()["invalid_params"]
    reasons = {p["name"]: p["reason"] for p in params if p["name"] != "workers[0]"}
    assert "end_date" in reasons
    assert "NOBODY-1" in reasons["workers[1]"]
    assert "another street" in reasons["workers[2]"]
    assert any(p["name"] == "workers[0]" and "already seconded" in p["reason"] for p in params)
    assert await db.fetchval("select count(*) from secondment_request") == count
    assert await db.fetchval("select outcome from audit_event where request_id = $1",
                             r.headers["x-request-id"]) == "refused"


async def test_street_office_may_not_ask_for_a_community_of_another_street(client, street, body):
    r = await client.post("/api/v1/secondment-requests", headers=street,
                          json=body(home_community_code=XIANGLONG, workers=["W21002001-03"]))
    assert r.status_code == 422
    assert [p["name"] for p in r.json()["invalid_params"]] == ["home_community_code"]
    r = await client.post("/api/v1/secondment-requests", headers=street,
                          json=body(home_community_code="430121009999"))
    assert r.status_code == 422
    assert "unknown community" in r.json()["invalid_params"][0]["reason"]


async def test_approval_is_notified_to_the_requesting_client_in_the_same_transaction(client, street, orgdept, body, db):
    await db.execute("update api_client set callback_url = 'https://xingsha.example/cb' where name = 'xingsha-office'")
    created = (await client.post("/api/v1/secondment-requests", headers=street, json=body())).json()
    r = await client.post(f"/api/v1/secondment-requests/{created['id']}/decision", headers=orgdept,
                          json={"outcome": "approve", "reasons": "同意，按期返岗"})
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "approved"
    assert decided["decision_reasons"] == "同意，按期返岗"
    topics = [t for (t,) in await db.fetch(
        "select topic from outbox where subject_type = 'secondment_request' and subject_id = $1 order by id",
        str(created["id"]))]
    assert topics == ["secondment.pending_approval", "secondment.approved"]
    assert await db.fetchval("select count(*) from audit_event where action = 'secondment.approve' "
                             "and subject_id = $1", str(created["id"])) == 1


async def test_two_deciders_at_once_exactly_one_wins(client, street, orgdept, body, db):
    created = (await client.post("/api/v1/secondment-requests", headers=street, json=body())).json()
    url = f"/api/v1/secondment-requests/{created['id']}/decision"
    results = await asyncio.gather(
        client.post(url, headers=orgdept, json={"outcome": "approve", "reasons": "同意"}),
        client.post(url, headers=orgdept, json={"outcome": "reject", "reasons": "不同意"}),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    won = next(r for r in results if r.status_code == 200).json()
    lost = next(r for r in results if r.status_code == 409).json()
    assert lost["extra"]["current_status"] == won["status"]
    assert lost["allowed_transitions"] == won["allowed_transitions"]
    assert await db.fetchval("select count(*) from audit_event where action in "
                             "('secondment.approve', 'secondment.reject') and subject_id = $1 and outcome = 'ok'",
                             str(created["id"])) == 1


async def test_impossible_transition_is_409_naming_the_allowed_ones(client, street, body, as_client):
    created = (await client.post("/api/v1/secondment-requests", headers=street, json=body())).json()
    r = await client.post(f"/api/v1/secondment-requests/{created['id']}/return", headers=street, json={})
    assert r.status_code == 409
    assert r.json()["allowed_transitions"] == ["approved", "rejected", "withdrawn"]
    r = await client.post(f"/api/v1/secondment-requests/{created['id']}/withdraw", headers=street,
                          json={"reason": "街道已自行解决"})
    assert r.status_code == 200
    assert r.json()["status"] == "withdrawn"
    # a county bureau may not decide; only the county organisation department does (and a bureau, which
    # may not read secondments either, is told the request does not exist, as a read would tell it)
    r = await client.post(f"/api/v1/secondment-requests/{created['id']}/decision",
                          headers=as_client("civil-affairs"), json={"outcome": "approve", "reasons": "x"})
    assert r.status_code == 404


async def test_approval_below_the_staffing_standard_is_allowed_and_the_warning_kept(client, street, orgdept, body):
    created = (await client.post("/api/v1/secondment-requests", headers=street,
                                 json=body(home_community_code=BANCANG, workers=["W21001003-07"]))).json()
    r = await client.post(f"/api/v1/secondment-requests/{created['id']}/decision", headers=orgdept,
                          json={"outcome": "approve", "reasons": "确有需要，同意"})
    assert r.status_code == 200, r.text
    warning = r.json()["staffing_warning"]
    assert warning["present_after"] < warning["required"]
    assert "低于配备标准" in warning["message"]
    kept = await client.get(f"/api/v1/secondment-requests/{created['id']}", headers=orgdept)
    assert kept.json()["staffing_warning"] == warning
    # a community above the standard gets no warning
    created = (await client.post("/api/v1/secondment-requests", headers=street,
                                 json=body(home_community_code="430121001002", workers=["W21001002-04"]))).json()
    r = await client.post(f"/api/v1/secondment-requests/{created['id']}/decision", headers=orgdept,
                          json={"outcome": "approve", "reasons": "同意"})
    assert r.json()["staffing_warning"] is None


async def test_return_is_recorded_by_the_community_and_the_worker_counts_again(client, as_client, db):
    active_id = await db.fetchval("select id from secondment_request where status = 'active' and "
                                  "home_community_code = $1", SONGYA)
    staffing = await client.get(f"/api/v1/staffing?jurisdiction={SONGYA}", headers=as_client("songya-community"))
    before = staffing.json()["communities"][0]
    assert before["seconded"] == 1
    r = await client.post(f"/api/v1/secondment-requests/{active_id}/return", headers=as_client("songya-community"),
                          json={"note": "已返岗"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "returned"
    assert r.json()["returned_on"] == today().isoformat()
    staffing = await client.get(f"/api/v1/staffing?jurisdiction={SONGYA}", headers=as_client("songya-community"))
    assert staffing.json()["communities"][0]["present"] == before["present"] + 1


async def test_extension_asked_before_expiry_within_the_total_limit(client, street, orgdept, db):
    active = await db.fetchrow("select id, start_date, end_date from secondment_request where status = 'active' "
                               "and home_community_code = $1", SONGYA)
    url = f"/api/v1/secondment-requests/{active['id']}/extensions"
    too_long = (active["start_date"] + timedelta(days=370)).isoformat()
    r = await client.post(url, headers=street, json={"new_end_date": too_long, "reason": "任务延长"})
    assert r.status_code == 422
    assert r.json()["extra"]["broken_rules"][0]["rule"] == "total_duration"
    new_end = (active["end_date"] + (active["end_date"] - active["start_date"]) // 2)
    r = await client.post(url, headers=street, json={"new_end_date": new_end.isoformat(), "reason": "任务延长"})
    assert r.status_code == 201, r.text
    extension = r.json()["extensions"][0]
    assert extension["status"] == "pending_approval"
    r = await client.post(f"{url}/{extension['id']}/decision", headers=orgdept,
                          json={"outcome": "approve", "reasons": "同意延期，累计未超过一年"})
    assert r.status_code == 200, r.text
    assert r.json()["end_date"] == new_end.isoformat()
    r = await client.post(f"{url}/{extension['id']}/decision", headers=orgdept,
                          json={"outcome": "reject", "reasons": "x"})
    assert r.status_code == 409


async def test_secondments_are_listed_by_state_organ_and_worker(client, as_client):
    supervisor = as_client("county-supervisor")
    r = await client.get("/api/v1/secondment-requests?jurisdiction=430121&state=overdue", headers=supervisor)
    assert r.status_code == 200, r.text
    overdue = r.json()["items"]
    assert [i["home_community_code"] for i in overdue] == ["430121002002"]
    r = await client.get("/api/v1/secondment-requests?jurisdiction=430121001&state=past", headers=supervisor)
    assert [i["workers"][0]["worker_ref"] for i in r.json()["items"]] == ["W21001002-03"]
    r = await client.get("/api/v1/secondment-requests?jurisdiction=430121&organ=湘龙街道办事处", headers=supervisor)
    assert {i["status"] for i in r.json()["items"]} == {"overdue", "approved", "active"}
    r = await client.get("/api/v1/secondment-requests?jurisdiction=430121&worker=W21001001-05", headers=supervisor)
    assert [i["status"] for i in r.json()["items"]] == ["active"]
    # a street office sees its own street only
    r = await client.get("/api/v1/secondment-requests?jurisdiction=430121002", headers=as_client("xingsha-office"))
    assert r.status_code == 403


async def test_two_requests_for_the_same_worker_at_once_cannot_both_be_accepted(client, street, body, db):
    results = await asyncio.gather(*(client.post("/api/v1/secondment-requests", headers=street,
                                                 json=body(workers=["W21001001-09"])) for _ in range(2)))
    assert sorted(r.status_code for r in results) == [201, 422]
    lost = next(r for r in results if r.status_code == 422).json()
    assert [b["rule"] for b in lost["extra"]["broken_rules"]] == ["no_overlap"]
    assert await db.fetchval("select count(*) from secondment_request where 'W21001001-09' = any(worker_refs)") == 1


async def test_a_pending_request_blocks_a_later_one_for_the_same_worker_within_the_cooldown(client, street, body):
    first = await client.post("/api/v1/secondment-requests", headers=street, json=body(workers=["W21001001-13"]))
    assert first.status_code == 201
    later = await client.post("/api/v1/secondment-requests", headers=street, json=body(
        workers=["W21001001-13"], start_date=days(200).isoformat(), end_date=days(260).isoformat()))
    assert later.status_code == 422
    assert [b["rule"] for b in later.json()["extra"]["broken_rules"]] == ["cooldown"]
