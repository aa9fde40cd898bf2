"""A refused check's receipt carries its proof: the refusal is an audit event, and anyone holding the
receipt number gets the leaf, the inclusion proof and the signed checkpoint to verify offline."""

from __future__ import annotations

import asyncio
import base64
import hashlib

from service.audit import merkle, note

CHECK = {"community_code": "430121001001", "matter": {"code": "P-005"}, "role": "assisting"}


async def _refused(client, as_client, db) -> str:
    r = await client.post("/api/v1/checks", json=CHECK, headers=as_client("housing-bureau"))
    assert r.json()["allowed"] is False
    receipt = r.json()["id"]
    for _ in range(100):  # the recorder writes in batches, the record and its event together
        if await db.fetchval("select 1 from check_record where id = $1::uuid", receipt):
            return receipt
        await asyncio.sleep(0.05)
    raise AssertionError("the receipt was never written")


async def test_a_refused_receipt_proves_itself_against_the_signed_checkpoint(client, as_client, sequencer, db):
    receipt = await _refused(client, as_client, db)
    event = await db.fetchrow("select actor_type, actor_name, jurisdiction_code, detail from audit_event "
                              "where action = 'check.refused' and subject_id = $1", receipt)
    assert event["actor_type"] == "client"
    assert "housing-bureau" in event["actor_name"]
    assert event["jurisdiction_code"] == "430121001001"
    await sequencer.checkpoint_now()
    r = await client.get(f"/api/v1/checks/receipts/{receipt}/proof")
    assert r.status_code == 200, r.text
    proof = r.json()
    leaf = proof["leaf"].encode()
    assert receipt in proof["leaf"]
    assert "P-005" in proof["leaf"]
    assert hashlib.sha256(b"\x00" + leaf).hexdigest() == proof["leaf_hash"]
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["leaf_index"], proof["tree_size"], path,
                                   bytes.fromhex(proof["root_hash"]))
    # the root the path reaches is the one the log's key signed
    key = note.parse_verifier_key((await client.get("/api/v1/audit/verifier-key.txt")).text)
    checkpoint, _ = note.open_checkpoint(proof["checkpoint"], key)
    assert (checkpoint.size, base64.b64encode(checkpoint.root).decode()) == (
        proof["tree_size"], base64.b64encode(bytes.fromhex(proof["root_hash"])).decode())
    # one changed byte of the leaf no longer reaches the root
    forged = hashlib.sha256(b"\x00" + leaf.replace(b"P-005", b"P-006")).digest()
    assert not merkle.verify_inclusion(forged, proof["leaf_index"], proof["tree_size"], path,
                                       bytes.fromhex(proof["root_hash"]))


async def test_an_admitted_receipt_has_no_proof_and_an_unsigned_one_says_to_wait(client, as_client, db):
    r = await client.post("/api/v1/checks", headers=as_client("civil-affairs"),
                          json={**CHECK, "matter": {"code": "430121-A-001"}})
    assert r.json()["allowed"] is True
    assert (await client.get(f"/api/v1/checks/receipts/{r.json()['id']}/proof")).status_code == 404
    receipt = await _refused(client, as_client, db)  # no sequencer here: not in a checkpoint yet
    waiting = await client.get(f"/api/v1/checks/receipts/{receipt}/proof")
    if waiting.status_code == 404:  # the app's own sequencer may have signed it already
        assert "尚未签入检查点" in waiting.json()["detail"]
