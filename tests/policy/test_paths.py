"""Every decision path goes through the one engine: screening, the check (by text and on listed items),
a reviewer adding or amending an item, an approval writing one, a county's own rules; bad text is a 422."""

from __future__ import annotations

import asyncio

from service.core.clock import today
from tests.admission.conftest import into_review, rules_of, settle, submit

COUNTY = "430121"
COMMUNITY = "430121001001"


async def check(client, headers, **matter):
    body = {"community_code": COMMUNITY, "role": matter.pop("role", "assisting"), "matter": matter}
    if "department" in matter:
        body["department"] = matter.pop("department")
    return await client.post("/api/v1/checks", headers=headers, json=body)


async def test_screening_refuses_a_disguised_ask_and_passes_its_assisting_neighbour(client, as_client):
    refused = await submit(client, as_client("housing-bureau"), title="九小场所消防安全管理",
                           content="社区承担辖区九小场所消防安全监管责任，对存在隐患的场所责令停业整改。")
    assert refused["status"] == "refused"
    assert {"responsible.work_safety", "power.enforcement"} <= rules_of(refused)
    passed = await submit(client, as_client("housing-bureau"), title="九小场所消防安全宣传",
                          content="社区协助消防救援大队开展九小场所消防安全宣传，发现隐患及时报告，由其依法处理。")
    assert passed["status"] == "submitted"
    assert not rules_of(passed) & {"responsible.work_safety", "power.enforcement"}


async def test_the_screen_answers_in_english_when_asked_and_in_chinese_otherwise(client, as_client):
    from tests.admission.conftest import submission

    body = submission(content="社区负责代收辖区居民卫生费，年底前完成收缴任务。")
    for lang, start in (("en", "Sales, subscription"), ("zh-CN", "不得向社区下达")):
        r = await client.post("/api/v1/admission-requests/screen", json=body,
                              headers={**as_client("civil-affairs"), "Accept-Language": lang})
        assert r.status_code == 200, r.text
        finding = next(f for f in r.json()[COUNTY]["findings"] if f["rule"] == "economic.target")
        assert finding["message"].startswith(start)


async def test_a_county_rule_whose_example_fails_is_422_naming_it_and_nothing_is_stored(client, as_client, db):
    reviewer = as_client("county-reviewer-api")
    before = await db.fetchval("select count(*) from screening_rule")
    bad = {"county_code": COUNTY, "rule": "county.fundraising", "match_type": "policy", "severity": "refuse",
           "message": "本县不得向社区下达募捐任务。",
           "definition": {"all": [["募捐"], ["任务", "指标"]],
                          "examples": {"match": ["社区完成募捐任务。", "各社区募集善款十万元。"],
                                       "no_match": ["不得向社区下达募捐任务。"]}}}
    r = await client.post("/api/v1/screening-rules", headers=reviewer, json=bad)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["extra"] == {"rule": "county.fundraising", "example": "各社区募集善款十万元。"}
    assert "county.fundraising" in problem["detail"]
    unparsable = {**bad, "definition": {"all": "募捐", "scope": "paragraph", "examples": {"match": ["募捐"]}}}
    r = await client.post("/api/v1/screening-rules", headers=reviewer, json=unparsable)
    assert r.status_code == 422
    assert r.json()["extra"]["rule"] == "county.fundraising"
    assert await db.fetchval("select count(*) from screening_rule") == before
    good = {**bad, "definition": {**bad["definition"], "examples": {"match": ["社区完成募捐任务。"],
                                                                     "no_match": ["不得向社区下达募捐任务。"]}}}
    r = await client.post("/api/v1/screening-rules", headers=reviewer, json=good)
    assert r.status_code == 201, r.text
    await settle()
    answer = await submit(client, as_client("civil-affairs"), content="每个社区完成慈善募捐任务2万元。")
    assert answer["status"] == "refused"
    assert "county.fundraising" in rules_of(answer)
    negated = await submit(client, as_client("civil-affairs"), content="不向社区下达募捐任务，居民自愿参与。")
    assert "county.fundraising" not in rules_of(negated)
    # the check answers by the county's rule as well
    r = await check(client, as_client("civil-affairs"), title="慈善募捐", description="各社区完成募捐任务")
    assert r.json()["citation"]["rule"] == "county.fundraising"


async def test_an_approval_that_would_list_a_prohibited_matter_is_422_and_nothing_changes(client, as_client, db):
    reviewer = as_client("county-reviewer-api")
    answer = await submit(client, as_client("civil-affairs"), content="社区每季度完成慈善捐款任务。")
    assert answer["status"] == "submitted"
    r = await client.post("/api/v1/screening-rules", headers=reviewer, json={
        "county_code": COUNTY, "rule": "county.donations", "match_type": "phrase", "pattern": "捐款任务",
        "severity": "refuse", "message": "本县不得向社区下达捐款任务。"})
    assert r.status_code == 201, r.text
    await settle()
    await into_review(client, reviewer, answer["id"])
    r = await client.post(f"/api/v1/admission-requests/{answer['id']}/decision", headers=reviewer,
                          json={"outcome": "approved"})
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "county.donations"
    assert await db.fetchval("select status from admission_request where id = $1", answer["id"]) == "in_review"
    assert await db.fetchval("select count(*) from registry_item where code = $1", f"adm-{answer['id']}") == 0


