"""Streaming exports, offline and online verification, and the tampering they catch."""

from __future__ import annotations

import csv
import io

import msgspec

from service.audit import merkle, verify
from service.audit.canonical import event_leaf
from tests.audit.conftest import add_events
from tests.helpers.cli import audit_cli

EXPORT = "/api/v1/audit/export"


async def _fetch_offline_kit(client, headers, tmp_path):
    """What an outside verifier holds: the export, the checkpoints, the public key."""
    (tmp_path / "log.jsonl").write_bytes((await client.get(EXPORT, params={"order": "log"}, headers=headers)).content)
    cps = (await client.get("/api/v1/audit/checkpoints")).json()["items"]
    (tmp_path / "checkpoints.jsonl").write_bytes(b"".join(msgspec.json.encode(c) + b"\n" for c in cps))
    (tmp_path / "checkpoint.json").write_bytes(msgspec.json.encode(cps[-1]))
    (tmp_path / "key.pem").write_text((await client.get("/api/v1/audit/public-key")).json()["public_key_pem"])
    return tmp_path / "log.jsonl", tmp_path / "checkpoints.jsonl", tmp_path / "key.pem"


async def _leaf_event(db, index: int) -> int:
    return await db.fetchval("select event_id from audit_leaf where leaf_index = $1", index)


async def test_jsonl_and_csv_exports_carry_the_leaf_bytes_and_agree(client, root_auditor, as_client, sequencer, db):
    await add_events(db, 30, action="test.export", jurisdiction="430121001")
    await sequencer.run_once()
    params = {"action": "test.export", "order": "oldest"}
    jl = await client.get(EXPORT, params=params, headers=root_auditor)
    assert jl.status_code == 200
    assert jl.headers["content-type"].startswith("application/x-ndjson")
    cs = await client.get(EXPORT, params={**params, "format": "csv"}, headers=root_auditor)
    assert cs.content.startswith(verify.BOM)
    assert "attachment" in cs.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(cs.content.decode("utf-8-sig"))))
    lines = jl.content.splitlines()
    assert len(rows) == len(lines) == 30
    for row, line in zip(rows, lines, strict=True):
        leaf = line[line.index(b',"event":') + 9:-1]
        assert row["leaf"].encode() == leaf
        assert bytes.fromhex(row["leaf_hash"]) == merkle.leaf_hash(leaf)
        assert msgspec.json.decode(leaf)["action"] == row["action"] == "test.export"
    # the supervisor's export is limited to its county like its queries
    await add_events(db, 2, action="test.export", jurisdiction="430112001")
    sup = await client.get(EXPORT, params=params, headers=as_client("county-supervisor"))
    assert sup.content.count(b"\n") == 30
    sup = await client.get(EXPORT, params={"jurisdiction": "430112"}, headers=as_client("county-supervisor"))
    assert sup.status_code == 403


async def test_whole_log_export_needs_the_root_and_verifies_offline(client, root_auditor, as_client, sequencer, db,
                                                                    database, settings, tmp_path):
    await add_events(db, 12)
    await sequencer.checkpoint_now()
    r = await client.get(EXPORT, params={"order": "log"}, headers=as_client("county-supervisor"))
    assert r.status_code == 403
    export, cps, key = await _fetch_offline_kit(client, root_auditor, tmp_path)
    ok = await audit_cli("verify", "--export", str(export), "--checkpoint", str(cps), "--public-key", str(key),
                 database_url="postgresql://nobody@127.0.0.1:1/none", data_dir=tmp_path / "elsewhere")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK" in ok.stdout
    # one checkpoint alone works too, and the key printed by the CLI is the one served
    single = await audit_cli("verify", "--export", str(export), "--checkpoint", str(tmp_path / "checkpoint.json"),
                     "--public-key", str(key), database_url="postgresql://nobody@127.0.0.1:1/none",
                     data_dir=tmp_path / "elsewhere")
    assert single.returncode == 0, single.stdout + single.stderr
    printed = await audit_cli("public-key", database_url=database, data_dir=settings.data_dir)
    assert printed.stdout == key.read_text()
    # the CSV export verifies the same way (Excel's BOM and all)
    as_csv = tmp_path / "log.csv"
    as_csv.write_bytes((await client.get(EXPORT, params={"order": "log", "format": "csv"},
                                         headers=root_auditor)).content)
    pub = verify.keys.load_public_pem(key.read_bytes())
    report = verify.verify_export(as_csv, verify.load_checkpoints(cps), pub)
    assert report.ok, [str(f) for f in report.findings]
    assert report.entries >= sum(1 for _ in export.open("rb"))  # the log may have grown since


