"""The approvers' pages without a browser: who may open what, CSRF on every form, decisions confirmed first."""

from __future__ import annotations

import re

from tests.helpers.app import running
from tests.helpers.web import csrf_of, sign_in


async def _request_id(db, title: str) -> int:
    return int(await db.fetchval("select id from admission_request where title = $1 order by id desc limit 1", title))


async def test_the_inbox_lists_the_countys_requests_with_counts(client, demo):
    await sign_in(client, "reviewer", demo.users["reviewer"])
    r = await client.get("/ui/inbox")
    assert r.status_code == 200
    assert "社区高龄老人探访关爱服务" in r.text
    assert "社区残疾人康复需求登记" in r.text
    assert "已逾期" in r.text
    assert 'href="/ui/inbox"' in r.text


async def test_the_inbox_filters_admission_requests_by_the_street_they_reach(client, demo, db):
    await db.execute("update admission_request set targets = '{430121003001}' where title = '社区残疾人康复需求登记'")
    await sign_in(client, "reviewer", demo.users["reviewer"])
    third = (await client.get("/ui/inbox?street=430121003")).text
    assert "社区残疾人康复需求登记" in third
    assert "社区高龄老人探访关爱服务" not in third
    first = (await client.get("/ui/inbox?street=430121001")).text
    assert "社区高龄老人探访关爱服务" in first
    assert "社区残疾人康复需求登记" not in first


