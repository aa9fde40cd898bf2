"""Checkpoints in the C2SP formats: tlog-checkpoint text, signed-note signature line, verifier key."""

from __future__ import annotations

import base64
import hashlib

import pytest

from service.audit import keys, note
from tests.audit.conftest import add_events

TXT = "/api/v1/audit/checkpoint.txt"


async def test_the_checkpoint_note_is_byte_for_byte_c2sp_and_verifies_with_the_published_key(client, sequencer, db,
                                                                                           settings):
    await add_events(db, 5)
    await sequencer.checkpoint_now()
    r = await client.get(TXT)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    state = await db.fetchrow("select tree_size, root_hash from merkle_log where log_id = 1")
    origin = "matter-registry.local/audit"
    text = f"{origin}\n{state['tree_size']}\n{base64.b64encode(bytes(state['root_hash'])).decode()}\n"
    assert r.text.startswith(text + "\n\u2014 " + origin + " ")
    line = r.text[len(text) + 1:]
    assert line.endswith("\n")
    assert line.count("\n") == 1
    raw = base64.b64decode(line.split(" ")[2])
    pub = keys.load_signing_key(settings).public_key()
    pub_raw = keys.raw_public(pub)
    # key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4], then the Ed25519 signature of the text
    assert raw[:4] == hashlib.sha256(origin.encode() + b"\n\x01" + pub_raw).digest()[:4]
    pub.verify(raw[4:], text.encode())
    vkey = (await client.get("/api/v1/audit/verifier-key.txt")).text
    material = base64.b64encode(b"\x01" + pub_raw).decode()
    assert vkey == f"{origin}+{raw[:4].hex()}+{material}\n"
    cp, _sigs = note.open_checkpoint(r.text, note.parse_verifier_key(vkey))
    assert (cp.size, cp.root) == (state["tree_size"], bytes(state["root_hash"]))
    # the JSON form stays and carries the same note
    js = (await client.get("/api/v1/audit/checkpoint")).json()
    assert js["note"] == r.text
    assert js["origin"] == origin
    assert js["tree_size"] == cp.size


async def test_the_registry_log_has_its_own_origin_and_key_name(client, sequencer, db):
    await sequencer.checkpoint_now()
    r = await client.get(TXT, params={"log": "registry"})  # the demo's register has entries
    assert r.status_code == 200
    assert r.text.startswith("matter-registry.local/registry\n")
    vkey = (await client.get("/api/v1/audit/verifier-key.txt", params={"log": "registry"})).text
    note.open_checkpoint(r.text, note.parse_verifier_key(vkey))


async def test_a_changed_checkpoint_note_no_longer_opens(client, sequencer, db):
    await add_events(db, 3)
    await sequencer.checkpoint_now()
    text = (await client.get(TXT)).text
    key = note.parse_verifier_key((await client.get("/api/v1/audit/verifier-key.txt")).text)
    lines = text.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_checkpoint("\n".join(lines), key)
