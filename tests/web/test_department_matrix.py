"""Every page of a department's own requests, opened by every demo web user (and by nobody): who gets through the
guard, who is refused. Written by hand from DOMAIN.md's "Who uses it", as tests/test_authorization_matrix.py is
for the API; a new route under /ui/department must be added here (the first test fails otherwise)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers.app import AppClient
from tests.helpers.department import FORM
from tests.helpers.web import csrf_of, sign_in

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


class Browsers:
    """One app, one test client, a cookie jar per user: signing in as another user swaps the jar, as a second
    browser on the same machine would. (Several test clients on one app would each run its lifespan.)"""

    def __init__(self, client: AppClient) -> None:
        self.client = client
        self.jars: dict[str | None, httpx.Cookies] = {None: httpx.Cookies()}
        self.current: str | None = None

    def be(self, name: str | None) -> AppClient:
        self.jars[self.current] = httpx.Cookies(self.client.cookies)
        self.client.cookies = httpx.Cookies(self.jars.get(name, httpx.Cookies()))
        self.current = name
        return self.client


async def _draft(client: AppClient) -> int:
    page = await client.get("/ui/department/requests/new")
    r = await client.post("/ui/department/requests/new", follow_redirects=False,
                          data={**FORM, "step": "draft", "_csrf_token": csrf_of(page.text)})
    assert r.status_code == 303, r.text[:300]
    return int(r.headers["location"].split("/")[-1].split("?")[0])


async def _secondment(client: AppClient, db: Any) -> int:
    """The street office asks for one of 松雅社区's workers, complete: it awaits the organisation department."""
    page = await client.get("/ui/department/secondments/new")
    workers = re.findall(r'name="workers" value="([^"]+)"', page.text)
    rows = await db.fetch("select worker_ref from community_worker where community_code = '430121001001' "
                          "and worker_ref = any($1::text[])", workers)
    assert rows, "no worker of 松雅社区 on the street office's form"
    r = await client.post("/ui/department/secondments/new", follow_redirects=False, data={
        "organ_name": "星沙街道办事处", "organ_level": "street", "form": "task_force",
        "home_community_code": "430121001001", "workers": rows[0]["worker_ref"], "purpose": "街道人口普查工作专班",
        "start_date": "2030-03-02", "end_date": "2030-05-30", "worker_consent": "1", "community_consent": "1",
        "_csrf_token": csrf_of(page.text)})
    assert r.status_code == 303, r.text[:500]
    return int(r.headers["location"].split("/")[-1].split("?")[0])


async def _call(client: AppClient, method: str, path: str, form: dict[str, Any] | None) -> int:
    if method == "GET":
        return (await client.get(path, follow_redirects=False)).status_code
    token = csrf_of((await client.get("/login")).text)
    r = await client.post(path, data={**(form or {}), "_csrf_token": token}, follow_redirects=False)
    if r.status_code == 303 and r.headers["location"] == "/login":
        return 401
    return r.status_code


@pytest.mark.parametrize("route", sorted(MATRIX))
async def test_who_passes_the_guard_on_a_department_page(route, client, demo, db):
    method, form, allowed = MATRIX[route]
    template_path = route.split(" ", 1)[1]
    browsers = Browsers(client)
    for name in USERS:
        r = await sign_in(browsers.be(name), name, demo.users[name])
        assert r.status_code == 303, name
    secondment = await _secondment(browsers.be("street"), db) if "{secondment}" in template_path else None

    async def path() -> str:
        values: dict[str, Any] = {"secondment": secondment}
        if "{draft}" in template_path:
            values["draft"] = await _draft(browsers.be("dept"))
        return template_path.format(**values)

    url = await path()
    got = await _call(browsers.be(None), method, url, form)
    assert got == 401 or (method == "GET" and got == 303), f"{route}: anonymous got {got}"
    wrong = []
    # refused callers first, so an allowed caller's change cannot hide a refusal
    for name in sorted(USERS, key=lambda n: n in allowed):
        url = await path()
        status = await _call(browsers.be(name), method, url, form)
        if name in allowed and status in (401, 403, 404):
            wrong.append(f"{name} should pass, got {status}")
        elif name not in allowed and status not in (403, 404):
            wrong.append(f"{name} should be refused, got {status}")
    assert not wrong, f"{route}: " + "; ".join(wrong)
