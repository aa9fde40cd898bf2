"""Witnesses: independent cosigners with their own keys and state files; the service collects their
cosignatures; `audit verify` checks the log against what they cosigned (outside memory)."""

from __future__ import annotations

import base64
import subprocess

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.audit import merkle, note, witness
from service.audit.canonical import event_leaf
from tests.audit.conftest import add_events
from tests.helpers.cli import audit_cli

W1, W2 = "jiwei.county.example/witness", "shegongbu.city.example/witness"
KEYS = {W1: Ed25519PrivateKey.generate(), W2: Ed25519PrivateKey.generate()}
VKEYS = {name: witness.witness_vkey(name, key) for name, key in KEYS.items()}


@pytest.fixture
def settings(settings):
    """The deployment names both witnesses and needs both (MR_AUDIT_WITNESSES, MR_AUDIT_WITNESS_QUORUM)."""
    return msgspec.structs.replace(settings, audit_witnesses=f"{VKEYS[W1]}, {VKEYS[W2]}", audit_witness_quorum=2)


async def _log_key(client) -> note.Verifier:
    return note.parse_verifier_key((await client.get("/api/v1/audit/verifier-key.txt")).text)


async def _round(client, name: str, tmp_path, log_key: note.Verifier | None = None) -> witness.Round:
    return await witness.witness_round(client, name=name, key=KEYS[name], log_key=log_key or await _log_key(client),
                                       state_path=tmp_path / f"{name.split('.')[0]}.json")


async def test_two_witnesses_cosign_and_the_service_publishes_the_quorum(client, sequencer, db, tmp_path,
                                                                         go_verifier):
    await add_events(db, 5)
    await sequencer.checkpoint_now()
    first = await _round(client, W1, tmp_path)
    assert first.cosigned
    assert first.submitted["accepted"] == [W1]
    assert first.submitted["cosigned"] is False
    assert (await client.get("/api/v1/audit/cosigned-checkpoint.txt")).status_code == 404
    second = await _round(client, W2, tmp_path)
    assert second.submitted["cosigned"] is True
    published = (await client.get("/api/v1/audit/cosigned-checkpoint.txt")).text
    _cp, sigs = note.split_note(published)
    assert [s.name for s in sigs] == ["matter-registry.local/audit", W1, W2]
    assert (await client.get("/api/v1/audit/checkpoint")).json()["cosigned_by"] == [W1, W2]
    # Go checks the cosignatures by the spec, not by our code
    (tmp_path / "cosigned.txt").write_text(published)
    vkey = (await client.get("/api/v1/audit/verifier-key.txt")).text.strip()
    go = run_go(go_verifier, "-vkey", vkey, "-new", str(tmp_path / "cosigned.txt"), "-witness", VKEYS[W1],
                "-witness", VKEYS[W2], "-quorum", "2")
    assert go.returncode == 0, go.stdout + go.stderr
    assert go.stdout.count("OK cosignature by") == 2
    # nothing new: no second cosignature; the log grows: the witness checks consistency from its size
    assert not (await _round(client, W1, tmp_path)).cosigned
    await add_events(db, 4)
    await sequencer.checkpoint_now()
    grown = await _round(client, W1, tmp_path)
    assert (grown.old_size, grown.cosigned) == (first.size, True)
    state = msgspec.json.decode((tmp_path / "jiwei.json").read_bytes())
    assert state["logs"]["matter-registry.local/audit"]["size"] == grown.size


async def test_a_cosignature_by_an_unknown_key_is_refused(client, sequencer, db):
    await add_events(db, 2)
    await sequencer.checkpoint_now()
    text = (await client.get("/api/v1/audit/checkpoint.txt")).text
    body = note.split_note(text)[0]
    forged = text + note.cosign(Ed25519PrivateKey.generate(), W1, body, 1_700_000_000).line()
    r = await client.post("/api/v1/audit/cosignatures", content=forged.encode())
    assert r.status_code == 403
    assert await db.fetchval("select count(*) from merkle_cosignature") == 0


