"""Every page of a department's own requests, opened by every demo web user (and by nobody): who gets through the
guard, who is refused. Written by hand from DOMAIN.md's "Who uses it", as tests/test_authorization_matrix.py is
for the API; a new route under /ui/department must be added here (the first test fails otherwise)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.conftest import drop_database, fresh_database, make_settings
from tests.web.test_department_pages import FORM
from tests.web.test_sign_in import csrf_of, sign_in

USERS = ("admin", "reviewer", "orgdept", "supervisor", "street", "community", "reviewer-wc", "dept")
SUBMITTERS = {"dept", "street"}  # admission_request submit: departments and street offices
ANY = set(USERS)  # a secondment may be asked by anyone signed in (a county organ is refused and counted)
# the secondment in 松雅社区 of the street office: read by everyone in the community's chain but departments
SECONDMENT_READERS = {"admin", "reviewer", "orgdept", "supervisor", "street", "community"}
SECONDMENT = {"organ_name": "星沙街道办事处", "organ_level": "street", "form": "secondment"}  # incomplete: 422

# path (with {draft}: a draft of dept's, made anew for each call; {secondment}: a pending one in 松雅社区),
# method, form, who passes the guard. Passing: anything but 401/403/404 (a 422 for an incomplete form passes).
MATRIX: dict[str, tuple[str, dict[str, Any] | None, set[str]]] = {
    "GET /ui/department": ("GET", None, SUBMITTERS),
    "GET /ui/department/requests/new": ("GET", None, SUBMITTERS),
    "POST /ui/department/requests/new": ("POST", {**FORM, "step": "screen"}, SUBMITTERS),
    "GET /ui/department/requests/{draft}": ("GET", None, {"dept"}),
    "GET /ui/department/requests/{draft}/edit": ("GET", None, {"dept"}),
    "POST /ui/department/requests/{draft}/edit": ("POST", {**FORM, "step": "screen"}, {"dept"}),
    "POST /ui/department/requests/{draft}/submit": ("POST", {}, {"dept"}),
    "POST /ui/department/requests/{draft}/withdraw": ("POST", {"reason": "矩阵"}, {"dept"}),
    "GET /ui/department/secondments/new": ("GET", None, ANY),
    "POST /ui/department/secondments/new": ("POST", SECONDMENT, ANY),
    "GET /ui/department/secondments/{secondment}": ("GET", None, SECONDMENT_READERS),
    "POST /ui/department/secondments/{secondment}/withdraw": ("POST", {"reason": ""}, {"street"}),
}


def test_every_department_page_is_in_the_matrix(tmp_path):
    app = create_app(make_settings(None, tmp_path))
    ours = set()
    for route in app.routes:
        if route.path.startswith("/ui/department"):
            for method in route.methods - {"HEAD", "OPTIONS"}:  # type: ignore[attr-defined]
                path = re.sub(r"{request_id:int}", "{id}", route.path)
                ours.add(f"{method} {path}")
    listed = {re.sub(r"{(draft|secondment)}", "{id}", name) for name in MATRIX}
    assert ours == listed, f"not in MATRIX: {sorted(ours - listed)}; not a route: {sorted(listed - ours)}"


async def _draft(client: AsyncTestClient[Any]) -> int:
    page = await client.get("/ui/department/requests/new")
    r = await client.post("/ui/department/requests/new", follow_redirects=False,
                          data={**FORM, "step": "draft", "_csrf_token": csrf_of(page.text)})
    assert r.status_code == 303, r.text[:300]
    return int(r.headers["location"].split("/")[-1].split("?")[0])


async def _call(client: AsyncTestClient[Any], method: str, path: str, form: dict[str, Any] | None) -> int:
    if method == "GET":
        return (await client.get(path, follow_redirects=False)).status_code
    token = csrf_of((await client.get("/login")).text)
    r = await client.post(path, data={**(form or {}), "_csrf_token": token}, follow_redirects=False)
    if r.status_code == 303 and r.headers["location"] == "/login":
        return 401
    return r.status_code


@pytest.mark.parametrize("route", sorted(MATRIX))
async def test_who_passes_the_guard_on_a_department_page(route, server_url, template, tmp_path):
    method, form, allowed = MATRIX[route]
    template_path = route.split(" ", 1)[1]
    url = await fresh_database(server_url)
    try:
        app = create_app(make_settings(url, tmp_path))
        clients: dict[str, AsyncTestClient[Any]] = {}
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as anonymous:
            for name in USERS:
                clients[name] = AsyncTestClient(app=app, base_url="http://testserver.local")
                await clients[name].__aenter__()
                r = await sign_in(clients[name], name, template.users[name])
                assert r.status_code == 303, name
            try:
                from service.core.db import connect

                conn = await connect(url)
                secondment = await conn.fetchval("select id from secondment_request where status = "
                                                 "'pending_approval' and home_community_code = '430121001001' "
                                                 "order by id limit 1")
                await conn.close()

                async def path() -> str:
                    values = {"secondment": secondment}
                    if "{draft}" in template_path:
                        values["draft"] = await _draft(clients["dept"])
                    return template_path.format(**values)

                got = await _call(anonymous, method, await path(), form)
                assert got == 401 or (method == "GET" and got == 303), f"{route}: anonymous got {got}"
                wrong = []
                # refused callers first, so an allowed caller's change cannot hide a refusal
                for name in sorted(USERS, key=lambda n: n in allowed):
                    status = await _call(clients[name], method, await path(), form)
                    if name in allowed and status in (401, 403, 404):
                        wrong.append(f"{name} should pass, got {status}")
                    elif name not in allowed and status not in (403, 404):
                        wrong.append(f"{name} should be refused, got {status}")
                assert not wrong, f"{route}: " + "; ".join(wrong)
            finally:
                for c in clients.values():
                    await c.__aexit__(None, None, None)
    finally:
        await drop_database(server_url, url)
