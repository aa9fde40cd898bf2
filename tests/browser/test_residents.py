"""The residents' pages in a real browser, at phone and desktop width: a resident finds the community, reads
its duty list, asks about a certificate (with JavaScript off, too), files a complaint and follows it with its
number and code; a department's refused check reads as a letter. axe-core on every page at both widths."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot, serious_accessibility_violations
from tests.conftest import bearer

SONGYA = "430121001001"


async def _accessible_at_both_widths(page: Page, name: str) -> None:
    await screenshot(page, name)
    for size in (PHONE, DESKTOP):
        await page.set_viewport_size(size)
        assert await serious_accessibility_violations(page) == [], f"{name} at {size['width']}px"
    # nothing wider than a phone's screen
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    await page.set_viewport_size(DESKTOP)


async def test_a_resident_finds_the_community_and_reads_its_duty_list(page, live_server):
    await page.set_viewport_size(PHONE)
    await page.goto(f"{live_server}/")
    async with page.expect_navigation():
        await page.get_by_role("link", name="查找社区：职责清单、证明、投诉").click()
    await page.get_by_label("社区名称").fill("松雅")
    async with page.expect_navigation():
        await page.get_by_role("button", name="查找").click()
    await _accessible_at_both_widths(page, "communities")
    async with page.expect_navigation():
        await page.get_by_role("link", name="松雅社区").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("松雅社区")
    for heading in ("本社区依法履行的职责", "协助政府的工作", "不得交由社区承担的事项", "社区不再出具的证明"):
        await expect(page.get_by_role("heading", level=2, name=re.compile(heading))).to_be_visible()
    await _accessible_at_both_widths(page, "duty")
    # the jump list leads to the section; its basis stays folded until asked for
    toc = page.get_by_role("navigation", name="清单目录")
    await toc.get_by_role("link", name=re.compile("社区不再出具的证明")).click()
    assert page.url.endswith("#cancelled")
    first = page.locator("#cancelled details").first
    await expect(first.locator("dd").first).to_be_hidden()
    await first.locator("summary").click()
    await expect(first).to_contain_text("民发〔2020〕")
    # the search box finds by the resident's words
    await page.get_by_label(re.compile("查找事项")).fill("调解")
    async with page.expect_navigation():
        await page.get_by_role("button", name="查找").click()
    await expect(page.get_by_text("调解民间纠纷")).to_be_visible()
    await expect(page.get_by_text("召集居民会议、居民代表会议")).to_have_count(0)


async def test_a_resident_asks_about_a_certificate_without_javascript(browser: Browser, live_server):
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/duty/{SONGYA}")
        async with page.expect_navigation():
            await page.get_by_role("link", name="社区能开这个证明吗？").click()
        await page.get_by_label("您要开什么证明？").fill("无犯罪记录证明")
        async with page.expect_navigation():
            await page.get_by_role("button", name="查询").click()
        answer = page.get_by_role("status")
        await expect(answer).to_contain_text("不予出具")
        section = page.locator("section.answer")
        await expect(section).to_contain_text("公安机关")
        await expect(section).to_contain_text("民发〔2020〕20号")
        await page.get_by_label("您要开什么证明？").fill("居住证明")
        async with page.expect_navigation():
            await page.get_by_role("button", name="查询").click()
        await expect(page.get_by_role("status")).to_contain_text("可以出具")
    finally:
        await context.close()


async def test_the_certificate_answer_is_accessible_at_both_widths(page, live_server):
    await page.goto(f"{live_server}/duty/{SONGYA}/certificates?q=出生证明")
    await expect(page.get_by_role("status")).to_contain_text("不予出具")
    await _accessible_at_both_widths(page, "certificate")


async def test_a_resident_files_a_complaint_and_follows_it(page, live_server):
    await page.set_viewport_size(PHONE)
    await page.goto(f"{live_server}/duty/{SONGYA}")
    async with page.expect_navigation():
        await page.get_by_role("link", name=re.compile("我要投诉")).click()
    await _accessible_at_both_widths(page, "complaint-form")
    # sent empty: each field says what it needs (the browser's own checks off, as an old phone would have)
    await page.locator("form.stack").evaluate("f => f.noValidate = true")
    async with page.expect_navigation():
        await page.get_by_role("button", name="提交投诉").click()
    await expect(page.get_by_text("请填写交办的部门。")).to_be_visible()
    await _accessible_at_both_widths(page, "complaint-form-errors")
    await page.get_by_label("交办的部门（必填）").fill("长沙县某局")
    await page.get_by_role("radio", name="工作群组").check()
    await page.get_by_label("事项名称（必填）").fill("要求社区每天在群里打卡")
    await page.get_by_label("简要说明（必填）").fill("上周起要求社区工作者每天在工作群里打卡截图。")
    async with page.expect_navigation():
        await page.get_by_role("button", name="提交投诉").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("投诉已受理")
    number = (await page.locator(".receipt-codes dd").nth(0).inner_text()).strip()
    code = (await page.locator(".receipt-codes dd").nth(1).inner_text()).strip()
    assert re.fullmatch(r"\d+", number)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    await _accessible_at_both_widths(page, "complaint-filed")
    async with page.expect_navigation():
        await page.get_by_role("link", name="查询办理进度").click()
    await expect(page.get_by_label("回执编号")).to_have_value(number)
    await page.get_by_label("查询码").fill(code.lower())
    async with page.expect_navigation():
        await page.get_by_role("button", name="查询").click()
    await expect(page.get_by_role("status")).to_have_text("已受理")
    await expect(page.get_by_text("要求社区每天在群里打卡")).to_be_visible()
    await _accessible_at_both_widths(page, "complaint-follow")


async def test_a_refused_check_reads_as_a_letter_the_community_hands_back(page, live_server, demo):
    async with httpx.AsyncClient(base_url=live_server) as api:
        r = await api.post("/api/v1/checks", headers=bearer(demo.tokens["civil-affairs"]), json={
            "community_code": SONGYA, "matter": {"title": "社区负责辖区违法建设强制拆除", "description": "由社区负责"},
            "role": "responsible"})
    assert r.status_code == 200, r.text
    assert r.json()["allowed"] is False
    for _ in range(50):
        await page.goto(f"{live_server}{r.json()['receipt_url']}")
        if await page.get_by_role("heading", level=1).count():
            break
        await page.wait_for_timeout(100)
    letter = page.locator("article.letter")
    await expect(letter).to_contain_text("长沙县民政局")
    await expect(letter).to_contain_text("不予准入")
    await expect(letter).to_contain_text("北京时间")
    await expect(letter).to_contain_text("关于加强社区工作者队伍建设的意见")
    # the reason in Chinese only, the rule by its Chinese name
    await expect(letter).to_contain_text("以社区为责任主体")
    await expect(letter).to_contain_text("民发〔2015〕136号")
    assert "demolition" not in await letter.locator(".facts").first.inner_text()
    await _accessible_at_both_widths(page, "receipt-letter")


async def test_the_community_records_a_refusal_from_a_receipt_and_sees_it_on_its_page(page, live_server, demo):
    from tests.browser.conftest import sign_in

    async with httpx.AsyncClient(base_url=live_server) as api:
        r = await api.post("/api/v1/checks", headers=bearer(demo.tokens["civil-affairs"]), json={
            "community_code": SONGYA, "matter": {"code": "P-004"}, "role": "assisting"})
    assert r.json()["allowed"] is False
    await sign_in(page, live_server, "community", demo.users["community"])
    for _ in range(50):
        await page.goto(f"{live_server}{r.json()['receipt_url']}")
        if await page.get_by_role("heading", level=1).count():
            break
        await page.wait_for_timeout(100)
    await _accessible_at_both_widths(page, "receipt-signed-in")
    async with page.expect_navigation():
        await page.get_by_role("button", name="登记拒绝").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("本社区")
    await expect(page.get_by_role("status")).to_have_text("拒绝已登记。")
    await expect(page.get_by_role("link", name="推销商业保险")).to_be_visible()
    await expect(page.get_by_text("社区工作者配备")).to_be_visible()
    await _accessible_at_both_widths(page, "community-page")
    # the receipt now says the refusal is on record
    await page.goto(f"{live_server}{r.json()['receipt_url']}")
    await expect(page.get_by_text(re.compile("本社区已于.*登记拒绝"))).to_be_visible()
