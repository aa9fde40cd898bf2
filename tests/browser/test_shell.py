"""Sign in, the person's name and role always visible, English by a visible switch, accessible pages."""

from __future__ import annotations

from tests.browser.conftest import screenshot, serious_accessibility_violations, sign_in


async def test_reviewer_signs_in_and_sees_name_role_and_county(page, live_server, demo):
    await page.goto(f"{live_server}/login")
    await screenshot(page, "login")
    assert await serious_accessibility_violations(page) == []
    await sign_in(page, live_server, "reviewer", demo.users["reviewer"])
    header = await page.locator("header").inner_text()
    assert "李娟" in header
    assert "县级审核人" in header
    assert "长沙县" in header
    await screenshot(page, "home")
    assert await serious_accessibility_violations(page) == []


async def test_wrong_password_says_so_in_chinese(page, live_server):
    await sign_in(page, live_server, "reviewer", "not-the-password")
    assert "用户名或密码错误" in await page.locator("[role=alert]").inner_text()


async def test_the_english_switch_translates_the_page(page, live_server, demo):
    await sign_in(page, live_server, "reviewer", demo.users["reviewer"])
    async with page.expect_navigation():
        await page.get_by_role("link", name="English").click()
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.get_by_role("button", name="Sign out").is_visible()
    async with page.expect_navigation():
        await page.get_by_role("link", name="中文").click()
    assert await page.get_by_role("button", name="退出").is_visible()


async def test_the_sign_in_form_works_from_the_keyboard(page, live_server, demo):
    await page.goto(f"{live_server}/login")
    await page.keyboard.press("Tab")  # skip link
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent")
    assert focused  # something focusable and labelled comes next
    await page.get_by_label("用户名").focus()
    await page.keyboard.type("reviewer")
    await page.keyboard.press("Tab")
    await page.keyboard.type(demo.users["reviewer"])
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "李娟" in await page.locator("header").inner_text()
