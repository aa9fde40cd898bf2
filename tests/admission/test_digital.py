"""Apps, public accounts and work groups (国办函〔2026〕12号, the 2024 opinion's item 17): what a request's
`digital_needs` declares, and a request of kind digital itself, screened by the rules of policies/digital.toml
through the one engine; an approval cannot write a refused app into a list."""

from __future__ import annotations

from tests.admission.conftest import into_review, rules_of, submission

APPS_DOC = "国办函〔2026〕12号"
GOOD_APP = {"kind": "app", "name": "湘易办", "owner": "湖南省人民政府办公厅", "owner_level": "province",
            "filing_number": "湘政备2026001"}


def findings_of(answer: dict, rule: str) -> list[dict]:
    return [f for f in answer["screening"]["findings"] if f["rule"] == rule]


async def post(client, headers, **overrides):
    r = await client.post("/api/v1/admission-requests", headers=headers, json=submission(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_street_built_app_with_check_in_and_online_time_is_refused_citing_the_2026_measures(
        client, as_client):
    answer = await post(client, as_client("xingsha-office"), digital_needs=[{
        "kind": "app", "name": "星沙智慧社区", "owner": "星沙街道办事处", "owner_level": "county",
        "demands": ["check_in", "online_time"]}])
    assert answer["status"] == "refused"
    assert {"digital.app-below-county", "digital.app-unfiled", "digital.forced-check-in",
            "digital.online-time"} <= rules_of(answer)
    built = findings_of(answer, "digital.app-below-county")[0]
    assert built["severity"] == "refuse"
    assert built["span"]["field"] == "digital_needs[0].owner_level"  # the name says street, whatever it declares
    assert built["documents"][0]["number"] == APPS_DOC
    assert built["documents"][0]["title"] == "政务移动互联网应用程序规范化管理办法"
    assert built["documents"][0]["issuer"] == "国务院办公厅"
    assert built["documents"][0]["date"] == "2026-01-25"
    unfiled = findings_of(answer, "digital.app-unfiled")[0]
    assert unfiled["span"]["field"] == "digital_needs[0].filing_number"


async def test_an_app_with_no_owner_named_belongs_to_the_submitter_a_filed_county_app_is_clear(client, as_client):
    street = as_client("xingsha-office")
    answer = await post(client, street, digital_needs=[{"kind": "app", "name": "社区通", "filing_number": "湘备1"}])
    assert "digital.app-below-county" in rules_of(answer)
    answer = await post(client, as_client("civil-affairs"), digital_needs=[GOOD_APP])
    assert answer["screening"]["verdict"] == "clear", answer["screening"]
    assert answer["status"] == "submitted"


async def test_a_work_group_demanding_round_the_clock_presence_or_replies_within_minutes_is_refused(
        client, as_client):
    department = as_client("civil-affairs")
    declared = await post(client, department, digital_needs=[{
        "kind": "work_group", "name": "县民政局社区工作群", "demands": ["round_the_clock"]}])
    assert declared["status"] == "refused"
    finding = findings_of(declared, "digital.group-round-the-clock")[0]
    assert finding["documents"][0]["title"] == "关于加强社区工作者队伍建设的意见"
    assert "工作群组" in finding["documents"][0]["clause"]
    # the same ask in words, in the need's description: read by the engine, with its span
    worded = await post(client, department, digital_needs=[{
        "kind": "work_group", "name": "县民政局社区工作群", "description": "通知发布后各社区须5分钟内回复收到。"}])
    assert worded["status"] == "refused"
    finding = findings_of(worded, "digital.group-reply-minutes")[0]
    assert finding["span"]["field"] == "digital_needs[0].description"
    assert finding["span"]["text"].startswith("5分钟内")
    # a group that forbids it is fine
    fine = await post(client, department, digital_needs=[{
        "kind": "work_group", "name": "县民政局社区工作群", "description": "不得要求社区5分钟内回复，不搞打卡。"}])
    assert not {r for r in rules_of(fine) if r.startswith("digital.")}, fine["screening"]


async def test_points_ranking_in_an_account_is_refused_and_the_check_in_words_are_read_too(client, as_client):
    department = as_client("civil-affairs")
    answer = await post(client, department, digital_needs=[{
        "kind": "account", "name": "长沙县民政公众号", "owner_level": "county", "demands": ["points_ranking"]}])
    assert "digital.points-ranking" in rules_of(answer)
    answer = await post(client, department, digital_needs=[{
        "kind": "app", "name": "学习平台", "filing_number": "湘备2", "owner_level": "county",
        "description": "社区工作人员须每日打卡签到。"}])
    assert answer["status"] == "refused"
    assert any(f["span"] and f["span"]["field"] == "digital_needs[0].description"
               for f in answer["screening"]["findings"] if f["severity"] == "refuse")


async def test_a_request_of_kind_app_is_the_app_unfiled_when_nothing_describes_it(client, as_client):
    department = as_client("civil-affairs")
    answer = await post(client, department, kind="digital", list="app", title="社区人口信息采集App")
    assert "digital.app-unfiled" in rules_of(answer)
    assert findings_of(answer, "digital.app-unfiled")[0]["span"]["field"] == "digital.filing_number"
    answer = await post(client, department, kind="digital", list="app", title="湘易办社区端",
                        digital_needs=[{**GOOD_APP, "name": "湘易办社区端"}])
    assert not {r for r in rules_of(answer) if r.startswith("digital.")}, answer["screening"]


async def test_the_screen_endpoint_answers_the_same_and_stores_nothing(client, as_client, db):
    before = await db.fetchval("select count(*) from admission_request")
    r = await client.post("/api/v1/admission-requests/screen", headers=as_client("xingsha-office"),
                          json=submission(digital_needs=[{"kind": "app", "name": "网格通", "filing_number": "x1"}]))
    assert r.status_code == 200, r.text
    (result,) = r.json().values()
    assert result["verdict"] == "refused"
    assert "digital.app-below-county" in {f["rule"] for f in result["findings"]}
    assert await db.fetchval("select count(*) from admission_request") == before


async def test_an_approved_app_enters_the_list_with_its_owner_filing_number_and_demands(client, as_client):
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    answer = await post(client, department, kind="digital", list="app", title="湘易办社区端",
                        digital_needs=[{**GOOD_APP, "name": "湘易办社区端"}], item_code="430121-APP-01")
    await into_review(client, reviewer, answer["id"])
    r = await client.post(f"/api/v1/admission-requests/{answer['id']}/decision", headers=reviewer,
                          json={"outcome": "approved", "reason": "已备案，省级建设"})
    assert r.status_code == 200, r.text
    r = await client.get("/api/v1/registry/scopes/430121/items/430121-APP-01")
    item = r.json()["item"]
    assert item["filing_number"] == "湘政备2026001"
    assert item["department"] == "湖南省人民政府办公厅"
    assert item["department_level"] == "province"
    assert item["user_demands"] == []