async def test_a_reviewer_amending_an_item_into_a_prohibited_ask_gets_422_with_the_document(client, as_client, db):
    reviewer = as_client("county-reviewer-api")
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-001/amend", headers=reviewer, json={
        "changes": {"content": "社区负责辖区医保参保，参保率达到98%纳入社区年度考核。"},
        "effective_from": today().isoformat(), "reason": "调整"})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["rule"] == "economic.target"
    assert problem["invalid_params"][0]["name"] == "changes.content"
    assert problem["extra"]["findings"][0]["documents"][0]["number"] == "民发〔2015〕136号"
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items", headers=reviewer, json={
        "item": {"kind": "task", "list": "assisting", "code": "430121-A-990", "title": "协助开展征收拆迁",
                 "content": "社区作为辖区征收拆迁的责任主体，包保到户。"},
        "effective_from": today().isoformat(), "reason": "x"})
    assert r.status_code == 422
    assert r.json()["rule"] == "responsible.demolition"


async def test_a_listed_item_that_asks_something_prohibited_is_not_admitted_however_it_got_there(
        client, as_client, db):
    """An item written before the engine (straight into the log) is judged again by the check."""
    from service.core.audit import SYSTEM
    from service.registry import queries, service
    from service.registry.schemas import ItemCreate

    item = ItemCreate(kind="task", list="assisting", code="430121-A-777", title="辖区燃气安全管理",
                      content="社区为辖区燃气安全第一责任人，对违规使用瓶装气的商户处以罚款。")
    async with db.transaction():
        await db.execute(queries.LOCK_LOG)
        await service._write(db, actor=SYSTEM, scope=COUNTY, entry_type="add", status="active", item=item,
                             created_from=today(), effective_from=today(), reason="旧数据", source_ref="",
                             before=None)
    headers = as_client("civil-affairs")
    for _ in range(60):
        r = await check(client, headers, code="430121-A-777")
        if r.status_code == 200 and r.json()["citation"].get("code") == "430121-A-777":
            break
        await asyncio.sleep(0.05)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["allowed"] is False
    assert answer["citation"]["rule"] in ("responsible.work_safety", "responsible.enforcement", "power.enforcement")
    assert answer["citation"]["code"] == "430121-A-777"
    assert answer["citation"]["documents"]


async def test_a_community_asking_for_itself_or_naming_the_department_in_chinese_is_answered(client, as_client):
    community = as_client("songya-community")
    r = await check(client, community, code="430121-A-001")
    assert r.status_code == 200, r.text
    assert r.json()["allowed"] is True
    r = await check(client, community, code="430121-A-001", department="长沙县民政局")
    assert r.json()["allowed"] is True
    assert r.json()["department_unknown"] is False
    r = await check(client, community, code="430121-A-001", department="望城区民政局")
    assert r.json()["citation"]["rule"] == "department.no-right"
    r = await check(client, community, title="年度招商引资任务", description="各社区完成招商引资2亿元",
                    department="长沙县住房和城乡建设局")
    assert r.json()["citation"]["rule"] == "economic.target"
    r = await check(client, community, code="430121-A-001", department="某某县不存在局")
    assert r.status_code == 200
    assert r.json()["department_unknown"] is True


async def test_text_that_is_not_text_is_a_problem_naming_the_field(client, as_client):
    headers = as_client("civil-affairs")
    for bad in ("社区\\u0000负责", "社区\\u0007负责", "社区\\ud800负责"):
        raw = ('{"community_code": "' + COMMUNITY + '", "role": "assisting", '
               '"matter": {"title": "测试", "description": "' + bad + '"}}').encode()
        r = await client.post("/api/v1/checks", headers={**headers, "Content-Type": "application/json"}, content=raw)
        assert r.status_code in (400, 422), r.text
        if r.status_code == 422:
            assert r.json()["invalid_params"][0]["name"] == "matter.description"
    r = await check(client, headers, title="测试", description="社区" * 50_000)
    assert r.status_code in (400, 422)
    r = await client.post("/api/v1/admission-requests", headers=headers, json={
        **__import__("tests.admission.conftest", fromlist=["submission"]).submission(content="开展\x00宣传")})
    assert r.status_code == 422, r.text
    assert r.json()["invalid_params"][0]["name"] == "content"


async def test_an_item_with_text_that_is_not_text_is_422_naming_the_field(client, as_client):
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items", headers=as_client("county-reviewer-api"), json={
        "item": {"kind": "task", "list": "assisting", "code": "430121-A-991", "title": "协助开展宣传",
                 "content": "协助\x00宣传"}, "effective_from": today().isoformat(), "reason": "x"})
    assert r.status_code == 422, r.text
    assert r.json()["invalid_params"][0]["name"] == "item.content"
