"""Signing in and out of the web UI: CSRF, lock-out, expiry, language."""

from __future__ import annotations

import asyncio
import re

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers.app import running
from tests.helpers.web import csrf_of, sign_in


async def test_sign_in_shows_name_role_and_county(client, demo):
    r = await sign_in(client, "reviewer", demo.users["reviewer"])
    assert r.status_code == 303
    home = await client.get("/")
    assert "县委社会工作部 审核员 李娟" in home.text
    assert "县级审核人" in home.text
    assert "长沙县" in home.text


async def test_session_cookie_is_httponly_and_samesite(client, demo):
    r = await sign_in(client, "reviewer", demo.users["reviewer"])
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("mr_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie


async def test_secure_cookie_outside_development(database, tmp_path, demo):
    settings = make_settings(database, tmp_path)
    import msgspec

    production = msgspec.structs.replace(settings, dev_mode=False)
    async with running(create_app(production), base_url="https://registry.example") as c:
        r = await sign_in(c, "reviewer", demo.users["reviewer"])
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("mr_session="))
        assert "Secure" in cookie


async def test_a_form_post_without_the_csrf_token_is_refused(client, demo):
    await client.get("/login")
    r = await client.post("/login", data={"username": "reviewer", "password": demo.users["reviewer"]})
    assert r.status_code == 403


async def test_wrong_password_is_refused_and_recorded(client, db):
    r = await sign_in(client, "reviewer", "wrong-password-123")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    row = await db.fetchrow("select * from audit_event where action = 'auth.login' order by id desc limit 1")
    assert row["outcome"] == "denied"
    assert "wrong-password-123" not in str(dict(row))


async def test_failures_slow_down_the_address_and_say_the_same_for_names_that_do_not_exist(client, demo):
    answers = {}
    for name in ("street", "nobody-by-this-name"):
        for _ in range(2):
            assert (await sign_in(client, name, "not-the-password")).status_code == 401
        # a third try at once waits, even with the right password, and is told only to wait
        r = await sign_in(client, name, demo.users.get(name, "x"))
        answers[name] = (r.status_code, re.search(r'role="alert">([^<]+)<', r.text).group(1))
        assert r.headers["retry-after"].isdigit()
    assert answers["street"] == answers["nobody-by-this-name"] == (429, "尝试次数过多，请稍后再试。")


async def _fail(db, username: str, client: bytes, times: int, settings) -> list[str | None]:
    from service.identity import service

    reasons = []
    for _ in range(times):
        # as if the wait of the back-off had passed each time
        await db.execute("update login_failure set last_failed_at = last_failed_at - interval '1 hour'")
        result = await service.check_login(db, username=username, password="not-the-password", client=client,
                                           max_failures=settings.login_max_failures,
                                           lockout_s=settings.login_lockout_s)
        reasons.append(result.reason)
    return reasons


async def test_a_stranger_failing_from_elsewhere_cannot_lock_the_person_out(db, demo, settings):
    from service.identity import service

    stranger = service.client_key(settings.token_pepper, "203.0.113.9")
    person = service.client_key(settings.token_pepper, "198.51.100.7")
    reasons = await _fail(db, "street", stranger, settings.login_max_failures, settings)
    assert reasons[-1].endswith("address now blocked for this name")
    await db.execute("update login_failure set last_failed_at = last_failed_at - interval '1 hour'")
    blocked = await service.check_login(db, username="street", password=demo.users["street"], client=stranger,
                                        max_failures=settings.login_max_failures, lockout_s=settings.login_lockout_s)
    assert blocked.user_id is None
    assert blocked.retry_after_s
    # the person, from their own address, signs in as ever
    ok = await service.check_login(db, username="street", password=demo.users["street"], client=person,
                                   max_failures=settings.login_max_failures, lockout_s=settings.login_lockout_s)
    assert ok.user_id is not None
    # and the address is never stored in clear
    assert "203.0.113.9" not in str([dict(r) for r in await db.fetch("select * from login_failure")])


async def test_an_expired_session_says_so(database, tmp_path, demo):
    import msgspec

    short = msgspec.structs.replace(make_settings(database, tmp_path), session_max_age_s=1)
    async with running(create_app(short), base_url="http://testserver.local") as c:
        await sign_in(c, "reviewer", demo.users["reviewer"])
        assert "李娟" in (await c.get("/")).text
        await asyncio.sleep(1.2)
        home = await c.get("/")
        assert "会话已过期" in home.text
        assert "李娟" not in home.text


async def test_sign_out_ends_the_session(client, demo):
    await sign_in(client, "reviewer", demo.users["reviewer"])
    home = await client.get("/")
    r = await client.post("/logout", data={"_csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert "李娟" not in (await client.get("/")).text


async def test_a_copied_session_cookie_stops_working_after_sign_out(settings, demo):
    async with running(create_app(settings), base_url="http://testserver.local") as browser, \
            running(create_app(settings), base_url="http://testserver.local") as thief:
        await sign_in(browser, "reviewer", demo.users["reviewer"])
        thief.cookies.set("mr_session", browser.cookies["mr_session"], domain="testserver.local")
        assert "李娟" in (await thief.get("/")).text
        home = await browser.get("/")
        await browser.post("/logout", data={"_csrf_token": csrf_of(home.text)}, follow_redirects=False)
        # the other process (a second app on the same database) forgets the session within a second
        for _ in range(40):
            if "李娟" not in (await thief.get("/")).text:
                break
            await asyncio.sleep(0.05)
        assert "李娟" not in (await thief.get("/")).text
        # signing in again works, with a new session
        await sign_in(browser, "reviewer", demo.users["reviewer"])
        assert "李娟" in (await browser.get("/")).text


async def test_english_is_one_click_away(client):
    r = await client.get("/lang/en", headers={"referer": "http://testserver.local/login"}, follow_redirects=False)
    assert r.status_code == 303
    page = await client.get("/login")
    assert "Sign in" in page.text
    assert 'lang="en"' in page.text


async def test_pages_carry_a_content_security_policy_without_inline_script(client):
    r = await client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in r.text
