"""Browser tests: a real server (granian, as in production) and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from service.core.settings import PROJECT_ROOT
from tests.conftest import PEPPER, SECRET

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
SCREENSHOTS = PROJECT_ROOT / "tests" / "artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(database: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database, "MR_DATA_DIR": str(tmp_path), "MR_TOKEN_PEPPER": PEPPER,
           "MR_SECRET_KEY": SECRET, "MR_LOG_LEVEL": "WARNING", "MR_DEV": "1"}
    log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=env,
                              cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise AssertionError("server did not become ready:\n" + log.read()[-3000:])
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    assert HAVE_CHROMIUM, "Debian's chromium is needed: `make test` installs it (apt-get install chromium)"
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        await b.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
    p = await context.new_page()
    yield p
    await context.close()


async def screenshot(page: Page, name: str) -> None:
    """Save the page at desktop and phone width, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def sign_in(page: Page, base: str, username: str, password: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name="登录").click()


async def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's violations of serious or critical impact on the current page."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]
