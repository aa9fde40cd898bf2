"""Digital items (apps, public accounts, work groups) on the lists: the owner's level, the app's filing number
(备案号) and what it demands of users are judged by the rules of policies/digital.toml in every write (a county
reviewer's addition or amendment, an import row) and by the check on an item already listed."""

from __future__ import annotations

import asyncio

from service.core.audit import SYSTEM
from service.core.clock import today
from service.registry import queries
from service.registry import service as registry
from service.registry.schemas import ItemCreate

COUNTY = "430121"
ITEMS = f"/api/v1/registry/scopes/{COUNTY}/items"


def app(code: str, **fields) -> dict:
    return {"kind": "digital", "list": "app", "code": code, "title": "长沙县社区通", "department": "长沙县数据资源局",
            "department_level": "county", "filing_number": "湘备2026-0101", **fields}


async def add(client, headers, item):
    return await client.post(ITEMS, headers=headers, json={"item": item, "effective_from": today().isoformat(),
                                                           "reason": "经准入审核同意"})


async def test_a_filed_county_app_is_listed_and_an_unfiled_or_street_built_one_is_refused(client, as_client, db):
    reviewer = as_client("county-reviewer-api")
    r = await add(client, reviewer, app("430121-APP-01"))
    assert r.status_code == 201, r.text
    assert r.json()["item"]["filing_number"] == "湘备2026-0101"
    before = await db.fetchval("select count(*) from registry_entry")
    r = await add(client, reviewer, app("430121-APP-02", filing_number=None))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["rule"] == "digital.app-unfiled"
    assert problem["invalid_params"][0]["name"] == "item.filing_number"
    assert "国办函〔2026〕12号" in problem["detail"]
    r = await add(client, reviewer, app("430121-APP-03", department="星沙街道办事处", department_level="county"))
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "digital.app-below-county"
    assert r.json()["invalid_params"][0]["name"] == "item.department_level"
    assert await db.fetchval("select count(*) from registry_entry") == before
    refused = await db.fetchval("select count(*) from audit_event where outcome = 'refused' and "
                                "detail::text like '%digital.app-%'")
    assert refused >= 2


async def test_a_work_group_demanding_round_the_clock_presence_is_refused_by_field_and_by_words(client, as_client):
    reviewer = as_client("county-reviewer-api")
    group = {"kind": "digital", "list": "work_group", "code": "430121-G-002", "title": "长沙县社区工作群",
             "department": "长沙县民政局", "department_level": "county"}
    r = await add(client, reviewer, {**group, "user_demands": ["round_the_clock"]})
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "digital.group-round-the-clock"
    assert r.json()["invalid_params"][0]["name"] == "item.user_demands"
    r = await add(client, reviewer, {**group, "content": "各社区须在群内10分钟内回复。"})
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "digital.group-reply-minutes"
    r = await add(client, reviewer, {**group, "content": "通知类消息，不要求限时回复。"})
    assert r.status_code == 201, r.text


async def test_amending_a_listed_app_to_demand_check_in_is_refused(client, as_client):
    reviewer = as_client("county-reviewer-api")
    assert (await add(client, reviewer, app("430121-APP-04"))).status_code == 201
    r = await client.post(f"{ITEMS}/430121-APP-04/amend", headers=reviewer, json={
        "changes": {"user_demands": ["check_in", "points_ranking"]}, "effective_from": today().isoformat(),
        "reason": "增加打卡"})
    assert r.status_code == 422, r.text
    params = {p["name"] for p in r.json()["invalid_params"]}
    assert params == {"changes.user_demands"}
    assert {f["rule"] for f in r.json()["extra"]["findings"]} == {"digital.forced-check-in", "digital.points-ranking"}


async def test_an_import_row_of_an_unfiled_app_is_refused_with_its_rule(client, as_client):
    csv = ("kind,list,code,title,department,department_level,filing_number,user_demands,effective_from\n"
           f"digital,app,430121-APP-05,社区通,长沙县民政局,county,湘备1,,{today().isoformat()}\n"
           f"digital,app,430121-APP-06,网格通,长沙县民政局,county,,online_time,{today().isoformat()}\n")
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/import?format=csv&partial=true",
                          headers={**as_client("county-reviewer-api"), "Content-Type": "text/csv"},
                          content=csv.encode())
    assert r.status_code in (200, 201), r.text
    report = r.json()
    assert report["loaded"] == 1
    (row,) = report["rejected"]
    assert row["code"] == "430121-APP-06"
    assert row["rule"] in ("digital.app-unfiled", "digital.online-time")
    assert {f["rule"] for f in row["findings"]} == {"digital.app-unfiled", "digital.online-time"}


async def test_the_check_refuses_an_app_listed_before_the_rules_with_the_document(client, as_client, db):
    # an item written before these rules existed (straight into the log, as an older version did)
    async with db.transaction():
        await db.execute(queries.LOCK_LOG)
        await registry._write(db, actor=SYSTEM, scope=COUNTY, entry_type="add", status="active",
                              item=ItemCreate(kind="digital", list="app", code="430121-APP-OLD", title="社区打卡通",
                                              department="长沙县民政局", department_level="county",
                                              user_demands=["check_in"]),
                              created_from=today(), effective_from=today(), reason="旧版本写入", source_ref="legacy",
                              before=None)
    body = {"community_code": "430121001001", "matter": {"code": "430121-APP-OLD"}, "role": "assisting"}
    for _ in range(60):
        r = await client.post("/api/v1/checks", headers=as_client("civil-affairs"), json=body)
        if r.status_code == 200 and r.json()["citation"]["rule"].startswith("digital."):
            break
        await asyncio.sleep(0.05)
    answer = r.json()
    assert answer["allowed"] is False, answer
    assert answer["citation"]["rule"] in ("digital.app-unfiled", "digital.forced-check-in")
    assert answer["citation"]["documents"][0]["number"] == "国办函〔2026〕12号"
    for _ in range(60):  # the receipt names the document too
        receipt = await client.get(f"/api/v1/checks/receipts/{answer['id']}")
        if receipt.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert receipt.json()["citation"]["documents"][0]["number"] == "国办函〔2026〕12号"
