"""Callbacks go only to https URLs at public addresses, checked when registered and at each delivery,
and are signed as Standard Webhooks sign them, so a receiver can verify them and refuse replays."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import msgspec
import pytest

from service.app import create_app
from service.core.db import create_pool
from service.notifications.delivery import DeliveryWorker
from service.notifications.outbox import enqueue
from tests.helpers.app import running
from tests.helpers.callbacks import Receiver

REFUSED_URLS = [
    "http://hooks.example.org/callback",  # not https
    "https://127.0.0.1/callback",  # loopback
    "https://localhost:8443/callback",  # a name for the loopback
    "https://[::1]/callback",
    "https://10.0.0.5/callback",  # private
    "https://192.168.1.20/callback",
    "https://169.254.169.254/latest/meta-data",  # link-local: the cloud metadata service
    "https://[::ffff:127.0.0.1]/callback",  # loopback in IPv6 clothing
    "https://224.0.0.1/callback",  # multicast
    "https://user:secret@hooks.example.org/callback",  # credentials in the URL
]


@pytest.fixture
async def production(settings):
    async with running(create_app(msgspec.structs.replace(settings, dev_mode=False))) as c:
        yield c


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_a_callback_that_is_not_https_to_a_public_address_is_refused_when_registered(
        url, production, as_client, db):
    before = await db.fetchval("select callback_url from api_client where name = 'civil-affairs'")
    r = await production.put("/api/v1/callback", headers=as_client("civil-affairs"), json={"url": url})
    assert r.status_code == 422, r.text
    param = r.json()["invalid_params"][0]
    assert param["name"] == "url"
    assert param["rule"] == "callback.public-https"
    assert await db.fetchval("select callback_url from api_client where name = 'civil-affairs'") == before


async def test_a_client_created_with_a_private_callback_is_refused(production, as_client, db):
    r = await production.post("/api/v1/clients", headers=as_client("province-admin"), json={
        "name": "ssrf-client", "organisation": "某局", "organisation_level": "county", "jurisdiction_code": "430121",
        "callback_url": "https://169.254.169.254/latest"})
    assert r.status_code == 422, r.text
    assert r.json()["invalid_params"][0]["name"] == "callback_url"
    assert await db.fetchval("select count(*) from api_client where name = 'ssrf-client'") == 0


async def test_a_delivery_to_a_url_that_turned_private_is_not_sent(database, db):
    # registered while it pointed elsewhere, say: the address is checked again right before each attempt
    pool = await create_pool(database, min_size=1, max_size=2)
    worker = DeliveryWorker(pool, development=False)
    try:
        async with Receiver() as receiver:
            https_url = receiver.url.replace("http://", "https://")
            client_id = await db.fetchval("update api_client set callback_url = $1, callback_secret = 's3cret' "
                                          "where name = 'civil-affairs' returning id", https_url)
            outbox_id = await enqueue(db, client_id=client_id, topic="admission_request.status",
                                      subject_type="admission_request", subject_id="1", payload={"status": "x"})
            assert await worker.run_once() == 1
            assert receiver.received == []
        attempt = await db.fetchrow("select * from delivery_attempt where outbox_id = $1", outbox_id)
        assert attempt["status_code"] is None
        assert attempt["error"].startswith("未投递：回调地址须指向公网地址")
    finally:
        await worker.stop()
        await pool.close()


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes, *, tolerance_s: int = 300) -> bool:
    """What a department's receiver does (the README's example): the Standard Webhooks check."""
    message_id, timestamp = headers["webhook-id"], int(headers["webhook-timestamp"])
    if abs(time.time() - timestamp) > tolerance_s:
        return False  # too old or from the future: a replay
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + body,
                                         hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, sig.partition(",")[2])
               for sig in headers["webhook-signature"].split() if sig.startswith("v1,"))


async def test_deliveries_are_signed_as_standard_webhooks(client, as_client, db):
    async with Receiver() as receiver:
        r = await client.put("/api/v1/callback", headers=as_client("civil-affairs"), json={"url": receiver.url})
        assert r.status_code == 200, r.text
        secret = r.json()["standard_webhooks_secret"]
        assert secret.startswith("whsec_")
        client_id = await db.fetchval("select id from api_client where name = 'civil-affairs'")
        await enqueue(db, client_id=client_id, topic="admission_request.status", subject_type="admission_request",
                      subject_id="1", payload={"status": "x"})
        await db.execute("select notify_change('outbox')")
        await receiver.wait_for(1)
    headers, body = receiver.received[0]
    assert verify_standard_webhook(secret, headers, body)
    # the same body replayed with another id, or under another key, does not verify
    assert not verify_standard_webhook(secret, {**headers, "webhook-id": "mr_other"}, body)
    assert not verify_standard_webhook("whsec_" + base64.b64encode(b"wrong").decode(), headers, body)
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)}
    assert not verify_standard_webhook(secret, stale, body)
    # receivers written for the older header still verify
    legacy = r.json()["secret"]
    assert headers["x-mr-signature"] == "sha256=" + hmac.new(legacy.encode(), body, hashlib.sha256).hexdigest()
