"""The pages speak in words: names instead of actor codes, labels instead of keys, the page's language
only, a page (never JSON) for a bad query string, flagged approvals acknowledged, backdating refused."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from service.web import labels
from service.workers.service import today
from tests.admission.conftest import submission
from tests.helpers.web import csrf_of, sign_in

ROOT = Path(__file__).parents[2]


async def _flagged_request(client, as_client) -> int:
    """Assisting without resources, starting tomorrow: flagged twice (resources, notice period)."""
    body = submission(resources={}, start_date=(today() + datetime.timedelta(days=1)).isoformat())
    r = await client.post("/api/v1/admission-requests", headers=as_client("civil-affairs"), json=body)
    assert r.status_code == 201, r.text
    assert r.json()["screening"]["verdict"] == "flagged"
    return int(r.json()["id"])


def test_every_audit_action_used_in_the_service_has_a_label():
    found = [m for path in (ROOT / "service").rglob("*.py")
             for m in re.findall(r'action=f?"([^"]+)"', path.read_text(encoding="utf-8"))]
    actions = {m for m in found if not m.startswith(("/", "store_", "append"))}
    expanded: set[str] = set()
    for a in actions:
        if "{VERB[to_status]}" in a:
            from service.admission.service import VERB
            expanded |= {f"admission.{v}" for v in VERB.values()}
        elif "{entry_type}" in a:
            expanded |= {f"registry.{t}" for t in ("add", "amend", "suspend", "resume", "retire")}
        elif "{data.status}" in a:
            expanded |= {f"complaint.{s}" for s in ("under_investigation", "substantiated", "unfounded")}
        elif "extension_{verb}" in a:
            expanded |= {"secondment.extension_approve", "secondment.extension_reject"}
        elif "'approve' if" in a:
            expanded |= {"secondment.approve", "secondment.reject"}
        elif "{permission.obj}.{permission.act}" in a:
            continue  # the guard's refusals: object and act labelled (checked below)
        else:
            expanded.add(a)
    expanded.add("check.refused")
    assert len(expanded) > 40
    missing = sorted(a for a in expanded if a not in labels.ACTIONS)
    assert not missing, missing
    assert labels.action("admission_request.review") == "审核准入申请"


def test_every_role_in_the_policy_has_a_label_in_both_languages():
    roles = {line.split(",")[1].strip() for line in (ROOT / "policies" / "policy.csv").read_text().splitlines()
             if line.startswith("p,")}
    assert roles
    for role in roles:
        zh, en = labels.ROLES[role]
        assert zh != role
        assert en
        assert not re.search(r"[\u4e00-\u9fff]", en)


def test_server_messages_keep_the_pages_language_only():
    text = "不是有效的日期：2026-02-30 (not a valid date, YYYY-MM-DD)"
    assert labels.message(text) == "不是有效的日期：2026-02-30"
    assert labels.message(text, "en") == "not a valid date, YYYY-MM-DD"
    assert labels.message("借调期间 2026-03-01 至 2026-06-30 (from 2026-03-01 to 2026-06-30)") == \
        "借调期间 2026年3月1日 至 2026年6月30日"
    codes = "与已列入清单的事项“X”（430121 / A-001）相似"
    assert labels.message(codes) == codes
    assert labels.cited("admission.notice-period", {"required": 30, "working_days_ahead": 11}) == \
        "本县要求提前 30 个工作日申报，距开始日期仅 11 个工作日。"
    assert labels.cited("x.y", {"phrase": "截图"}) == "申请内容含有“截图”字样。"
    assert labels.rule("prohibited.content.screenshots")["title"] == "不以截图、留痕评价社区工作"
    assert labels.rule("county_level_organ")["document"].startswith("《关于加强社区工作者队伍建设的意见》")
    assert labels.subject("admission_request", "7") == {"text": "准入申请 #7", "href": "/ui/admission/7"}


async def test_a_returned_secondment_is_back_at_its_post_in_both_languages(client, demo, db):
    secondment = await db.fetchval("select id from secondment_request where status = 'active' "
                                   "and home_community_code = '430121001001' limit 1")
    await sign_in(client, "street", demo.users["street"])
    page = await client.get(f"/ui/secondments/{secondment}")
    await client.post(f"/ui/secondments/{secondment}/return",
                      data={"returned_on": "", "note": "按期返岗", "_csrf_token": csrf_of(page.text)})
    after = await client.get(f"/ui/secondments/{secondment}")
    assert '<span class="tag">已返岗</span>' in after.text
    assert "已退回修改" not in after.text
    assert "已返岗" in (await client.get("/ui/secondments?state=past")).text
    client.cookies.set("mr_lang", "en")
    assert "Returned to post" in (await client.get(f"/ui/secondments/{secondment}")).text


async def test_people_and_organisations_are_named_not_coded(client, demo, db, as_client):
    request_id = await _flagged_request(client, as_client)
    secondment = await db.fetchval("select id from secondment_request where submitted_by like 'client:%' limit 1")
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = (await client.get(f"/ui/admission/{request_id}")).text
    history = page[page.index("办理记录"):]
    assert "长沙县民政局" in history
    assert not re.search(r"\b(client|user|system):", history)
    # the findings: rule titles with their document, cited values as sentences, no rule keys
    assert "权随责走、费随事转、人随事转" in page
    assert "本县要求提前" in page
    assert "admission.notice-period" not in page
    assert "working_days_ahead" not in page
    detail = (await client.get(f"/ui/secondments/{secondment}")).text
    assert not re.search(r"\b(client|user|system):", detail)
    assert "<code>" not in detail


async def test_the_audit_search_names_actions_roles_subjects_and_people(client, demo, db):
    request_id = int(await db.fetchval("select id from admission_request where title = '社区高龄老人探访关爱服务'"))
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get(f"/ui/admission/{request_id}")
    form = {"outcome": "rejected", "reason": "依据不足。", "_csrf_token": csrf_of(page.text)}
    confirm = await client.post(f"/ui/admission/{request_id}/confirm", data=form)
    form["_csrf_token"] = csrf_of(confirm.text)
    await client.post(f"/ui/admission/{request_id}/decision", data=form)
    await sign_in(client, "supervisor", demo.users["supervisor"])
    r = await client.get("/ui/audit", params={"action": "admission.reject"})
    assert "<summary>驳回准入申请</summary>" in r.text
    assert f'<a href="/ui/admission/{request_id}">准入申请 #{request_id}</a>' in r.text
    assert "县级审核人" in r.text
    assert "county_reviewer" not in r.text.split("原始记录")[0]
    assert "李娟" in r.text
    assert "<th scope=\"row\" class=\"depth-0\">新状态</th><td>已驳回</td>" in r.text


async def test_the_audit_csv_from_the_page_is_in_the_pages_language_and_beijing_time(client, demo, db):
    await sign_in(client, "supervisor", demo.users["supervisor"])
    r = await client.get("/ui/audit/export.csv", params={"action": "admission.submit"})
    lines = r.text.lstrip("\ufeff").splitlines()
    assert len(lines) > 1, r.text
    assert lines[0].startswith("时间（北京时间）,操作人,操作人类型,角色,操作,操作代码,对象,辖区")
    occurred = await db.fetchval("select occurred_at from audit_event where action = 'admission.submit' "
                                 "order by id desc limit 1")
    local = occurred.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    assert lines[1].startswith(f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S},"), lines[1]
    assert ",提交准入申请,admission.submit,准入申请 #" in lines[1]
    client.cookies.set("mr_lang", "en")
    english = (await client.get("/ui/audit/export.csv", params={"action": "admission.submit"})).text
    assert english.lstrip("\ufeff").startswith("Time (Beijing),Actor,Actor type,Role,Action,Action code")
    assert f"{local:%Y-%m-%d %H:%M:%S} +08:00," in english
    assert ",Submitted an admission request,admission.submit," in english


BAD_ADDRESSES = [("/ui/inbox?since=2026-02-30", "提交日期起"), ("/ui/lists/430121?as_of=2026-13-45", "日期"),
                 ("/ui/lists/430121?kind=bad", "类别"), ("/ui/inbox?kind=bad", "类别"),
                 ("/ui/audit?since=2026-02-30", None), ("/ui/lists/430121/diff?from_date=2026-02-30&to_date=2026-03-01",
                                                         None), ("/ui/nowhere/at/all", None)]


async def test_a_bad_query_string_or_an_unknown_address_answers_with_a_chinese_page(client, demo):
    await sign_in(client, "reviewer", demo.users["reviewer"])
    for path, field in BAD_ADDRESSES:
        if path.startswith("/ui/audit"):
            await sign_in(client, "supervisor", demo.users["supervisor"])
        r = await client.get(path)
        assert r.status_code in (200, 404, 422), (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html"), path
        assert '<html lang="zh-CN">' in r.text, path
        assert re.search(r"<title>[^<]+</title>", r.text), path
        assert "not a valid" not in r.text, path
        assert "YYYY" not in r.text, path
        assert 'href="/ui/inbox"' in r.text or 'href="/"' in r.text, path
        if field:
            assert f"网址中的“{field}”无效" in r.text, (path, r.text[-800:])
            assert f'href="{path.split("?")[0]}"' in r.text, path
    client.cookies.set("mr_lang", "en")
    r = await client.get("/ui/inbox?since=2026-02-30")
    assert '<html lang="en">' in r.text
    assert "not a valid date" in r.text
    assert "不是有效的日期" not in r.text


async def test_approving_a_flagged_request_repeats_the_findings_and_keeps_the_acknowledgement(
        client, demo, db, as_client):
    request_id = await _flagged_request(client, as_client)
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get(f"/ui/admission/{request_id}")
    form = {"outcome": "approved", "reason": "县财政另行保障经费，同意。", "effective_from": "",
            "_csrf_token": csrf_of(page.text)}
    confirm = await client.post(f"/ui/admission/{request_id}/confirm", data=form)
    assert confirm.status_code == 200
    findings = confirm.text[confirm.text.index("自动审查提示"):]
    assert findings.count('<li class="finding-flag">') == 2
    assert "权随责走、费随事转、人随事转" in findings
    assert "本县要求提前" in findings
    assert 'type="checkbox" id="acknowledged" name="acknowledged" value="1" required' in confirm.text
    form["_csrf_token"] = csrf_of(confirm.text)
    refused = await client.post(f"/ui/admission/{request_id}/decision", data=form, follow_redirects=False)
    assert refused.status_code == 422
    assert "请确认已阅读全部自动审查提示" in refused.text
    assert await db.fetchval("select status from admission_request where id = $1", request_id) == "submitted"
    form["acknowledged"] = "1"
    form["_csrf_token"] = csrf_of(refused.text)
    done = await client.post(f"/ui/admission/{request_id}/decision", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text[-600:]
    detail = await db.fetchval("select detail from audit_event where action = 'admission.approve' "
                               "and subject_id = $1", str(request_id))
    import json
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert detail["change"]["acknowledged_findings"] == ["admission.assisting-without-resources",
                                                         "admission.notice-period"]


async def test_the_api_decides_without_an_acknowledgement_and_keeps_one_when_sent(client, as_client, db):
    first = await _flagged_request(client, as_client)
    reviewer = as_client("county-reviewer-api")
    await client.post(f"/api/v1/admission-requests/{first}/start-review", headers=reviewer)
    r = await client.post(f"/api/v1/admission-requests/{first}/decision", headers=reviewer,
                          json={"outcome": "returned", "reason": "请补充经费。",
                                "acknowledged_findings": ["admission.notice-period"]})
    assert r.status_code == 200, r.text
    kept = await db.fetchval("select detail->'change'->'acknowledged_findings' from audit_event "
                             "where action = 'admission.return' and subject_id = $1", str(first))
    assert "admission.notice-period" in str(kept)


async def test_a_backdated_approval_is_warned_and_one_before_the_submission_refused(client, demo, db, as_client):
    request_id = int(await db.fetchval("select id from admission_request where title = '社区高龄老人探访关爱服务'"))
    submitted = await db.fetchval("select (submitted_at at time zone 'Asia/Shanghai')::date from admission_request "
                                  "where id = $1", request_id)
    await db.execute("update admission_request set submitted_at = submitted_at - interval '10 days' where id = $1",
                     request_id)
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get(f"/ui/admission/{request_id}")
    earlier = (submitted - datetime.timedelta(days=3)).isoformat()
    form = {"outcome": "approved", "reason": "同意。", "effective_from": earlier, "_csrf_token": csrf_of(page.text)}
    confirm = await client.post(f"/ui/admission/{request_id}/confirm", data=form)
    assert confirm.status_code == 200
    assert "生效日期早于今天" in confirm.text
    before = (submitted - datetime.timedelta(days=30)).isoformat()
    form["effective_from"] = before
    refused = await client.post(f"/ui/admission/{request_id}/confirm", data=form)
    assert refused.status_code == 422
    assert "生效日期不得早于申请提交日期" in refused.text
    # the service refuses it too, for the API (and for a form sent past the confirmation)
    form["_csrf_token"] = csrf_of(refused.text)
    sent = await client.post(f"/ui/admission/{request_id}/decision", data=form)
    assert sent.status_code == 422
    assert "生效日期不得早于申请提交日期" in sent.text
    assert "effective_from cannot" not in sent.text
    r = await client.post(f"/api/v1/admission-requests/{request_id}/decision",
                          headers=as_client("county-reviewer-api"),
                          json={"outcome": "approved", "reason": "同意", "effective_from": before})
    assert r.status_code == 422
    assert [p["name"] for p in r.json()["invalid_params"]] == ["effective_from"]
    assert "生效日期不得早于申请提交日期" in r.json()["detail"]
    assert await db.fetchval("select status from admission_request where id = $1", request_id) == "submitted"


async def test_an_item_with_one_entry_is_numbered_one_and_its_fields_are_labelled(client, demo, db):
    scope, code = await db.fetchrow("select scope, code from registry_entry group by scope, code "
                                    "having count(*) = 1 and scope = '430121' limit 1")
    await sign_in(client, "reviewer", demo.users["reviewer"])
    r = await client.get(f"/ui/lists/430121/items/{scope}/{code}")
    assert r.status_code == 200
    assert "第1次登记" in r.text
    assert "第2次登记" not in r.text
    assert '<table class="fields">' in r.text
    assert '<th scope="row">责任部门</th>' in r.text
    assert "<pre>" not in r.text


async def test_signing_in_lands_each_role_on_its_work(client, demo):
    for user, page in (("reviewer", "/ui/inbox"), ("orgdept", "/ui/inbox"), ("supervisor", "/ui/inbox"),
                       ("street", "/ui/secondments"), ("community", "/ui/community")):
        client.cookies.clear()
        r = await sign_in(client, user, demo.users[user])
        assert r.status_code == 303
        assert r.headers["location"] == page, user
        assert (await client.get(page)).status_code == 200, user
