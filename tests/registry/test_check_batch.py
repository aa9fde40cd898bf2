"""The batch check: up to 500 questions in one call, each answered and recorded as a single check is."""

from __future__ import annotations

import asyncio

from service.client import AsyncClient

COMMUNITY = "430121001001"
OTHER_COUNTY_COMMUNITY = "430112001001"


def question(code=None, *, community=COMMUNITY, role="assisting", title=None, description=None, department=None):
    matter = {k: v for k, v in (("code", code), ("title", title), ("description", description)) if v}
    body = {"community_code": community, "matter": matter, "role": role}
    if department:
        body["department"] = department
    return body


async def recorded(db, ids: list[str]) -> list:
    for _ in range(60):  # written in the recorder's next batch
        rows = await db.fetch("select id::text as id, allowed, rule from check_record where id::text = any($1)", ids)
        if len(rows) == len(ids):
            return rows
        await asyncio.sleep(0.05)
    return rows


async def test_each_question_is_answered_in_order_as_a_single_check_answers_it(client, as_client, db):
    headers = as_client("civil-affairs")
    questions = [question("430121-A-001"), question("P-005"), question("T-A-001", role="responsible"),
                 question(title="年度招商引资任务分解", description="请各社区完成招商引资目标"),
                 question("430121-A-001", department="wangcheng-civil")]
    singles = [(await client.post("/api/v1/checks", headers=headers, json=q)).json() for q in questions]
    r = await client.post("/api/v1/checks/batch", headers=headers, json={"checks": questions})
    assert r.status_code == 200, r.text
    answers = r.json()["answers"]
    assert len(answers) == len(questions)
    for single, batched in zip(singles, answers, strict=True):
        assert {k: v for k, v in batched.items() if k not in ("id", "receipt_url")} == \
               {k: v for k, v in single.items() if k not in ("id", "receipt_url")}
        assert (batched["receipt_url"] is None) == batched["allowed"]
    assert [a["citation"]["rule"] for a in answers] == [
        "registry.admitted", "registry.prohibited", "registry.assisting-only", "economic.target",
        "department.no-right"]
    # every answer recorded, one receipt per denial, each receipt public
    rows = await recorded(db, [a["id"] for a in answers])
    assert {row["id"]: (row["allowed"], row["rule"]) for row in rows} == {
        a["id"]: (a["allowed"], a["citation"]["rule"]) for a in answers}
    for a in answers:
        if not a["allowed"]:
            assert a["receipt_url"] == f"/checks/{a['id']}"
            receipt = await client.get(f"/api/v1/checks/receipts/{a['id']}")
            assert receipt.status_code == 200
    # a refusal is an audit event, as for a single check
    refused = await db.fetchval("select count(*) from audit_event where action = 'check.refused' "
                                "and subject_id = any($1)", [a["id"] for a in answers if not a["allowed"]])
    for _ in range(40):
        if refused == 4:
            break
        await asyncio.sleep(0.05)
        refused = await db.fetchval("select count(*) from audit_event where action = 'check.refused' "
                                    "and subject_id = any($1)", [a["id"] for a in answers if not a["allowed"]])
    assert refused == 4


async def test_more_than_500_questions_is_422_naming_the_field(client, as_client):
    r = await client.post("/api/v1/checks/batch", headers=as_client("civil-affairs"),
                          json={"checks": [question("430121-A-001")] * 501})
    assert r.status_code == 422, r.text
    assert r.json()["invalid_params"][0]["name"] == "checks"
    assert (await client.post("/api/v1/checks/batch", headers=as_client("civil-affairs"),
                              json={"checks": []})).status_code == 422
    ok = await client.post("/api/v1/checks/batch", headers=as_client("civil-affairs"),
                           json={"checks": [question("430121-A-001")] * 500})
    assert ok.status_code == 200
    assert len(ok.json()["answers"]) == 500


async def test_each_target_is_authorized_and_a_bad_question_names_its_place(client, as_client, db):
    headers = as_client("civil-affairs")  # Changsha County's bureau: not a department of Wangcheng
    r = await client.post("/api/v1/checks/batch", headers=headers,
                          json={"checks": [question("430121-A-001"),
                                           question("T-D-001", community=OTHER_COUNTY_COMMUNITY)]})
    assert r.status_code == 403, r.text
    denied = await db.fetchrow("select outcome, jurisdiction_code from audit_event where action = 'check.ask' "
                               "order by id desc limit 1")
    for _ in range(40):
        if denied is not None:
            break
        await asyncio.sleep(0.05)
        denied = await db.fetchrow("select outcome, jurisdiction_code from audit_event where action = 'check.ask' "
                                   "order by id desc limit 1")
    assert tuple(denied) == ("denied", OTHER_COUNTY_COMMUNITY)
    # nothing was answered, so nothing was recorded
    r = await client.post("/api/v1/checks/batch", headers=headers,
                          json={"checks": [question("430121-A-001"), question("NO-SUCH-ITEM")]})
    assert r.status_code == 404
    assert "NO-SUCH-ITEM" in r.json()["detail"]
    assert r.json()["extra"]["index"] == 1
    r = await client.post("/api/v1/checks/batch", headers=headers,
                          json={"checks": [question("430121-A-001"), question("430121-A-001"),
                                           question(title="违法\x00建设", description="x")]})
    assert r.status_code == 422
    assert r.json()["invalid_params"][0]["name"] == "checks[2].matter.title"
    r = await client.post("/api/v1/checks/batch", headers=headers,
                          json={"checks": [question("T-D-001", community="430121009009")]})
    assert r.status_code == 404
    assert (await client.post("/api/v1/checks/batch", json={"checks": [question("T-D-001")]})).status_code == 401


async def test_the_client_checks_every_community_of_a_county_in_one_call(client, demo):
    tree = client.app.state.tree
    communities = sorted(code for code, node in tree.nodes.items()
                         if node.level == "community" and node.county_code == "430121")
    api = AsyncClient("", token=demo.tokens["civil-affairs"], http=client)
    answers = await api.check_matters([question("430121-A-001", community=c) for c in communities])
    assert len(answers) == len(communities)
    assert all(a.citation.rule == "registry.admitted" for a in answers)
    one = await api.check_matter(question("P-005"))
    assert one.allowed is False
