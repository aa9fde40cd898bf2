"""Public RFC 6962 proofs against signed checkpoints, and the problems bad proof requests get."""

from __future__ import annotations

from service.audit import merkle
from tests.audit.conftest import add_events


async def test_inclusion_proofs_tie_each_exported_event_to_the_signed_root(client, root_auditor, sequencer, db):
    await add_events(db, 20, action="test.proof")
    await sequencer.checkpoint_now()
    cp = (await client.get("/api/v1/audit/checkpoint")).json()
    n, root = cp["tree_size"], bytes.fromhex(cp["root_hash"])
    lines = (await client.get("/api/v1/audit/export", params={"action": "test.proof"}, headers=root_auditor)).content
    assert lines.count(b"\n") == 20
    for line in lines.splitlines():
        prefix_end = line.index(b',"event":') + len(b',"event":')
        leaf, index = line[prefix_end:-1], int(line.split(b",")[0].split(b":")[1])
        # no credentials needed: the proof holds hashes only
        r = await client.get("/api/v1/audit/proofs/inclusion", params={"index": index, "tree_size": n})
        assert r.status_code == 200, r.text
        proof = r.json()
        assert proof["root_hash"] == cp["root_hash"]
        assert proof["leaf_hash"] == merkle.leaf_hash(leaf).hex()
        assert merkle.verify_inclusion(merkle.leaf_hash(leaf), index, n, [bytes.fromhex(h) for h in
                                                                           proof["audit_path"]], root)


async def test_consistency_proofs_link_every_older_checkpoint_to_the_newest(client, sequencer, db):
    await sequencer.checkpoint_now()
    old = (await client.get("/api/v1/audit/checkpoint")).json()
    await add_events(db, 13)
    await sequencer.checkpoint_now()
    new = (await client.get("/api/v1/audit/checkpoint")).json()
    assert new["tree_size"] == old["tree_size"] + 13
    r = await client.get("/api/v1/audit/proofs/consistency", params={"first": old["tree_size"],
                                                                      "second": new["tree_size"]})
    assert r.status_code == 200, r.text
    proof = [bytes.fromhex(h) for h in r.json()["consistency_path"]]
    assert merkle.verify_consistency(old["tree_size"], new["tree_size"], bytes.fromhex(old["root_hash"]),
                                     bytes.fromhex(new["root_hash"]), proof)
    listed = (await client.get("/api/v1/audit/checkpoints")).json()["items"]
    assert [c["tree_size"] for c in listed][-2:] == [old["tree_size"], new["tree_size"]]


async def test_bad_proof_requests_name_the_parameter(client, sequencer, db):
    await sequencer.checkpoint_now()
    n = (await client.get("/api/v1/audit/checkpoint")).json()["tree_size"]
    cases = [
        ("inclusion", {"index": n, "tree_size": n}, "index"),
        ("inclusion", {"index": -1, "tree_size": n}, "index"),
        ("inclusion", {"index": 0, "tree_size": n + 1000}, "tree_size"),
        ("inclusion", {"index": "abc", "tree_size": n}, "index"),
        ("inclusion", {"tree_size": n}, "index"),
        ("consistency", {"first": 5, "second": 3}, "first"),
        ("consistency", {"first": 0, "second": 3}, "first"),
        ("consistency", {"first": 1, "second": n + 1000}, "second"),
        ("consistency", {"first": 1, "second": 2, "log": "diary"}, "log"),
    ]
    for kind, params, name in cases:
        r = await client.get(f"/api/v1/audit/proofs/{kind}", params=params)
        assert r.status_code in (400, 422), (params, r.text)
        assert name in [p["name"] for p in r.json()["invalid_params"]], (params, r.json())
