"""A department without an API integration, on the web: the admission request as a form (checked before it is
sent, saved as a draft the reviewers do not see, submitted, followed, withdrawn, resubmitted after a return)
and a street office's secondment request."""

from __future__ import annotations

import re

from tests.helpers.department import FORM
from tests.helpers.web import csrf_of, sign_in


async def _form(client, path: str = "/ui/department/requests/new") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text[:300]
    return csrf_of(page.text)


async def _post(client, path: str, form: dict, step: str, token: str):
    return await client.post(path, data={**form, "step": step, "_csrf_token": token}, follow_redirects=False)


async def _sign_in_department(client, demo) -> None:
    r = await sign_in(client, "dept", demo.users["dept"])
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/department"


async def test_a_department_user_speaks_for_its_organisation_like_its_api_client(client, demo, db):
    row = await db.fetchrow("select organisation, organisation_level, jurisdiction_code from web_user "
                            "where username = 'dept'")
    assert tuple(row) == ("长沙县民政局", "county", "430121")
    await _sign_in_department(client, demo)
    token = await _form(client)
    r = await _post(client, "/ui/department/requests/new", FORM, "submit", token)
    assert r.status_code == 303
    request_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    stored = await db.fetchrow("select department, submitter, status from admission_request where id = $1", request_id)
    assert stored["department"] == "长沙县民政局"
    assert stored["status"] == "submitted"


async def test_checking_shows_the_screening_result_and_stores_nothing(client, demo, db):
    await _sign_in_department(client, demo)
    before = await db.fetchval("select count(*) from admission_request")
    token = await _form(client)
    bad = {**FORM, "title": "社区负责辖区违法建筑强制拆除", "content": "由社区作为责任主体开展拆迁拆违。",
           "community_role": "responsible"}
    r = await _post(client, "/ui/department/requests/new", bad, "screen", token)
    assert r.status_code == 200
    assert "自动审查结果（尚未提交）" in r.text
    assert "违反禁止性规定" in r.text
    assert "finding-refuse" in r.text
    # the form keeps what was typed
    assert 'value="社区负责辖区违法建筑强制拆除"' in r.text
    assert await db.fetchval("select count(*) from admission_request") == before


async def test_the_form_names_every_missing_field_at_once(client, demo):
    await _sign_in_department(client, demo)
    token = await _form(client)
    r = await _post(client, "/ui/department/requests/new", {"list": "", "title": "", "report_frequency": "once"},
                    "submit", token)
    assert r.status_code == 422
    for text in ("请选择事项类别。", "请填写事项名称。", "请至少选择一个目标社区、街道或全县。", "请填写开始日期。",
                 "请填写申请理由。"):
        assert text in r.text
    assert 'aria-invalid="true"' in r.text


async def test_a_draft_is_hidden_from_the_reviewer_until_it_is_submitted(client, demo, db):
    await _sign_in_department(client, demo)
    token = await _form(client)
    r = await _post(client, "/ui/department/requests/new", FORM, "draft", token)
    assert r.status_code == 303
    assert r.headers["location"].endswith("?done=draft")
    request_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    assert await db.fetchval("select status from admission_request where id = $1", request_id) == "draft"
    assert await db.fetchval("select count(*) from audit_event where action = 'admission.draft' and subject_id = $1",
                             str(request_id)) == 1
    # the reviewer: not in the inbox (any state), not by URL, not in the API's list
    await client.post("/logout", data={"_csrf_token": csrf_of((await client.get("/ui/department")).text)})
    await sign_in(client, "reviewer", demo.users["reviewer"])
    assert FORM["title"] not in (await client.get("/ui/inbox?state=all")).text
    assert (await client.get(f"/ui/admission/{request_id}")).status_code == 404
    await client.post("/logout", data={"_csrf_token": csrf_of((await client.get("/ui/inbox")).text)})
    # the department changes and submits it; now the reviewer sees it
    await _sign_in_department(client, demo)
    edit = await client.get(f"/ui/department/requests/{request_id}/edit")
    assert 'value="社区高龄老人助餐需求登记"' in edit.text
    r = await _post(client, f"/ui/department/requests/{request_id}/edit", {**FORM, "title": "高龄老人助餐需求登记"},
                    "submit", csrf_of(edit.text))
    assert r.status_code == 303
    row = await db.fetchrow("select status, title from admission_request where id = $1", request_id)
    assert tuple(row) == ("submitted", "高龄老人助餐需求登记")
    await client.post("/logout", data={"_csrf_token": csrf_of((await client.get("/ui/department")).text)})
    await sign_in(client, "reviewer", demo.users["reviewer"])
    assert (await client.get(f"/ui/admission/{request_id}")).status_code == 200


