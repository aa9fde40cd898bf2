"""Idempotency-Key: a retried submission returns the first result, across processes."""

from __future__ import annotations

import asyncio

from service.app import create_app
from tests.admission.conftest import submission
from tests.helpers.app import running

BASE = "/api/v1/admission-requests"


async def test_a_retry_with_the_same_key_returns_the_first_result_even_from_another_process(client, as_client,
                                                                                             settings, db):
    headers = {**as_client("civil-affairs"), "Idempotency-Key": "retry-001"}
    body = submission()
    first = await client.post(BASE, headers=headers, json=body)
    assert first.status_code == 201
    async with running(create_app(settings), base_url="http://testserver.local") as other:
        again = await other.post(BASE, headers=headers, json=body)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await db.fetchval("select count(*) from admission_request where title = $1", body["title"]) == 1


async def test_the_same_key_with_a_different_body_is_422(client, as_client):
    headers = {**as_client("civil-affairs"), "Idempotency-Key": "retry-002"}
    assert (await client.post(BASE, headers=headers, json=submission())).status_code == 201
    r = await client.post(BASE, headers=headers, json=submission())
    assert r.status_code == 422
    assert r.json()["invalid_params"][0]["name"] == "Idempotency-Key"


async def test_keys_belong_to_their_client(client, as_client, db):
    body = submission()
    a = await client.post(BASE, headers={**as_client("civil-affairs"), "Idempotency-Key": "k"}, json=body)
    b = await client.post(BASE, headers={**as_client("housing-bureau"), "Idempotency-Key": "k"}, json=body)
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


async def test_concurrent_retries_create_one_request(client, as_client, db):
    headers = {**as_client("civil-affairs"), "Idempotency-Key": "retry-003"}
    body = submission()
    results = await asyncio.gather(*(client.post(BASE, headers=headers, json=body) for _ in range(3)))
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert await db.fetchval("select count(*) from admission_request where title = $1", body["title"]) == 1