async def _rewrite_event(db, index: int) -> None:
    """As the database owner: edit an early event and rebuild every hash of the tree to match."""
    event_id = await db.fetchval("select event_id from audit_leaf where leaf_index = $1", index)
    await db.execute("alter table audit_event disable trigger user")
    await db.execute("update audit_event set outcome = 'failed' where id = $1", event_id)
    await db.execute("alter table audit_event enable trigger user")
    rows = await db.fetch("select e.* from audit_leaf l join audit_event e on e.id = l.event_id order by leaf_index")
    edge, nodes = merkle.CompactRange(), []
    for r in rows:
        nodes += [(1, lv, ix, h) for lv, ix, h in edge.append(merkle.leaf_hash(event_leaf(r)))]
    await db.execute("alter table merkle_node disable trigger user")
    await db.execute("delete from merkle_node where log_id = 1")
    await db.copy_records_to_table("merkle_node", records=nodes, columns=["log_id", "level", "idx", "hash"])
    await db.execute("alter table merkle_node enable trigger user")
    # the owner can switch off merkle_log's guard too (migration 0008): the attack needs it
    await db.execute("alter table merkle_log disable trigger user")
    await db.execute("update merkle_log set root_hash = $1 where log_id = 1", edge.root())
    await db.execute("alter table merkle_log enable trigger user")


async def test_a_witness_refuses_a_forked_log_and_keeps_its_state(client, sequencer, db, tmp_path):
    await add_events(db, 8)
    await sequencer.checkpoint_now()
    good = await _round(client, W1, tmp_path)
    state_before = (tmp_path / "jiwei.json").read_bytes()
    await _rewrite_event(db, 2)
    await add_events(db, 3)
    await sequencer.checkpoint_now()  # the service signs the forked log with the same key
    with pytest.raises(witness.WitnessRefusal, match="not consistent"):
        await _round(client, W1, tmp_path)
    assert (tmp_path / "jiwei.json").read_bytes() == state_before
    evidence = list(tmp_path.glob("jiwei.json.refused-*.txt"))
    assert len(evidence) == 1
    assert "a fork" in evidence[0].read_text()
    # and the fork never gets the cosignatures it needs
    assert (await client.get("/api/v1/audit/cosigned-checkpoint.txt")).status_code == 404
    assert good.size < int((await client.get("/api/v1/audit/checkpoint.txt")).text.split("\n")[1])


async def _truncate(db, size: int) -> None:
    """As the database owner: drop the log's tail and set merkle_log back to the older signed head."""
    cp = await db.fetchrow("select root_hash from merkle_checkpoint where log_id = 1 and tree_size = $1", size)
    tail = [r["event_id"] for r in await db.fetch("select event_id from audit_leaf where leaf_index >= $1", size)]
    for table in ("audit_event", "audit_leaf", "merkle_node", "merkle_checkpoint", "merkle_cosignature", "merkle_log"):
        await db.execute(f"alter table {table} disable trigger user")
    await db.execute("delete from audit_event where id = any($1::bigint[]) or id > $2", tail, max(tail))
    await db.execute("delete from audit_leaf where leaf_index >= $1", size)
    await db.execute("delete from merkle_node where log_id = 1 and ((idx + 1) << level) > $1", size)
    await db.execute("delete from merkle_cosignature where log_id = 1 and tree_size > $1", size)
    await db.execute("delete from merkle_checkpoint where log_id = 1 and tree_size > $1", size)
    hwm = await db.fetchval("select max(event_id) from audit_leaf")
    await db.execute("delete from audit_gap")
    await db.execute("update merkle_log set tree_size = $1, root_hash = $2, source_hwm = $3 where log_id = 1",
                     size, cp["root_hash"], hwm)
    for table in ("audit_event", "audit_leaf", "merkle_node", "merkle_checkpoint", "merkle_cosignature", "merkle_log"):
        await db.execute(f"alter table {table} enable trigger user")


