"""The sequencer: gives committed log entries dense leaf indexes, keeps the Merkle tree, signs heads.

It runs off the request path, as a background task in every process; a PostgreSQL advisory lock
(per log, per pass) makes one process at a time do the work, so any process may take over.

Audit events carry identity ids that can have gaps (a rolled-back insert) and commit out of order.
Every id at or below the high-water mark is either sequenced or recorded in `audit_gap`; each pass
re-reads the gaps, so an event that commits late is appended when it shows up, never skipped. A gap
is dropped only when it is final: older than GAP_FINAL_AFTER_S and every transaction that was running
when it was first seen has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar

from service.audit import keys, merkle, note, queries
from service.audit.canonical import event_leaf

log = logging.getLogger(__name__)

AUDIT_LOG_ID = 1
REGISTRY_LOG_ID = 2
BATCH = 20_000
POLL_S = 0.5
CHECKPOINT_EVERY_S = 2.0  # the issue asks for at least every 10 s while entries arrive
GAP_FINAL_AFTER_S = 300.0


@dataclass
class Pending:
    source_ids: list[int]
    leaves: list[bytes]
    new_hwm: int


class LogSource:
    log_id: int
    name: str

    async def pending(self, conn: asyncpg.Connection, hwm: int, limit: int) -> Pending:
        raise NotImplementedError

    async def appended(self, conn: asyncpg.Connection, first_index: int, batch: Pending, old_hwm: int) -> None:
        """Record what the source needs beyond the tree (the audit log's id -> index map)."""


class AuditSource(LogSource):
    log_id, name = AUDIT_LOG_ID, "audit"

    async def pending(self, conn: asyncpg.Connection, hwm: int, limit: int) -> Pending:
        rows = await conn.fetch(queries.AUDIT_PENDING, hwm, limit)
        ids = [r["id"] for r in rows]
        return Pending(source_ids=ids, leaves=[event_leaf(r) for r in rows], new_hwm=max([hwm, *ids]))

    async def appended(self, conn: asyncpg.Connection, first_index: int, batch: Pending, old_hwm: int) -> None:
        await conn.copy_records_to_table(
            "audit_leaf", columns=["leaf_index", "event_id"],
            records=[(first_index + i, eid) for i, eid in enumerate(batch.source_ids)])
        await conn.execute(queries.AUDIT_GAPS_FILLED, [e for e in batch.source_ids if e <= old_hwm])
        if batch.new_hwm > old_hwm:
            await conn.execute(queries.AUDIT_GAPS_ADD, old_hwm, batch.new_hwm)
        await conn.execute(queries.AUDIT_GAPS_EXPIRE, GAP_FINAL_AFTER_S)


@dataclass
class TableSource(LogSource):
    """A log whose rows carry a dense index from 1 (committed in order) and their own leaf bytes."""

    log_id: int
    name: str
    table: str
    index_column: str
    leaf_column: str
    sql: str = field(init=False)

    def __post_init__(self) -> None:
        self.sql = queries.table_pending(self.table, self.index_column, self.leaf_column)

    async def pending(self, conn: asyncpg.Connection, hwm: int, limit: int) -> Pending:
        rows = await conn.fetch(self.sql, hwm, limit)
        ids: list[int] = []
        leaves: list[bytes] = []
        for r in rows:
            if r["source_id"] != hwm + len(ids) + 1:
                break  # not yet contiguous: wait for the missing number
            ids.append(r["source_id"])
            leaves.append(bytes(r["leaf"]))
        return Pending(source_ids=ids, leaves=leaves, new_hwm=hwm + len(ids))


REGISTRY = TableSource(log_id=REGISTRY_LOG_ID, name="registry", table="registry_entry", index_column="entry_number",
                       leaf_column="leaf")
AUDIT = AuditSource()


async def fetch_nodes(conn: asyncpg.Connection, log_id: int, keys_: list[merkle.NodeKey]) -> dict[merkle.NodeKey,
                                                                                                   bytes]:
    if not keys_:
        return {}
    rows = await conn.fetch(queries.NODES, log_id, [k[0] for k in keys_], [k[1] for k in keys_])
    return {(r["level"], r["idx"]): bytes(r["hash"]) for r in rows}


@dataclass
class PassResult:
    appended: int = 0
    tree_size: int = 0
    checkpoint: bool = False
    skipped: bool = False


class Sequencer:
    def __init__(self, pool: asyncpg.Pool, key: Ed25519PrivateKey | None, sources: list[LogSource], *,
                 origin: str = "matter-registry.local") -> None:
        self.pool = pool
        self.origin = origin  # checkpoints are C2SP notes with origin `<origin>/<log name>`
        self.key = key
        self.key_id = keys.key_id(key.public_key()) if key is not None else None
        self.sources = sources
        self._wake = asyncio.Event()

    async def run_once(self, *, wait: bool = True) -> dict[str, PassResult]:
        """Sequence everything committed now (several passes if needed), sign heads that are due."""
        out: dict[str, PassResult] = {}
        for source in self.sources:
            total = PassResult()
            while True:
                res = await self.sequence(source, wait=wait)
                total.appended += res.appended
                total.tree_size = res.tree_size
                total.checkpoint |= res.checkpoint
                total.skipped |= res.skipped
                if res.appended < BATCH or res.skipped:
                    break
            out[source.name] = total
        return out

    async def sequence(self, source: LogSource, *, wait: bool = True, force_checkpoint: bool = False) -> PassResult:
        async with self.pool.acquire() as conn, conn.transaction():
            if wait:
                await conn.execute(queries.WAIT_LOCK, queries.LOCK_KEY, source.log_id)
            elif not await conn.fetchval(queries.TRY_LOCK, queries.LOCK_KEY, source.log_id):
                return PassResult(skipped=True)
            state = await conn.fetchrow(queries.LOG_STATE_FOR_UPDATE, source.log_id)
            size, hwm = state["tree_size"], state["source_hwm"]
            batch = await source.pending(conn, hwm, BATCH)
            root = bytes(state["root_hash"])
            if batch.leaves:
                edge_keys = merkle.decompose(0, size)
                nodes = await fetch_nodes(conn, source.log_id, edge_keys)
                edge = merkle.CompactRange(size, [nodes[k] for k in edge_keys])
                made: list[tuple[int, int, int, bytes]] = []
                for leaf in batch.leaves:
                    made.extend((source.log_id, lv, ix, h) for lv, ix, h in edge.append(merkle.leaf_hash(leaf)))
                await conn.copy_records_to_table("merkle_node", columns=["log_id", "level", "idx", "hash"],
                                                 records=made)
                await source.appended(conn, size, batch, hwm)
                size, root = edge.size, edge.root()
                await conn.execute(queries.UPDATE_LOG, source.log_id, size, root, batch.new_hwm)
            elif batch.new_hwm != hwm:
                await conn.execute(queries.UPDATE_LOG, source.log_id, size, root, batch.new_hwm)
            signed = await self._checkpoint(conn, source, size, root, force=force_checkpoint)
            return PassResult(appended=len(batch.leaves), tree_size=size, checkpoint=signed)

    async def _checkpoint(self, conn: asyncpg.Connection, source: LogSource, size: int, root: bytes, *,
                          force: bool) -> bool:
        if self.key is None or size == 0:
            return False
        last = await conn.fetchrow(queries.LAST_CHECKPOINT, source.log_id)
        now = dt.datetime.now(dt.UTC)
        if last is not None:
            if last["tree_size"] >= size:
                return False
            if not force and (now - last["issued_at"]).total_seconds() < CHECKPOINT_EVERY_S:
                return False
        origin = f"{self.origin}/{source.name}"
        body = note.checkpoint_text(origin, size, root)
        signed = note.sign_text(self.key, origin, body)  # stored as key ID || signature, as on the note line
        await conn.execute(queries.INSERT_CHECKPOINT, source.log_id, size, root, now, self.key_id, body,
                           signed.key_id + signed.signature)
        return True

    async def checkpoint_now(self) -> None:
        """Sequence and sign at once, whatever the interval (tests, the CLI)."""
        for source in self.sources:
            await self.run_once()
            await self.sequence(source, force_checkpoint=True)

    async def run(self) -> None:
        while True:
            try:
                await self.run_once(wait=False)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("audit sequencer pass failed: %s", exc)
            except Exception:
                log.exception("audit sequencer pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=POLL_S)
            self._wake.clear()


async def sources_present(conn: asyncpg.Connection) -> list[LogSource]:
    """The audit log always; the register's entry log once its table exists."""
    out: list[LogSource] = [AUDIT]
    if await conn.fetchval(queries.TABLE_EXISTS, REGISTRY.table):
        out.append(REGISTRY)
    return out


async def start(app: Litestar) -> Callable[[], Awaitable[None]] | None:
    settings = app.state.settings
    try:
        key: Ed25519PrivateKey | None = keys.load_signing_key(settings)
    except (keys.SigningKeyMissing, ValueError, OSError) as exc:
        if settings.audit_signing_key_file is not None:
            # a key file was given and cannot be used: the service does not start (without one, outside
            # development, Settings.require_secrets has refused to start already)
            raise keys.SigningKeyMissing(f"the audit signing key cannot be used: {exc}") from exc
        log.error("audit checkpoints will not be signed: %s", exc)
        key = None
    pool: asyncpg.Pool = app.state.pool
    async with pool.acquire() as conn:
        sources = await sources_present(conn)
    sequencer = Sequencer(pool, key, sources, origin=settings.audit_origin)
    app.state.audit_sequencer = sequencer
    task = asyncio.create_task(sequencer.run())

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    return stop


def register(starters: list[Any]) -> None:
    if start not in starters:
        starters.append(start)
