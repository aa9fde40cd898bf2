"""Signing in to the web UI as a browser does: the form's CSRF token, then the password."""

from __future__ import annotations

import re


def csrf_of(html: str) -> str:
    m = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the form"
    return m.group(1)


async def sign_in(client, username: str, password: str):
    page = await client.get("/login")
    return await client.post("/login", data={"username": username, "password": password,
                                             "_csrf_token": csrf_of(page.text)}, follow_redirects=False)


async def approve_on_page(client, request_id: int, *, reason: str, effective_from: str = ""):
    """A reviewer's approval through the request page: the form, the confirmation page, the decision. The
    decision's answer (a 303 to the request page when it stands)."""
    page = await client.get(f"/ui/admission/{request_id}")
    form = {"outcome": "approved", "reason": reason, "effective_from": effective_from,
            "_csrf_token": csrf_of(page.text)}
    confirm = await client.post(f"/ui/admission/{request_id}/confirm", data=form)
    assert confirm.status_code == 200, confirm.text[:500]
    form["_csrf_token"] = csrf_of(confirm.text)
    return await client.post(f"/ui/admission/{request_id}/decision", data=form, follow_redirects=False)