async def test_audit_verify_detects_a_truncated_log_against_the_witnesses_memory(client, sequencer, db, database,
                                                                                 settings, tmp_path):
    await add_events(db, 6)
    await sequencer.checkpoint_now()
    short = await _round(client, W1, tmp_path)
    await _round(client, W2, tmp_path)
    await add_events(db, 7)
    await sequencer.checkpoint_now()
    long = await _round(client, W1, tmp_path)
    await _round(client, W2, tmp_path)
    assert long.size > short.size
    env = ["--witness", VKEYS[W1], "--witness", VKEYS[W2]]
    state = str(tmp_path / "jiwei.json")
    ok = await audit_cli("verify", "--cosigned", state, *env, database_url=database, data_dir=settings.data_dir)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "every cosigned one given" in ok.stdout
    # keep a copy of the cosigned note as an outsider would (the witness's state is a second copy)
    (tmp_path / "cosigned.txt").write_text((await client.get("/api/v1/audit/cosigned-checkpoint.txt")).text)
    log_key = await _log_key(client)
    (tmp_path / "key.pem").write_text((await client.get("/api/v1/audit/public-key")).json()["public_key_pem"])
    client.app.state.audit_sequencer.key = None  # the service's own sequencer must not re-sign meanwhile
    await _truncate(db, short.size)
    # the database alone no longer tells: every stored checkpoint matches the shortened log
    inside = await audit_cli("verify", database_url=database, data_dir=settings.data_dir)
    assert inside.returncode == 0, inside.stdout + inside.stderr
    for memory in (state, str(tmp_path / "cosigned.txt")):
        bad = await audit_cli("verify", "--cosigned", memory, *env, database_url=database, data_dir=settings.data_dir)
        assert bad.returncode == 1, bad.stdout
        assert f"the checkpoint matter-registry.local/audit size {long.size}" in bad.stderr
        assert f"entries {short.size}..{long.size - 1} are missing" in bad.stderr
    # the witnesses refuse the shorter head too, and say what they cosigned
    with pytest.raises(witness.WitnessRefusal, match=f"I cosigned {long.size}"):
        await _round(client, W2, tmp_path, log_key)
    # offline, from an export of the truncated log, the same
    out = await audit_cli("export", "--output", str(tmp_path / "log.jsonl"),
                          "--checkpoints", str(tmp_path / "cps.jsonl"),
                  database_url=database, data_dir=settings.data_dir)
    assert out.returncode == 0, out.stderr
    offline = await audit_cli("verify", "--export", str(tmp_path / "log.jsonl"),
                          "--checkpoint", str(tmp_path / "cps.jsonl"),
                      "--public-key", str(tmp_path / "key.pem"), "--cosigned", str(tmp_path / "cosigned.txt"), *env,
                      database_url="postgresql://nobody@127.0.0.1:1/none", data_dir=tmp_path / "outsider")
    assert offline.returncode == 1, offline.stdout
    assert f"entries {short.size}..{long.size - 1} are missing" in offline.stderr


def test_witness_keygen_prints_a_cosignature_verifier_key(tmp_path):
    r = run_cli_witness("keygen", "--name", "w.example/x", "--key-file", str(tmp_path / "w.pem"),
                        data_dir=tmp_path / "data")
    assert r.returncode == 0, r.stderr
    v = note.parse_verifier_key(r.stdout.strip())
    assert (v.name, v.sig_type) == ("w.example/x", note.COSIGNATURE_V1)
    assert base64.b64decode(r.stdout.strip().split("+", 2)[2])[0] == 0x04
    assert (tmp_path / "w.pem").stat().st_mode & 0o777 == 0o600


def run_go(binary, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=60, check=False)


def run_cli_witness(*args: str, data_dir) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    from service.core.settings import PROJECT_ROOT

    return subprocess.run([sys.executable, "-m", "service.cli", "witness", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=60, check=False,
                          env={**os.environ, "MR_DEV": "1", "MR_DATA_DIR": str(data_dir)})
