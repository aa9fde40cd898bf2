"""Decision documents in a real browser: the reviewer from sign-in to a printed decision (the page, its print
layout, the PDF's first page rendered as an image by poppler's pdftoppm), the organisation department's
secondment decision, and the public verification page; screenshots and axe on each."""

from __future__ import annotations

import asyncio
import base64
import shutil
import subprocess
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, screenshot, serious_accessibility_violations, sign_in

PDFTOPPM = shutil.which("pdftoppm")


async def _looked_at(page: Page, name: str) -> None:
    await screenshot(page, name)
    assert await serious_accessibility_violations(page) == [], name


async def _first_page_as_image(page: Page, pdf: bytes, tmp_path: Path, name: str) -> dict[str, int]:
    """pdftoppm draws the PDF's first page; the browser opens the PNG and counts its ink (dark pixels) and the
    red of the issuer's line."""
    assert PDFTOPPM, "poppler-utils' pdftoppm is needed: `make browser` installs it"
    (tmp_path / "doc.pdf").write_bytes(pdf)
    args = [PDFTOPPM, "-r", "72", "-png", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "doc.pdf"),
            str(tmp_path / "page")]
    await asyncio.to_thread(subprocess.run, args, check=True, timeout=60)
    png = (tmp_path / "page.png").read_bytes()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}-pdf-page1.png").write_bytes(png)
    await page.set_content(f'<img id="p" alt="" src="data:image/png;base64,{base64.b64encode(png).decode()}">')
    return await page.evaluate("""() => {
        const img = document.getElementById('p');
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let dark = 0, red = 0, redTop = c.height;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i] < 100 && d[i + 1] < 100 && d[i + 2] < 100) dark++;
            if (d[i] > 140 && d[i + 1] < 80 && d[i + 2] < 80) { red++; redTop = Math.min(redTop, (i / 4) / c.width); }
        }
        return {width: c.width, height: c.height, dark, red, redTop: Math.floor(redTop)};
    }""")


async def test_reviewer_from_sign_in_to_a_printed_decision(page, live_server, demo, tmp_path):
    await sign_in(page, live_server, "reviewer", demo.users["reviewer"])
    async with page.expect_navigation():
        await page.get_by_role("link", name="老旧小区改造居民意见征集").click()
    await page.get_by_role("radio", name="驳回").check()
    await page.get_by_label("审核理由（必填）").fill("该事项属于住建部门本职工作，不宜交由社区承担。")
    async with page.expect_navigation():
        await page.get_by_role("button", name="下一步：确认").click()
    async with page.expect_navigation():
        await page.get_by_role("button", name="确认并提交").click()
    await expect(page.locator(".decision-doc")).to_contain_text("不予准入告知书")
    number = (await page.locator(".decision-doc span").inner_text()).split(" ", 1)[1]
    assert number.startswith("长社工准〔")
    assert number.endswith("号")

    async with page.expect_navigation():
        await page.get_by_role("link", name="查看并打印").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("不予准入告知书")
    await expect(page.locator(".doc-number")).to_have_text(number)
    await expect(page.locator(".doc-issuer")).to_have_text("长沙县委社会工作部")
    await expect(page.locator("main")).to_contain_text("该事项属于住建部门本职工作，不宜交由社区承担。")
    await expect(page.locator(".doc-verify img")).to_be_visible()
    await _looked_at(page, "decision-document")
    # printed: the page's tools are gone, the document remains
    await page.emulate_media(media="print")
    await expect(page.locator(".doc-tools")).to_be_hidden()
    await expect(page.locator(".doc-title")).to_be_visible()
    await page.emulate_media(media="screen")

    pdf_href = await page.get_by_role("link", name="下载PDF").get_attribute("href")
    verify_href = await page.locator(".doc-verify a").get_attribute("href")
    r = await page.request.get(f"{live_server}{pdf_href}")
    assert r.status == 200
    assert r.headers["content-type"] == "application/pdf"
    seen = await _first_page_as_image(page, await r.body(), tmp_path, "decision-rejection")
    assert seen["width"] > 500
    assert seen["height"] > 800
    assert seen["dark"] > 5000, seen  # the text is drawn, not boxes of nothing
    assert seen["red"] > 300, seen
    assert seen["redTop"] < seen["height"] // 5, seen  # the issuer's red line on top

    # anyone holding the paper: the verification page, without signing in
    await page.context.clear_cookies()
    await page.goto(f"{live_server}{verify_href}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("核验决定文书")
    await expect(page.get_by_role("status")).to_contain_text("本文书与审计日志中的决定记录一致")
    await expect(page.locator("main")).to_contain_text(number)
    await _looked_at(page, "decision-verify")


async def test_organisation_department_prints_its_secondment_decision(page, live_server, demo, db, tmp_path):
    rejected = await db.fetchval("select id from secondment_request where purpose = '街道文明创建迎检材料准备'")
    await sign_in(page, live_server, "orgdept", demo.users["orgdept"])
    await page.goto(f"{live_server}/ui/secondments/{rejected}")
    async with page.expect_navigation():
        await page.get_by_role("link", name="查看并打印").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("借调审批意见")
    await expect(page.locator(".doc-issuer")).to_have_text("长沙县委组织部")
    await expect(page.locator("main")).to_contain_text("不同意借调")
    await _looked_at(page, "secondment-decision")
    r = await page.request.get(f"{live_server}/ui/secondments/{rejected}/document.pdf")
    seen = await _first_page_as_image(page, await r.body(), tmp_path, "secondment-decision")
    assert seen["dark"] > 3000, seen
    assert seen["red"] > 300, seen
