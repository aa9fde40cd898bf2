"""A department clerk and a street office on the web, in a real browser: the admission request checked before
it is sent (a disguised prohibition found and cited), saved as a draft, submitted and followed; a street
office's secondment request; screenshots at phone and desktop width, and no serious accessibility fault."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot, serious_accessibility_violations, sign_in
from tests.helpers.department import FORM


async def _looked_at(page: Page, name: str) -> None:
    await screenshot(page, name)
    assert await serious_accessibility_violations(page) == [], name


async def _no_codes(page: Page) -> None:
    """Places, organisations and people are shown by their names: no jurisdiction code (six or more digits)."""
    text = await page.locator("main").inner_text()
    assert not re.search(r"\d{6,}", text), re.findall(r".{0,20}\d{6,}.{0,10}", text)


async def _fill_request(page: Page, *, title: str, content: str) -> None:
    await page.get_by_label("事项类别（必填）").select_option(FORM["list"])
    await page.get_by_label("事项名称（必填）").fill(title)
    await page.get_by_label("事项内容").fill(content)
    await page.locator(f'input[name="targets"][value="{FORM["targets"][0]}"]').check()
    await page.get_by_role("radio", name="协助（社区协助部门开展工作）").check()
    await page.get_by_label("法律或政策依据（文件名称）").fill(FORM["basis"])
    await page.get_by_label("经费（元）").fill(FORM["funding_yuan"])
    await page.get_by_label("经费来源").fill(FORM["funding_source"])
    await page.get_by_label("开始日期（必填）").fill(FORM["start_date"])
    await page.get_by_label("为什么需要社区承担（必填）").fill(FORM["justification"])


async def test_a_clerk_checks_a_request_sees_the_prohibition_cited_then_drafts_and_submits(page, live_server, demo):
    await sign_in(page, live_server, "dept", demo.users["dept"])
    await expect(page.get_by_role("heading", level=1)).to_have_text("我的申请")
    async with page.expect_navigation():
        await page.get_by_role("link", name="填写新的准入申请").click()
    await expect(page.get_by_text("长沙县民政局", exact=True)).to_be_visible()

    # declared "assisting", but the text makes the community the responsible party, with a power to order
    await _fill_request(page, title="沿街商铺燃气安全隐患排查整治",
                        content="各社区作为辖区燃气安全的属地责任主体，对检查发现问题的商户责令停业整改。")
    async with page.expect_navigation():
        await page.get_by_role("button", name="检查（不提交）").click()
    result = page.get_by_role("region", name="自动审查结果（尚未提交）")
    await expect(result).to_be_visible()
    refused = result.locator("li.finding-refuse").first
    await expect(refused).to_be_visible()
    await expect(refused).to_contain_text("关于加强社区工作者队伍建设的意见")  # the document, by its title
    await expect(refused.locator("mark").first).not_to_be_empty()  # the words that were read
    await expect(page.get_by_label("事项名称（必填）")).to_have_value("沿街商铺燃气安全隐患排查整治")
    await _looked_at(page, "department-check")

    await page.get_by_label("事项名称（必填）").fill(FORM["title"])
    await page.get_by_label("事项内容").fill(FORM["content"])
    async with page.expect_navigation():
        await page.get_by_role("button", name="保存草稿").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(FORM["title"])
    await expect(page.get_by_text("这是草稿：审核部门看不到它，提交后才开始办理。")).to_be_visible()
    async with page.expect_navigation():
        await page.get_by_role("region", name="下一步").get_by_role("button", name="提交").click()
    await expect(page.get_by_text("这是草稿")).to_have_count(0)
    await expect(page.get_by_role("heading", name="办理记录")).to_be_visible()
    await _no_codes(page)
    await _looked_at(page, "department-request")

    async with page.expect_navigation():
        await page.get_by_role("link", name="我的申请").first.click()
    row = page.locator("tbody tr", has_text=FORM["title"]).first
    await expect(row).to_be_visible()
    await expect(row).not_to_contain_text("尚未提交")
    await _looked_at(page, "department-index")


async def test_a_street_office_asks_for_a_secondment_and_sees_who_decides(page, live_server, demo):
    await sign_in(page, live_server, "street", demo.users["street"])
    await page.goto(f"{live_server}/ui/department/secondments/new")
    await expect(page.get_by_role("heading", level=1)).to_have_text("填写借调申请")
    await expect(page.get_by_label("借用单位（必填）")).to_have_value("星沙街道办事处")
    await page.get_by_role("radio", name="工作专班").check()
    await page.get_by_label("社区工作者所在社区（必填）").select_option(label="松雅社区")
    group = page.locator("fieldset p.hint", has_text="松雅社区")
    await group.locator("xpath=following-sibling::label[1]//input").check()
    await page.get_by_label("借调事由（必填）").fill("街道人口普查工作专班")
    await page.get_by_label("开始日期（必填）").fill("2030-03-02")
    await page.get_by_label("结束日期（必填）").fill("2030-05-30")
    await page.get_by_role("checkbox", name="本人同意").check()
    await page.get_by_role("checkbox", name="所在社区同意").check()
    await _looked_at(page, "department-secondment-form")
    async with page.expect_navigation():
        await page.get_by_role("button", name="提交借调申请").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("借调申请：星沙街道办事处")
    await expect(page.get_by_text("县委组织部").first).to_be_visible()
    await expect(page.get_by_role("button", name="撤回申请")).to_be_visible()
    await _no_codes(page)
    await _looked_at(page, "department-secondment")
