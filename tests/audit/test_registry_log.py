"""The register's entry log is a second tree, built and proved the same way."""

from __future__ import annotations

from service.audit import merkle
from service.audit.sequencer import REGISTRY
from service.audit.service import verify_table_log

ADD_ENTRY = """
insert into registry_entry (entry_number, scope, code, entry_type, status, effective_from, entered_at, actor, reason,
                            item, leaf, item_digest)
select coalesce(max(entry_number), 0) + 1, 'national', 'AUDIT-T' || (coalesce(max(entry_number), 0) + 1), 'add',
       'active', current_date, now(), 'test', 'test', '{}'::jsonb, convert_to($1, 'UTF8'),
       sha256(convert_to($1, 'UTF8'))
from registry_entry
returning entry_number
"""


async def test_registry_entries_become_leaves_with_proofs_and_checkpoints(client, sequencer, db):
    assert REGISTRY in sequencer.sources
    leaves = [f'{{"entry":{i},"title":"社区事项"}}' for i in range(5)]
    for leaf in leaves:
        await db.fetchval(ADD_ENTRY, leaf)
    await sequencer.checkpoint_now()
    all_leaves = [bytes(r["leaf"]) for r in await db.fetch("select leaf from registry_entry order by entry_number")]
    cp = (await client.get("/api/v1/audit/checkpoint", params={"log": "registry"})).json()
    assert cp["tree_size"] == len(all_leaves)
    assert cp["body"].startswith("matter-registry.local/registry\n")
    assert bytes.fromhex(cp["root_hash"]) == merkle.root_of(all_leaves)
    n = cp["tree_size"]
    r = await client.get("/api/v1/audit/proofs/inclusion", params={"log": "registry", "index": n - 1, "tree_size": n})
    proof = [bytes.fromhex(h) for h in r.json()["audit_path"]]
    assert merkle.verify_inclusion(merkle.leaf_hash(all_leaves[-1]), n - 1, n, proof, bytes.fromhex(cp["root_hash"]))
    assert (await verify_table_log(db, source=REGISTRY, public_key=None)).ok
    # an edited entry is found at its index, like an edited audit event
    await db.execute("alter table registry_entry disable trigger user")
    await db.execute("update registry_entry set leaf = convert_to('{}', 'UTF8') where entry_number = $1", n - 2)
    await db.execute("alter table registry_entry enable trigger user")
    assert (await verify_table_log(db, source=REGISTRY, public_key=None)).first_bad_index == n - 3