async def test_the_inbox_sends_an_anonymous_visitor_to_sign_in_and_records_the_refusal(client, db):
    r = await client.get("/ui/inbox", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert await db.fetchval("select count(*) from audit_event where action = 'jurisdiction.read' "
                             "and outcome = 'denied'") >= 1


async def test_a_reviewer_of_another_county_gets_404_for_a_request(client, demo, db):
    request_id = await _request_id(db, "社区高龄老人探访关爱服务")
    await sign_in(client, "reviewer-wc", demo.users["reviewer-wc"])
    r = await client.get(f"/ui/admission/{request_id}")
    assert r.status_code == 404
    assert "社区高龄老人探访关爱服务" not in r.text
    assert "<h1>未找到</h1>" in r.text
    inbox = await client.get("/ui/inbox")
    assert "社区高龄老人探访关爱服务" not in inbox.text


async def test_approval_is_confirmed_before_it_is_sent_and_enters_the_list(client, demo, db):
    request_id = await _request_id(db, "社区高龄老人探访关爱服务")
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get(f"/ui/admission/{request_id}")
    assert page.status_code == 200
    form = {"outcome": "approved", "reason": "依据充分，同意。", "effective_from": "",
            "_csrf_token": csrf_of(page.text)}
    confirm = await client.post(f"/ui/admission/{request_id}/confirm", data=form)
    assert confirm.status_code == 200
    assert "确认并提交" in confirm.text
    assert await db.fetchval("select status from admission_request where id = $1", request_id) == "submitted"
    form["_csrf_token"] = csrf_of(confirm.text)
    done = await client.post(f"/ui/admission/{request_id}/decision", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert await db.fetchval("select status from admission_request where id = $1", request_id) == "approved"
    listed = await client.get("/ui/lists/430121001001")
    assert "社区高龄老人探访关爱服务" in listed.text


async def test_a_decision_without_the_csrf_token_is_refused(client, demo, db):
    request_id = await _request_id(db, "社区高龄老人探访关爱服务")
    await sign_in(client, "reviewer", demo.users["reviewer"])
    r = await client.post(f"/ui/admission/{request_id}/decision",
                          data={"outcome": "approved", "reason": "同意"}, follow_redirects=False)
    assert r.status_code == 403
    assert await db.fetchval("select status from admission_request where id = $1", request_id) == "submitted"


async def test_a_rejection_needs_a_reason(client, demo, db):
    request_id = await _request_id(db, "社区高龄老人探访关爱服务")
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get(f"/ui/admission/{request_id}")
    r = await client.post(f"/ui/admission/{request_id}/confirm",
                          data={"outcome": "rejected", "reason": " ", "_csrf_token": csrf_of(page.text)})
    assert r.status_code == 422
    assert "请填写审核理由" in r.text


async def test_every_form_on_the_pages_carries_the_csrf_token(client, demo, db):
    request_id = await _request_id(db, "社区高龄老人探访关爱服务")
    await sign_in(client, "reviewer", demo.users["reviewer"])
    for path in ("/ui/inbox", f"/ui/admission/{request_id}"):
        html = (await client.get(path)).text
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", html, flags=re.S):
            assert 'name="_csrf_token"' in form, (path, form[:200])


MAIN_PAGES = {
    "reviewer": ["/", "/ui/inbox", "/ui/inbox?kind=admission&state=all&sort=newest", "/ui/lists",
                 "/ui/lists/430121", "/ui/lists/430121001001?kind=task", "/ui/lists/430121/diff",
                 "/ui/lists/430121/diff?from_date=2024-01-01&to_date=2026-12-31", "/ui/secondments",
                 "/ui/dashboard"],
    "orgdept": ["/ui/inbox", "/ui/secondments?state=pending", "/ui/dashboard"],
    "supervisor": ["/ui/inbox", "/ui/complaints", "/ui/audit", "/ui/audit?action=auth.login&since=2020-01-01",
                   "/ui/dashboard"],
}


async def test_every_main_page_opens_for_the_roles_that_use_it(client, demo, db):
    for user, paths in MAIN_PAGES.items():
        await sign_in(client, user, demo.users[user])
        for path in paths:
            r = await client.get(path)
            assert r.status_code == 200, (user, path, r.text[:500])
            assert r.headers["content-type"].startswith("text/html")
    secondment = await db.fetchval("select id from secondment_request where status = 'pending_approval' limit 1")
    complaint = await db.fetchval("select id from complaint limit 1")
    await sign_in(client, "orgdept", demo.users["orgdept"])
    assert (await client.get(f"/ui/secondments/{secondment}")).status_code == 200
    await sign_in(client, "supervisor", demo.users["supervisor"])
    assert (await client.get(f"/ui/complaints/{complaint}")).status_code == 200


def test_every_string_the_templates_translate_has_an_english_text():
    """Babel's own extractor (what `pybabel extract` runs) over the templates, against locale/en.po."""
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    web = Path(__file__).parents[2] / "service" / "web"
    with (web / "locale" / "en.po").open("rb") as f:
        english = {m.id: m.string for m in read_po(f) if m.id}
    found = list(extract_from_dir(web / "templates", method_map=[("**.html", "jinja2")],
                                  options_map={"**.html": {"extensions": "jinja2.ext.i18n"}}))
    assert len(found) > 100  # the extractor read the templates
    missing = {f"{name}:{line}: {message}" for name, line, message, _, _ in found
               if not english.get(message if isinstance(message, str) else message[0])}
    assert not missing, sorted(missing)


async def test_the_english_switch_translates_the_inbox(client, demo):
    await sign_in(client, "reviewer", demo.users["reviewer"])
    client.cookies.set("mr_lang", "en")
    r = await client.get("/ui/inbox")
    assert "<h1>Inbox</h1>" in r.text
    assert "Most urgent first" in r.text


async def test_the_audit_pages_export_link_streams_csv_for_the_signed_in_supervisor(client, demo):
    await sign_in(client, "supervisor", demo.users["supervisor"])
    page = await client.get("/ui/audit?action=admission.approve&since=2020-01-01")
    link = re.search(r'href="(/ui/audit/export.csv\?[^"]+)"', page.text)
    assert link, "no export link"
    href = link.group(1).replace("&amp;", "&")
    assert "action=admission.approve" in href
    r = await client.get(href)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "admission.approve" in r.text.splitlines()[1]


async def test_a_reviewer_cannot_decide_a_secondment_nor_open_the_audit_pages(client, demo, db):
    secondment = await db.fetchval("select id from secondment_request where status = 'pending_approval' limit 1")
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get(f"/ui/secondments/{secondment}")
    assert page.status_code == 200
    assert "审批决定" not in page.text
    r = await client.post(f"/ui/secondments/{secondment}/decision",
                          data={"outcome": "approve", "reasons": "同意", "_csrf_token": csrf_of(page.text)},
                          follow_redirects=False)
    assert r.status_code == 404
    assert await db.fetchval("select status from secondment_request where id = $1", secondment) == "pending_approval"
    assert (await client.get("/ui/audit")).status_code == 403
    assert (await client.get("/ui/complaints")).status_code == 403


async def test_an_expired_session_on_a_page_leads_to_sign_in_with_the_message(database, tmp_path, demo):
    import asyncio

    import msgspec

    from service.app import create_app
    from tests.conftest import make_settings

    short = msgspec.structs.replace(make_settings(database, tmp_path), session_max_age_s=1)
    async with running(create_app(short), base_url="http://testserver.local") as c:
        await sign_in(c, "reviewer", demo.users["reviewer"])
        assert (await c.get("/ui/inbox")).status_code == 200
        await asyncio.sleep(1.2)
        r = await c.get("/ui/inbox")
        assert r.url.path == "/login"
        assert "会话已过期" in r.text
        assert "社区高龄老人探访关爱服务" not in r.text


async def test_the_street_office_records_a_workers_return_from_the_page(client, demo, db):
    secondment = await db.fetchval("select id from secondment_request where status = 'active' "
                                   "and home_community_code = '430121001001' limit 1")
    await sign_in(client, "street", demo.users["street"])
    page = await client.get(f"/ui/secondments/{secondment}")
    assert page.status_code == 200
    assert "登记返岗" in page.text
    r = await client.post(f"/ui/secondments/{secondment}/return",
                          data={"returned_on": "", "note": "按期返岗", "_csrf_token": csrf_of(page.text)},
                          follow_redirects=False)
    assert r.status_code == 303
    assert await db.fetchval("select status from secondment_request where id = $1", secondment) == "returned"
    after = await client.get(r.headers["location"])
    assert "已登记返岗" in after.text
    # the note and who recorded it are on the page, by name
    assert "返岗说明" in after.text
    assert "按期返岗" in after.text
    name = await db.fetchval("select display_name from web_user where username = 'street'")
    assert f"登记人 {name}" in after.text


async def test_no_return_is_offered_before_a_secondment_begins(client, demo, db):
    secondment = await db.fetchval("select id from secondment_request where status = 'active' "
                                   "and home_community_code = '430121001001' limit 1")
    await db.execute("update secondment_request set status = 'approved', start_date = current_date + 10, "
                     "end_date = current_date + 60 where id = $1", secondment)
    await sign_in(client, "street", demo.users["street"])
    page = await client.get(f"/ui/secondments/{secondment}")
    assert page.status_code == 200
    assert "登记返岗" not in page.text


async def test_the_audit_search_finds_a_person_by_name(client, demo, db, as_client):
    waiting = await _request_id(db, "社区高龄老人探访关爱服务")
    r = await client.post(f"/api/v1/admission-requests/{waiting}/start-review",
                          headers=as_client("county-reviewer-api"))
    assert r.status_code == 200, r.text
    await sign_in(client, "supervisor", demo.users["supervisor"])
    one = await client.get("/ui/audit", params={"person": "长沙县委社会工作部"})  # the reviewers' API client
    assert one.status_code == 200
    assert "admission.start_review" in one.text, one.text
    assert "没有符合条件的事件" not in one.text
    reviewer = await db.fetchval("select id::text from web_user where username = 'reviewer'")
    assert f'name="actor_id" value="{reviewer}"' in (await client.get("/ui/audit", params={"person": "李娟"})).text
    several = await client.get("/ui/audit", params={"person": "星沙街道"})
    links = re.findall(r'href="(/ui/audit\?[^"]*actor_id=[^"]+)"', several.text)
    assert len(links) == 2, several.text  # the street office's web user and its API client
    nobody = await client.get("/ui/audit", params={"person": "100%_不存在"})
    assert "没有找到此人" in nobody.text


async def test_closing_a_complaint_on_the_page_without_a_finding_says_so_in_chinese(client, demo, db):
    complaint = await db.fetchval("select id from complaint limit 1")
    await db.execute("update complaint set status = 'under_investigation' where id = $1", complaint)
    await sign_in(client, "supervisor", demo.users["supervisor"])
    page = await client.get(f"/ui/complaints/{complaint}")
    r = await client.post(f"/ui/complaints/{complaint}/status",
                          data={"status": "substantiated", "finding": "  ", "_csrf_token": csrf_of(page.text)})
    assert r.status_code == 422
    assert "须写明调查结论" in r.text
    assert "a finding is required" not in r.text
    assert await db.fetchval("select status from complaint where id = $1", complaint) == "under_investigation"
