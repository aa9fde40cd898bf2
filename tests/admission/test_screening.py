"""Screening before any person: refusals with the rule cited, flags for the reviewer, rules as data."""

from __future__ import annotations

import asyncio
import datetime
import time

from service.admission.service import today
from service.calendar import workdays
from tests.admission.conftest import rules_of, settle, submission, submit


async def test_clear_request_is_routed_to_the_county_reviewing_body_with_a_working_day_deadline(client, as_client,
                                                                                                 db):
    answer = await submit(client, as_client("civil-affairs"))
    assert answer["status"] == "submitted"
    assert answer["screening"] == {"verdict": "clear", "findings": []}
    assert answer["reviewing_body"] == "县委社会工作部"
    start = today()
    calendar = await workdays.load(db, county_code="430121", start=start, end=start + datetime.timedelta(days=60))
    assert answer["decision_due"] == calendar.add_working_days(start, 15).isoformat()
    event = await db.fetchrow("select * from audit_event where action = 'admission.submit' and subject_id = $1",
                              str(answer["id"]))
    assert event["jurisdiction_code"] == "430121"


async def test_community_declared_responsible_for_demolition_is_refused_at_once_with_the_rule(client, as_client, db):
    answer = await submit(client, as_client("housing-bureau"), community_role="responsible",
                          title="背街小巷违建拆除", content="社区牵头组织拆除背街小巷的违法搭建。")
    assert answer["status"] == "refused"
    assert answer["screening"]["verdict"] == "refused"
    assert "responsible.demolition" in rules_of(answer)
    finding = next(f for f in answer["screening"]["findings"] if f["rule"] == "responsible.demolition")
    assert {d["title"] for d in finding["documents"]} == {"关于进一步开展社区减负工作的通知",
                                                          "关于加强社区工作者队伍建设的意见"}
    assert finding["span"]["field"] in ("title", "content")
    assert answer["allowed_transitions"] == []
    assert answer["decision_due"] is None


async def test_a_prohibited_ask_is_refused_whatever_it_is_labelled(client, as_client):
    answer = await submit(client, as_client("housing-bureau"), community_role="assisting",
                          title="协助开展城市更新", content="社区要负责拆除违章建筑，并每周以截图考核进度。")
    assert answer["status"] == "refused"
    refused = {f["rule"] for f in answer["screening"]["findings"] if f["severity"] == "refuse"}
    assert refused == {"responsible.demolition", "paper_trail"}
    cited = next(f for f in answer["screening"]["findings"] if f["rule"] == "responsible.demolition")
    content = "社区要负责拆除违章建筑，并每周以截图考核进度。"
    span = cited["span"]
    assert span["field"] == "content"
    assert content[span["start"]:span["end"]] == span["text"]
    assert "负责拆除" in span["text"]
    assert cited["documents"][0]["number"] == "民发〔2015〕136号"
    assert "拆迁拆违" in cited["message"]


async def test_a_veto_on_the_community_is_refused_and_one_under_central_rules_only_flagged(client, as_client):
    answer = await submit(client, as_client("civil-affairs"), content="对未完成的社区实行一票否决。")
    assert answer["status"] == "refused"
    assert rules_of(answer) == {"veto"}
    veto = answer["screening"]["findings"][0]
    assert veto["documents"][0]["title"] == "整治形式主义为基层减负若干规定"
    assert "number" not in veto["documents"][0]
    answer = await submit(client, as_client("civil-affairs"), content="按照省委规定对社区实行一票否决。")
    assert answer["status"] == "submitted"
    assert answer["screening"]["verdict"] == "flagged"
    assert rules_of(answer) == {"veto"}


async def test_a_negated_sentence_does_not_count_against_the_request(client, as_client):
    answer = await submit(client, as_client("civil-affairs"),
                          content="不以截图留痕考核社区，不得要求社区签订责任书；发现违法建设由执法部门依法查处。")
    assert answer["status"] == "submitted"
    assert answer["screening"] == {"verdict": "clear", "findings": []}


async def test_prohibited_list_declared_is_refused(client, as_client):
    answer = await submit(client, as_client("civil-affairs"), list="prohibited")
    assert answer["status"] == "refused"
    assert "prohibited.declared-list" in rules_of(answer)


