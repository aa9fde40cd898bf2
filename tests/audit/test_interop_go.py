"""A verifier that is not ours: Go's golang.org/x/mod/sumdb/note and .../tlog check the service's
checkpoints, an exported event's inclusion and the consistency of two checkpoints."""

from __future__ import annotations

import base64
import subprocess

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.audit import note
from tests.audit.conftest import add_events

EXPORT = "/api/v1/audit/export"


def b64_lines(hex_hashes: list[str]) -> str:
    return "".join(base64.b64encode(bytes.fromhex(h)).decode() + "\n" for h in hex_hashes)


async def _kit(client, root_auditor, sequencer, db, tmp_path, index: int):
    await add_events(db, 6)
    await sequencer.checkpoint_now()
    (tmp_path / "old.txt").write_text((await client.get("/api/v1/audit/checkpoint.txt")).text)
    await add_events(db, 9)
    await sequencer.checkpoint_now()
    new_text = (await client.get("/api/v1/audit/checkpoint.txt")).text
    (tmp_path / "new.txt").write_text(new_text)
    old_size = int((tmp_path / "old.txt").read_text().split("\n")[1])
    new_size = int(new_text.split("\n")[1])
    vkey = (await client.get("/api/v1/audit/verifier-key.txt")).text.strip()
    # the event as an outsider holds it: a line of the whole-log export, its leaf bytes
    export = (await client.get(EXPORT, params={"order": "log", "tree_size": new_size}, headers=root_auditor)).content
    line = export.splitlines()[index]
    assert line.startswith(b'{"leaf_index":%d,' % index)
    (tmp_path / "leaf.json").write_bytes(line[line.index(b',"event":') + 9:-1])
    inc = (await client.get("/api/v1/audit/proofs/inclusion", params={"index": index, "tree_size": new_size})).json()
    (tmp_path / "inclusion.txt").write_text(b64_lines(inc["audit_path"]))
    con = (await client.get("/api/v1/audit/proofs/consistency", params={"first": old_size,
                                                                        "second": new_size})).json()
    (tmp_path / "consistency.txt").write_text(b64_lines(con["consistency_path"]))
    return vkey


def _run(binary, vkey: str, tmp_path, index: int, **over: str) -> subprocess.CompletedProcess[str]:
    files = {"old": "old.txt", "new": "new.txt", "leaf": "leaf.json", "inclusion": "inclusion.txt",
             "consistency": "consistency.txt", **over}
    args = [str(binary), "-vkey", vkey, "-index", str(index)]
    for flag, name in files.items():
        args += [f"-{flag}", str(tmp_path / name)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


async def test_go_x_mod_accepts_the_checkpoints_an_events_inclusion_and_their_consistency(
        client, root_auditor, sequencer, db, tmp_path, go_verifier):
    vkey = await _kit(client, root_auditor, sequencer, db, tmp_path, index=3)
    ok = _run(go_verifier, vkey, tmp_path, 3)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK tlog.CheckRecord: leaf 3" in ok.stdout
    assert "OK tlog.CheckTree" in ok.stdout
    assert ok.stdout.count("OK note.Open") == 2


async def test_go_x_mod_refuses_a_forged_checkpoint_a_changed_event_and_a_foreign_key(
        client, root_auditor, sequencer, db, tmp_path, go_verifier):
    vkey = await _kit(client, root_auditor, sequencer, db, tmp_path, index=2)
    text = (tmp_path / "new.txt").read_text().split("\n")
    text[1] = str(int(text[1]) - 1)
    (tmp_path / "forged.txt").write_text("\n".join(text))
    forged = _run(go_verifier, vkey, tmp_path, 2, new="forged.txt")
    assert forged.returncode == 1
    assert "note.Open" in forged.stderr
    leaf = (tmp_path / "leaf.json").read_bytes()
    (tmp_path / "changed.json").write_bytes(leaf.replace(b'"outcome":"ok"', b'"outcome":"failed"'))
    changed = _run(go_verifier, vkey, tmp_path, 2, leaf="changed.json")
    assert changed.returncode == 1
    assert "tlog.CheckRecord" in changed.stderr
    # the two checkpoints swapped: the proofs no longer fit
    swapped = _run(go_verifier, vkey, tmp_path, 2, old="new.txt", new="old.txt", leaf="leaf.json")
    assert swapped.returncode == 1
    # a key of the same name that did not sign
    stranger = note.verifier_key(vkey.split("+", 1)[0], Ed25519PrivateKey.generate().public_key())
    other = _run(go_verifier, stranger, tmp_path, 2)
    assert other.returncode == 1
    assert "note.Open" in other.stderr
