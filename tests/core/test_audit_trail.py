"""The audit trail is append-only and records who did what."""

from __future__ import annotations

import asyncpg
import pytest


async def test_audit_events_cannot_be_updated_deleted_or_truncated(db):
    event_id = await db.fetchval("select max(id) from audit_event")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.execute("update audit_event set action = 'x' where id = $1", event_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.execute("delete from audit_event where id = $1", event_id)
    # decision documents reference their audit events, so a plain TRUNCATE is refused by the foreign key
    # already; CASCADE, which would empty both, is what the trigger must stop
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.execute("truncate audit_event cascade")


async def test_a_change_records_actor_subject_jurisdiction_and_digest(client, as_client, db):
    r = await client.patch("/api/v1/jurisdictions/430121001002", headers=as_client("province-admin"),
                           json={"population": 12000})
    assert r.status_code == 200
    row = await db.fetchrow("select * from audit_event where request_id = $1", r.headers["x-request-id"])
    assert row["action"] == "jurisdiction.update"
    assert row["actor_type"] == "client"
    assert row["actor_name"] == "province-admin"
    assert row["subject_id"] == "430121001002"
    assert row["jurisdiction_path"].endswith("/430121/430121001/430121001002/")
    assert row["outcome"] == "ok"
    assert len(row["digest"]) == 64
    assert row["detail"]["change"]["after"]["population"] == 12000
    assert row["client_addr"]


async def test_secrets_never_enter_the_audit_log(client, as_client, db):
    r = await client.post("/api/v1/users", headers=as_client("province-admin"),
                          json={"username": "newclerk", "display_name": "新办事员", "password": "correct-horse-99"})
    assert r.status_code == 201, r.text
    client_id = await db.fetchval("select id from api_client where name = 'civil-affairs'")
    r = await client.post(f"/api/v1/clients/{client_id}/tokens", headers=as_client("province-admin"), json={})
    token = r.json()["token"]
    dump = str([dict(x) for x in await db.fetch("select * from audit_event")])
    assert "correct-horse-99" not in dump
    assert token not in dump
