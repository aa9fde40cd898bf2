"""The sequencer: dense leaf indexes over ids with gaps and late commits, signed checkpoints."""

from __future__ import annotations

import base64

import asyncpg

from service.audit import keys, merkle
from service.audit.canonical import event_leaf
from service.core.db import connect
from tests.audit.conftest import add_events


async def test_every_committed_event_gets_a_dense_leaf_index_and_its_leaf_hash(sequencer, db):
    await add_events(db, 25)
    await sequencer.run_once()
    total = await db.fetchval("select count(*) from audit_event")
    size = await db.fetchval("select tree_size from merkle_log where name = 'audit'")
    assert size == total
    assert await db.fetchval("select count(*) = max(leaf_index) + 1 from audit_leaf")
    rows = await db.fetch("select e.*, n.hash from audit_leaf l join audit_event e on e.id = l.event_id "
                          "join merkle_node n on n.log_id = 1 and n.level = 0 and n.idx = l.leaf_index")
    assert all(bytes(r["hash"]) == merkle.leaf_hash(event_leaf(r)) for r in rows)
    ordered = [event_leaf(r) for r in await db.fetch(
        "select e.* from audit_leaf l join audit_event e on e.id = l.event_id order by l.leaf_index")]
    assert merkle.root_of(ordered) == bytes(await db.fetchval("select root_hash from merkle_log where log_id = 1"))


async def test_an_event_that_commits_late_is_appended_not_skipped(sequencer, db, database):
    late = await connect(database)
    try:
        tx = late.transaction()
        await tx.start()
        late_id = await late.fetchval("insert into audit_event (actor_type, action, subject_type, outcome) "
                                      "values ('system', 'test.late', 'thing', 'ok') returning id")
        after = await add_events(db, 3)  # higher ids, committed first
        assert min(after) > late_id
        await sequencer.run_once()
        assert await db.fetchval("select count(*) from audit_leaf where event_id = any($1::bigint[])", after) == 3
        assert await db.fetchval("select count(*) from audit_gap where event_id = $1", late_id) == 1
        await tx.commit()
    finally:
        await late.close()
    await sequencer.run_once()
    index = await db.fetchval("select leaf_index from audit_leaf where event_id = $1", late_id)
    assert index is not None
    assert index > await db.fetchval("select max(leaf_index) from audit_leaf where event_id = any($1::bigint[])",
                                     after)
    assert await db.fetchval("select count(*) from audit_gap where event_id = $1", late_id) == 0


async def test_a_rolled_back_id_is_a_gap_that_never_blocks_the_log(sequencer, db):
    # roll one back on purpose
    try:
        async with db.transaction():
            gone = await db.fetchval("insert into audit_event (actor_type, action, subject_type, outcome) "
                                     "values ('system', 'test.gone', 'thing', 'ok') returning id")
            raise asyncpg.PostgresError("roll back")
    except asyncpg.PostgresError:
        pass
    later = await add_events(db, 2)
    await sequencer.run_once()
    assert await db.fetchval("select count(*) from audit_leaf where event_id = any($1::bigint[])", later) == 2
    assert await db.fetchval("select count(*) from audit_gap where event_id = $1", gone) == 1
    # once old and final (no transaction that could still hold it), the gap is dropped
    await db.execute("alter table audit_gap disable trigger user")
    await db.execute("update audit_gap set seen_at = now() - interval '1 hour'")
    await sequencer.run_once()
    await add_events(db, 1)
    await sequencer.run_once()
    assert await db.fetchval("select count(*) from audit_gap where event_id = $1", gone) == 0


async def test_checkpoints_are_signed_with_the_key_served_and_printed(client, sequencer, db):
    await add_events(db, 5)
    await sequencer.checkpoint_now()
    cp = (await client.get("/api/v1/audit/checkpoint")).json()
    key = (await client.get("/api/v1/audit/public-key")).json()
    assert key["algorithm"] == "Ed25519"
    pub = keys.load_public_pem(key["public_key_pem"].encode())
    assert keys.key_id(pub) == cp["key_id"] == key["key_id"]
    # the signature field is the note signature line's: 4-byte key ID, then Ed25519 over the body
    assert keys.signature_valid(pub, cp["body"], base64.b64decode(cp["signature"])[4:])
    root = base64.b64encode(bytes.fromhex(cp["root_hash"])).decode()
    assert cp["body"] == f"matter-registry.local/audit\n{cp['tree_size']}\n{root}\n"
    assert cp["tree_size"] == await db.fetchval("select count(*) from audit_event")
    # the private key is a file beside the data (development), never in the database
    assert (client.app.state.settings.data_dir / keys.DEV_KEY_FILE).exists()
    assert not await db.fetchval("select count(*) from merkle_checkpoint where body like '%PRIVATE%'")


async def test_the_background_sequencer_signs_within_seconds_of_new_events(client, db):
    import asyncio

    await add_events(db, 3)
    target = await db.fetchval("select count(*) from audit_event")
    for _ in range(40):
        size = await db.fetchval("select max(tree_size) from merkle_checkpoint where log_id = 1")
        if size is not None and size >= target:
            break
        await asyncio.sleep(0.25)
    assert size >= target


def test_workers_starting_at_once_on_a_fresh_data_folder_share_one_development_key(tmp_path):
    """Each granian worker loads the key at start: the first key written is everyone's, never two."""
    import multiprocessing

    from tests.conftest import make_settings

    settings = make_settings(None, tmp_path / "fresh")
    context = multiprocessing.get_context("fork")
    with context.Pool(6) as pool:
        ids = pool.map(_dev_key_id, [settings] * 24)
    assert len(set(ids)) == 1
    assert ids[0] == keys.key_id(keys.load_signing_key(settings).public_key())
    assert [p.name for p in (tmp_path / "fresh").iterdir()] == [keys.DEV_KEY_FILE]  # no temporary file left


def _dev_key_id(settings) -> str:
    return keys.key_id(keys.load_signing_key(settings).public_key())