async def test_the_department_follows_its_request_and_withdraws_it(client, demo, db):
    await _sign_in_department(client, demo)
    r = await _post(client, "/ui/department/requests/new", FORM, "submit", await _form(client))
    location = r.headers["location"]
    page = await client.get(location)
    assert "已提交：申请已送审核部门。" in page.text
    assert "县委社会工作部" in page.text  # the reviewing body
    assert "办理期限" in page.text
    assert "县民政局 办事员 赵静" in page.text  # the history names the person
    listing = await client.get("/ui/department")
    assert FORM["title"] in listing.text
    request_id = int(location.split("/")[-1].split("?")[0])
    r = await client.post(f"/ui/department/requests/{request_id}/withdraw",
                          data={"reason": "部署调整", "_csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert await db.fetchval("select status from admission_request where id = $1", request_id) == "withdrawn"
    assert await db.fetchval("select count(*) from audit_event where action = 'admission.withdraw' and "
                             "subject_id = $1", str(request_id)) == 1
    again = await client.post(f"/ui/department/requests/{request_id}/withdraw",
                              data={"_csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert again.status_code == 409
    assert "不能转为" in again.text or "状态" in again.text


async def test_a_returned_request_is_amended_and_resubmitted_as_a_new_revision(client, demo, db):
    await _sign_in_department(client, demo)
    r = await _post(client, "/ui/department/requests/new", FORM, "submit", await _form(client))
    request_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    await db.execute("update admission_request set status = 'returned', decision_reason = '请补充经费来源说明' "
                     "where id = $1", request_id)
    page = await client.get(f"/ui/department/requests/{request_id}")
    assert "审核部门退回修改" in page.text
    assert "请补充经费来源说明" in page.text
    edit = await client.get(f"/ui/department/requests/{request_id}/edit")
    assert "保存草稿" not in edit.text  # a return comes back as a new revision, not a draft
    r = await _post(client, f"/ui/department/requests/{request_id}/edit", {**FORM, "funding_source": "县级财政专项"},
                    "submit", csrf_of(edit.text))
    assert r.status_code == 303
    assert r.headers["location"].endswith("?done=resubmitted")
    new_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    row = await db.fetchrow("select revision, previous_id, status, body from admission_request where id = $1", new_id)
    assert (row["revision"], row["previous_id"], row["status"]) == (2, request_id, "submitted")
    assert row["body"]["resources"]["funding_source"] == "县级财政专项"
    assert await db.fetchval("select status from admission_request where id = $1", request_id) == "resubmitted"


async def test_another_departments_request_is_not_found(client, demo, db, as_client):
    r = await client.post("/api/v1/admission-requests", headers=as_client("housing-bureau"), json={
        "kind": "task", "list": "assisting", "title": "住建局的申请", "targets": ["430121"],
        "community_role": "assisting", "basis": "x", "resources": {"funding_yuan": 1}, "start_date": "2030-01-07",
        "justification": "x"})
    other = r.json()["id"]
    await _sign_in_department(client, demo)
    for path in (f"/ui/department/requests/{other}", f"/ui/department/requests/{other}/edit"):
        assert (await client.get(path)).status_code == 404
    token = csrf_of((await client.get("/ui/department")).text)
    r = await client.post(f"/ui/department/requests/{other}/withdraw", data={"_csrf_token": token})
    assert r.status_code == 404
    assert await db.fetchval("select status from admission_request where id = $1", other) == "submitted"


async def test_a_form_without_the_csrf_token_is_refused(client, demo, db):
    await _sign_in_department(client, demo)
    before = await db.fetchval("select count(*) from admission_request")
    r = await client.post("/ui/department/requests/new", data={**FORM, "step": "submit"})
    assert r.status_code == 403
    assert await db.fetchval("select count(*) from admission_request") == before


async def test_the_street_office_submits_a_secondment_and_withdraws_it(client, demo, db):
    r = await sign_in(client, "street", demo.users["street"])
    page = await client.get("/ui/department/secondments/new")
    assert page.status_code == 200
    assert 'value="星沙街道办事处"' in page.text  # the organisation the user speaks for
    worker = re.search(r'name="workers" value="([^"]+)"', page.text).group(1)
    community = await db.fetchval("select community_code from community_worker where worker_ref = $1", worker)
    r = await client.post("/ui/department/secondments/new", follow_redirects=False, data={
        "organ_name": "星沙街道办事处", "organ_level": "street", "form": "task_force",
        "home_community_code": community, "workers": worker, "purpose": "街道人口普查工作专班",
        "start_date": "2030-03-02", "end_date": "2030-05-30", "worker_consent": "1", "community_consent": "1",
        "_csrf_token": csrf_of(page.text)})
    assert r.status_code == 303, r.text[:500]
    request_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    assert await db.fetchval("select status from secondment_request where id = $1", request_id) == "pending_approval"
    detail = await client.get(r.headers["location"])
    assert "县委组织部" in detail.text
    assert "撤回申请" in detail.text
    listing = await client.get("/ui/department")
    assert f"/ui/department/secondments/{request_id}" in listing.text
    r = await client.post(f"/ui/department/secondments/{request_id}/withdraw", follow_redirects=False,
                          data={"reason": "专班取消", "_csrf_token": csrf_of(detail.text)})
    assert r.status_code == 303
    assert await db.fetchval("select status from secondment_request where id = $1", request_id) == "withdrawn"


async def test_a_county_department_asking_for_a_secondment_is_refused_and_counted(client, demo, db):
    await _sign_in_department(client, demo)
    page = await client.get("/ui/department/secondments/new")
    assert page.status_code == 200
    before = await db.fetchval("select count(*) from secondment_request where status = 'refused'")
    r = await client.post("/ui/department/secondments/new", data={
        "organ_name": "长沙县民政局", "organ_level": "street", "form": "secondment",
        "home_community_code": "430121001001", "workers": "W21001001-12", "purpose": "借调到局里帮忙",
        "start_date": "2030-03-02", "end_date": "2030-05-30", "worker_consent": "1", "community_consent": "1",
        "_csrf_token": csrf_of(page.text)})
    assert r.status_code == 200
    assert "申请被自动拒绝" in r.text
    # the level the user's organisation holds wins over the level typed in the form
    assert await db.fetchval("select count(*) from secondment_request where status = 'refused'") == before + 1


async def test_the_department_form_speaks_english_when_asked(client, demo):
    await _sign_in_department(client, demo)
    client.cookies.set("mr_lang", "en")
    page = await client.get("/ui/department/requests/new")
    assert "Check (nothing is sent)" in page.text
    assert "事项名称" not in page.text