async def test_edited_export_lines_are_named_by_index_and_line(client, root_auditor, sequencer, db, tmp_path):
    await add_events(db, 10)
    await sequencer.checkpoint_now()
    export, cps, key = await _fetch_offline_kit(client, root_auditor, tmp_path)
    checkpoints = verify.load_checkpoints(cps)
    pub = verify.keys.load_public_pem(key.read_bytes())
    lines = export.read_bytes().splitlines(keepends=True)

    def check(data: bytes) -> verify.Report:
        export.write_bytes(data)
        return verify.verify_export(export, checkpoints, pub)

    assert check(b"".join(lines)).ok
    changed = list(lines)
    changed[4] = changed[4].replace(b'"outcome":"ok"', b'"outcome":"failed"')
    assert check(b"".join(changed)).first_bad_index == 4
    removed = lines[:6] + lines[7:]
    assert check(b"".join(removed)).first_bad_index == 6
    swapped = list(lines)
    swapped[2], swapped[5] = swapped[5], swapped[2]
    assert check(b"".join(swapped)).first_bad_index == 2
    inserted = [*lines[:3], lines[3], *lines[3:]]
    assert check(b"".join(inserted)).first_bad_index == 4
    truncated = check(b"".join(lines)[:-20])
    assert not truncated.ok
    assert f"line {len(lines)}" in str(truncated.findings[0])
    corrupt = list(lines)
    corrupt[7] = b"{not json\n"
    report = check(b"".join(corrupt))
    assert "line 8" in str(report.findings[0])
    # a rewrite so thorough that the recorded hashes were recomputed still breaks the signed root
    forged = list(lines)
    leaf = forged[3][forged[3].index(b',"event":') + 9:-2].replace(b'"outcome":"ok"', b'"outcome":"failed"')
    forged[3] = verify.jsonl_line(3, merkle.leaf_hash(leaf), leaf)
    report = check(b"".join(forged))
    assert not report.ok
    assert "rewritten" in str(report.findings[0])
    cli = await audit_cli("verify", "--export", str(export), "--checkpoint", str(cps), "--public-key", str(key),
                  database_url="postgresql://nobody@127.0.0.1:1/none", data_dir=tmp_path / "x")
    assert cli.returncode == 1
    assert "verification failed" in cli.stderr


async def _tampered(db, sql: str, *args) -> None:
    """As a superuser would: with the append-only trigger off."""
    await db.execute("alter table audit_event disable trigger user")
    try:
        await db.execute(sql, *args)
    finally:
        await db.execute("alter table audit_event enable trigger user")


async def test_editing_deleting_or_swapping_stored_events_is_detected_at_its_index(client, sequencer, db, database,
                                                                                    settings):
    await add_events(db, 12, jurisdiction="430121001")
    await sequencer.checkpoint_now()
    ok = await audit_cli("verify", database_url=database, data_dir=settings.data_dir)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    from service.audit.service import verify_stored

    assert (await verify_stored(db, public_key=None)).ok
    await _tampered(db, "update audit_event set actor_name = 'someone else' where id = $1", await _leaf_event(db, 9))
    assert (await verify_stored(db, public_key=None)).first_bad_index == 9
    cli = await audit_cli("verify", database_url=database, data_dir=settings.data_dir)
    assert cli.returncode == 1
    assert "index 9" in cli.stderr
    await _tampered(db, "delete from audit_event where id = $1", await _leaf_event(db, 7))
    assert (await verify_stored(db, public_key=None)).first_bad_index == 7
    a, b = await _leaf_event(db, 3), await _leaf_event(db, 5)
    await _tampered(db, "update audit_event x set detail = y.detail, subject_id = y.subject_id from audit_event y "
                        "where (x.id, y.id) in (($1, $2), ($2, $1))", a, b)
    report = await verify_stored(db, public_key=None)
    assert report.first_bad_index == 3
    assert {f.index for f in report.findings} >= {3, 5, 7, 9}


