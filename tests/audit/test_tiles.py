"""tlog-tiles: the Merkle tree as immutable tiles a monitor can mirror with plain GETs."""

from __future__ import annotations

from service.audit import merkle
from tests.audit.conftest import add_events

TILE = "/api/v1/audit/tlog/audit/tile"


def tile_root(tile: bytes) -> bytes:
    """MTH of a full tile's 256 hashes: the subtree of height 8 above them."""
    level = [tile[i:i + 32] for i in range(0, len(tile), 32)]
    while len(level) > 1:
        level = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


async def test_tiles_carry_the_tree_and_a_client_rebuilds_the_root_from_them(client, sequencer, db):
    have = await db.fetchval("select count(*) from audit_event")
    await add_events(db, max(0, 300 - have))
    await sequencer.checkpoint_now()
    size = await db.fetchval("select tree_size from merkle_log where log_id = 1")
    assert 256 < size < 512
    full = await client.get(f"{TILE}/0/000")
    assert full.status_code == 200
    assert full.headers["content-type"] == "application/octet-stream"
    assert "immutable" in full.headers["cache-control"]
    assert len(full.content) == 8192
    leaf5 = (await client.get("/api/v1/audit/proofs/inclusion", params={"index": 5, "tree_size": size})).json()
    assert full.content[5 * 32:6 * 32].hex() == leaf5["leaf_hash"]
    width = size - 256
    partial = await client.get(f"{TILE}/0/001.p/{width}")
    assert len(partial.content) == 32 * width
    upper = await client.get(f"{TILE}/1/000.p/1")
    assert upper.content == tile_root(full.content)
    # the root of the signed checkpoint, from tiles alone: the full subtree, then the partial tile's leaves
    rest = [partial.content[i:i + 32] for i in range(0, len(partial.content), 32)]
    edge = merkle.CompactRange()
    for h in rest:
        edge.append(h)
    root = merkle.node_hash(upper.content, edge.root()) if width else upper.content
    signed = {c["tree_size"]: c["root_hash"] for c in (await client.get("/api/v1/audit/checkpoints")).json()["items"]}
    assert root.hex() == signed[size]


async def test_a_tile_not_complete_or_badly_named_is_not_found(client, sequencer, db):
    await sequencer.checkpoint_now()
    size = await db.fetchval("select tree_size from merkle_log where log_id = 1")
    assert (await client.get(f"{TILE}/0/{(size // 256) + 1:03d}")).status_code == 404
    assert (await client.get(f"{TILE}/0/0")).status_code == 404  # not three digits
    assert (await client.get(f"{TILE}/0/x000/000")).status_code == 404  # no tile 0 of 256**2 yet
    assert (await client.get(f"{TILE}/0/000.p/256")).status_code == 404
    assert (await client.get(f"{TILE}/entries/000")).status_code == 404
    cp = await client.get("/api/v1/audit/tlog/audit/checkpoint")
    assert cp.text == (await client.get("/api/v1/audit/checkpoint.txt")).text
