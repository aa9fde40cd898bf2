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