async def test_a_rewritten_log_fails_the_consistency_proof_from_an_old_checkpoint(client, sequencer, db):
    await add_events(db, 8)
    await sequencer.checkpoint_now()
    old = (await client.get("/api/v1/audit/checkpoint")).json()
    # the attacker edits an early event and rebuilds every hash of the tree to match
    await _tampered(db, "update audit_event set outcome = 'failed' where id = $1", await _leaf_event(db, 2))
    rows = await db.fetch("select e.* from audit_leaf l join audit_event e on e.id = l.event_id order by leaf_index")
    edge, nodes = merkle.CompactRange(), []
    for r in rows:
        nodes += [(1, lv, ix, h) for lv, ix, h in edge.append(merkle.leaf_hash(event_leaf(r)))]
    await db.execute("alter table merkle_node disable trigger user")
    await db.execute("delete from merkle_node where log_id = 1")
    await db.copy_records_to_table("merkle_node", records=nodes, columns=["log_id", "level", "idx", "hash"])
    await db.execute("alter table merkle_node enable trigger user")
    await db.execute("alter table merkle_log disable trigger user")  # the owner can; the service's role cannot
    await db.execute("update merkle_log set root_hash = $1 where log_id = 1", edge.root())
    await db.execute("alter table merkle_log enable trigger user")
    await add_events(db, 3)
    await sequencer.checkpoint_now()
    new = (await client.get("/api/v1/audit/checkpoint")).json()
    r = await client.get("/api/v1/audit/proofs/consistency", params={"first": old["tree_size"],
                                                                      "second": new["tree_size"]})
    proof = [bytes.fromhex(h) for h in r.json()["consistency_path"]]
    assert not merkle.verify_consistency(old["tree_size"], new["tree_size"], bytes.fromhex(old["root_hash"]),
                                         bytes.fromhex(new["root_hash"]), proof)
    # and the stored log no longer matches the old signed checkpoint
    from service.audit.service import verify_stored

    report = await verify_stored(db, public_key=None)
    assert any("differs from the signed checkpoint" in f.problem for f in report.findings)


async def test_the_operator_exports_from_the_cli_and_an_outsider_verifies_it(sequencer, db, database, settings,
                                                                             tmp_path):
    await add_events(db, 4)
    seq = await audit_cli("sequence", database_url=database, data_dir=settings.data_dir)
    assert seq.returncode == 0, seq.stderr
    assert "audit: tree size" in seq.stdout
    out = await audit_cli("export", "--output", str(tmp_path / "log.jsonl"),
                          "--checkpoints", str(tmp_path / "cps.jsonl"),
                  database_url=database, data_dir=settings.data_dir)
    assert out.returncode == 0, out.stderr
    printed = await audit_cli("public-key", database_url=database, data_dir=settings.data_dir)
    (tmp_path / "key.pem").write_text(printed.stdout)
    ok = await audit_cli("verify", "--export", str(tmp_path / "log.jsonl"),
                          "--checkpoint", str(tmp_path / "cps.jsonl"),
                 "--public-key", str(tmp_path / "key.pem"), database_url="postgresql://nobody@127.0.0.1:1/none",
                 data_dir=tmp_path / "outsider")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # a key that did not sign the checkpoints is refused
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from service.audit import keys

    (tmp_path / "other.pem").write_text(keys.public_pem(Ed25519PrivateKey.generate().public_key()))
    bad = await audit_cli("verify", "--export", str(tmp_path / "log.jsonl"),
                          "--checkpoint", str(tmp_path / "cps.jsonl"),
                  "--public-key", str(tmp_path / "other.pem"), database_url="postgresql://nobody@127.0.0.1:1/none",
                  data_dir=tmp_path / "outsider")
    assert bad.returncode == 1
    assert "not the given public key" in bad.stderr
