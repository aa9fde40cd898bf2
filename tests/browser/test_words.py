"""In a real browser: a flagged approval acknowledged on its confirmation page, a bad address answered by a
Chinese page, a returned secondment 已返岗, sign-in landing on the inbox; each page passes axe."""

from __future__ import annotations

import datetime

import httpx
from playwright.async_api import expect

from service.workers.service import today
from tests.admission.conftest import submission
from tests.browser.conftest import screenshot, serious_accessibility_violations, sign_in


async def test_the_reviewer_acknowledges_every_finding_before_approving_a_flagged_request(
        page, live_server, demo):
    body = submission(resources={}, start_date=(today() + datetime.timedelta(days=1)).isoformat())
    async with httpx.AsyncClient(base_url=live_server) as api:
        r = await api.post("/api/v1/admission-requests", json=body,
                           headers={"Authorization": f"Bearer {demo.tokens['civil-affairs']}"})
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    await sign_in(page, live_server, "reviewer", demo.users["reviewer"])
    assert page.url.endswith("/ui/inbox")  # a reviewer lands on its work
    await page.goto(f"{live_server}/ui/admission/{request_id}")
    await page.get_by_role("radio", name="批准").check()
    await page.get_by_label("审核理由（必填）").fill("县财政另行保障经费，同意。")
    async with page.expect_navigation():
        await page.get_by_role("button", name="下一步：确认").click()
    await expect(page.get_by_role("heading", name="自动审查提示（2）")).to_be_visible()
    await expect(page.locator("ul.findings li")).to_have_count(2)
    await screenshot(page, "admission-confirm-flagged")
    assert await serious_accessibility_violations(page) == []
    box = page.get_by_label("我已阅读以上全部自动审查提示，并在作出决定时予以考虑。")
    await expect(box).not_to_be_checked()
    await box.check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="确认并提交").click()
    await expect(page.get_by_role("status")).to_contain_text("已批准")


async def test_a_bad_date_in_the_address_answers_with_a_chinese_page_and_a_way_back(page, live_server, demo):
    await sign_in(page, live_server, "reviewer", demo.users["reviewer"])
    await page.goto(f"{live_server}/ui/lists/430121?as_of=2026-13-45")
    await expect(page.get_by_role("heading", level=1)).to_have_text("输入有误")
    await expect(page.get_by_role("alert")).to_contain_text("网址中的“日期”无效")
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    await screenshot(page, "error-bad-date")
    assert await serious_accessibility_violations(page) == []
    async with page.expect_navigation():
        await page.get_by_role("link", name="重新打开本页").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("现行清单")


async def test_a_returned_secondment_reads_back_at_post(page, live_server, demo):
    await sign_in(page, live_server, "street", demo.users["street"])
    assert page.url.endswith("/ui/secondments")
    await page.get_by_role("link", name="#", exact=False).first.wait_for()
    rows = page.locator("tbody tr", has_text="借调中")
    async with page.expect_navigation():
        await rows.first.get_by_role("link").click()
    async with page.expect_navigation():
        await page.get_by_role("button", name="登记返岗").click()
    await expect(page.locator(".status-line .tag")).to_have_text("已返岗")
    await expect(page.get_by_text("已退回修改")).to_have_count(0)
    await screenshot(page, "secondment-returned")
    assert await serious_accessibility_violations(page) == []