async def test_a_county_adds_its_own_phrase_and_the_next_request_is_screened_by_it(client, as_client):
    reviewer = as_client("county-reviewer-api")
    r = await client.post("/api/v1/screening-rules", headers=reviewer, json={
        "county_code": "430121", "rule": "county.content.fundraising", "match_type": "phrase", "pattern": "募捐任务",
        "severity": "refuse", "message": "本县不得向社区下达募捐任务。"})
    assert r.status_code == 201, r.text
    await settle()
    answer = await submit(client, as_client("civil-affairs"), content="社区完成慈善募捐任务。")
    assert answer["status"] == "refused"
    assert "county.content.fundraising" in rules_of(answer)
    # the neighbouring county's reviewer may not add rules for this county
    r = await client.post("/api/v1/screening-rules", headers=as_client("wangcheng-civil"), json={
        "county_code": "430121", "rule": "x.y.z", "match_type": "phrase", "pattern": "abc", "severity": "flag",
        "message": "x"})
    assert r.status_code == 403
    rules = (await client.get("/api/v1/screening-rules", params={"county_code": "430121"})).json()
    assert any(r["pattern"] == "募捐任务" for r in rules)
    # the national rules are listed too: the engine's, with their definition (the file is their one source)
    national = {r["rule"]: r for r in rules if r["source"] == "file" and r["match_type"] == "policy"}
    assert "economic.target.strong" in national
    assert "协税护税" in national["economic.target.strong"]["definition"]["all"][0]


async def test_duplicate_of_a_listed_item_is_flagged_with_the_item_cited(client, as_client):
    # the demo approved 困难群众临时救助线索报告 into the county's list as ADM-DEMO-1
    answer = await submit(client, as_client("housing-bureau"), title="困难群众临时救助线索报告",
                          content="发现因突发事件导致基本生活困难的家庭，及时向街道报告救助线索。")
    duplicate = [f for f in answer["screening"]["findings"] if f["rule"] == "admission.duplicate"]
    assert duplicate
    assert duplicate[0]["severity"] == "flag"
    assert duplicate[0]["cited"]["code"] == "ADM-DEMO-1"


async def test_an_item_just_listed_is_found_as_a_duplicate_within_a_second(client, as_client):
    """The duplicate search keeps the lists in memory; a change to them reaches it over LISTEN/NOTIFY."""
    title = "社区协助开展防汛应急演练"
    content = "每年汛期前协助应急管理部门组织居民开展防汛应急演练，登记转移安置人员。"
    first = await submit(client, as_client("housing-bureau"), title=title, content=content)
    assert "admission.duplicate" not in rules_of(first)
    r = await client.post("/api/v1/registry/scopes/430121/items", headers=as_client("county-reviewer-api"), json={
        "item": {"code": "430121-FLOOD-1", "kind": "task", "list": "assisting", "title": title, "content": content},
        "effective_from": today().isoformat(), "reason": "县政府常务会议同意列入", "source_ref": "县政发〔2026〕1号"})
    assert r.status_code == 201, r.text
    started = time.monotonic()
    while True:
        answer = await submit(client, as_client("housing-bureau"), title=title, content=content)
        cited = [f["cited"]["code"] for f in answer["screening"]["findings"] if f["rule"] == "admission.duplicate"]
        if cited or time.monotonic() - started > 1.0:
            break
        await asyncio.sleep(0.05)
    assert cited == ["430121-FLOOD-1"]


async def test_missing_basis_missing_resources_and_short_notice_are_flagged(client, as_client):
    soon = today() + datetime.timedelta(days=10)
    answer = await submit(client, as_client("civil-affairs"), basis=None, resources={},
                          start_date=soon.isoformat())
    assert answer["screening"]["verdict"] == "flagged"
    assert rules_of(answer) == {"admission.missing-basis", "admission.assisting-without-resources",
                                "admission.notice-period"}
    notice = next(f for f in answer["screening"]["findings"] if f["rule"] == "admission.notice-period")
    assert notice["cited"]["required"] == 30
    assert notice["cited"]["working_days_ahead"] < 10


async def test_report_form_asking_for_fields_already_collected_is_flagged(client, as_client):
    answer = await submit(client, as_client("civil-affairs"), kind="report", list="report_form",
                          title="社区养老服务需求季报", content="季度报送养老服务需求。",
                          report_form={"name": "养老需求季报", "fields": ["常住人口", "户数", "独居老人数"],
                                       "frequency": "quarterly"})
    finding = [f for f in answer["screening"]["findings"] if f["rule"] == "admission.report-fields-collected"]
    assert finding, answer["screening"]
    assert finding[0]["cited"]["code"] == "430121-R-001"
    assert finding[0]["cited"]["fields"] == ["常住人口", "户数"]


async def test_screen_endpoint_checks_a_matter_without_storing_it(client, as_client, db):
    before = await db.fetchval("select count(*) from admission_request")
    r = await client.post("/api/v1/admission-requests/screen", headers=as_client("civil-affairs"),
                          json=submission(content="请社区协税护税。"))
    assert r.status_code == 200, r.text
    assert r.json()["430121"]["verdict"] == "refused"
    assert await db.fetchval("select count(*) from admission_request") == before
