"""The audit area's rules: scoped event queries, the streaming export, proofs and checkpoints."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import io
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.audit import merkle, note, queries
from service.audit.canonical import FIELDS, event_leaf, event_object, timestamp
from service.audit.schemas import (
    AuditEventPage,
    AuditEventRead,
    Checkpoint,
    ConsistencyProof,
    CosignatureResult,
    InclusionProof,
    RecordProof,
)
from service.audit.sequencer import AUDIT_LOG_ID, TableSource, fetch_nodes
from service.audit.verify import BOM, Finding, LogCheck, Report, jsonl_line
from service.core import exports
from service.core.errors import VALUE_REFUSED, Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from service.core.inputs import INT8_MAX
from service.core.settings import Settings

LOGS = ("audit", "registry")
EXPORT_PREFETCH = 2000
CSV_HEADER = ["leaf_index", "leaf_hash", *FIELDS, "leaf"]


class EventFilters(msgspec.Struct, kw_only=True):
    actor_type: str | None = None
    actor_id: str | None = None
    role: str | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    outcome: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _filters(f: EventFilters) -> dict[str, Any]:
    if f.since and f.until and _utc(f.since) >= _utc(f.until):  # type: ignore[operator]
        raise ValidationFailed.field("until", "until must be later than since")
    out = msgspec.structs.asdict(f)
    out["since"], out["until"] = _utc(f.since), _utc(f.until)
    return out


def encode_cursor(newest_first: bool, occurred_at: dt.datetime, event_id: int) -> str:
    micros = (occurred_at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    raw = msgspec.json.encode(["n" if newest_first else "o", micros, event_id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, newest_first: bool) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        order, micros, event_id = msgspec.json.decode(raw, type=tuple[str, int, int])
        if not 0 <= event_id <= INT8_MAX:
            raise ValueError("event id out of range")
        at = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)
    except (binascii.Error, ValueError, OverflowError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValidationFailed.field("cursor", "malformed cursor: pass next_cursor back unchanged") from exc
    if order != ("n" if newest_first else "o"):
        raise ValidationFailed.field("cursor", "this cursor belongs to the other order")
    return at, event_id


def _read(row: asyncpg.Record) -> AuditEventRead:
    return AuditEventRead(
        **{name: row[name] for name in FIELDS}, leaf_index=row["leaf_index"],
        leaf_hash=bytes(row["leaf_hash"]).hex() if row["leaf_hash"] is not None else None,
    )


async def list_events(
    conn: asyncpg.Connection, *, filters: EventFilters, subtrees: list[str] | None, newest_first: bool,
    cursor: str | None, limit: int,
) -> AuditEventPage:
    """One page; `subtrees` are the jurisdiction paths the caller may read (None: all, unscoped too)."""
    after = decode_cursor(cursor, newest_first) if cursor else None
    sql, args = queries.event_listing(filters=_filters(filters), subtrees=subtrees, newest_first=newest_first,
                                      after=after, limit=limit + 1)
    rows = await conn.fetch(sql, *args)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(newest_first, rows[-1]["occurred_at"], rows[-1]["id"]) if more else None
    return AuditEventPage(items=[_read(r) for r in rows], next_cursor=nxt)


# ---- the streaming export ----

def _csv_chunk(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    exports.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode()


def _csv_row(row: asyncpg.Record, leaf: bytes | None, recorded: bytes | None) -> list[Any]:
    obj = event_object(row) if leaf is not None else {}
    values = [msgspec.json.encode(obj["detail"], order="sorted").decode() if name == "detail" else obj.get(name)
              for name in FIELDS] if leaf is not None else [None] * len(FIELDS)
    return [row["leaf_index"], recorded.hex() if recorded is not None else None,
            *("" if v is None else v for v in values), leaf.decode() if leaf is not None else ""]


async def export_stream(pool: asyncpg.Pool, *, sql: str, args: list[Any], fmt: str,
                        log_order: bool) -> AsyncIterator[bytes]:
    """JSON Lines or CSV (UTF-8 with BOM) in constant memory: a server-side cursor, chunks of lines."""
    async with pool.acquire() as conn:
        async for chunk in export_conn_stream(conn, sql=sql, args=args, fmt=fmt, log_order=log_order):
            yield chunk


async def leaf_batches(conn: asyncpg.Connection, sql: str, args: list[Any], *,
                       log_id: int | None) -> AsyncIterator[list[tuple[asyncpg.Record, bytes | None]]]:
    """Rows in batches (a server-side cursor), each with the leaf hash recorded when it was sequenced.

    For a leaf-ordered query (`log_id` given) the hashes of each batch are one ordered range read of
    merkle_node, not a probe per row; other queries carry `leaf_hash` in the row. Call in a transaction.
    """
    cursor = await conn.cursor(sql, *args)
    while True:
        rows = await cursor.fetch(EXPORT_PREFETCH)
        if not rows:
            return
        if log_id is None:
            yield [(r, bytes(r["leaf_hash"]) if r["leaf_hash"] is not None else None) for r in rows]
            continue
        found = {h["idx"]: bytes(h["hash"]) for h in await conn.fetch(
            queries.LEAF_HASH_RANGE, log_id, rows[0]["leaf_index"], rows[-1]["leaf_index"])}
        yield [(r, found.get(r["leaf_index"])) for r in rows]


async def export_conn_stream(conn: asyncpg.Connection, *, sql: str, args: list[Any], fmt: str,
                             log_order: bool) -> AsyncIterator[bytes]:
    if fmt == "csv":
        yield BOM + _csv_chunk([CSV_HEADER])
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        async for batch in leaf_batches(conn, sql, args, log_id=AUDIT_LOG_ID if log_order else None):
            if fmt == "csv":
                yield _csv_chunk([_csv_row(row, event_leaf(row) if (not log_order or row["present"]) else None,
                                           recorded) for row, recorded in batch])
            else:
                yield b"".join([jsonl_line(row["leaf_index"], recorded,
                                           event_leaf(row) if (not log_order or row["present"]) else None)
                                for row, recorded in batch])


async def check_export_query(conn: asyncpg.Connection, *, sql: str, args: list[Any]) -> None:
    """Bind and plan the export's query without running it: what it refuses is refused before the
    first byte of the stream (after which only a cut-off is possible)."""
    try:
        await conn.fetch(queries.explain(sql), *args)
    except (asyncpg.DataError, OverflowError) as exc:
        raise ValidationFailed(VALUE_REFUSED) from exc


def export_query(*, filters: EventFilters, subtrees: list[str] | None, newest_first: bool) -> tuple[str, list[Any]]:
    return queries.event_listing(filters=_filters(filters), subtrees=subtrees, newest_first=newest_first,
                                 after=None, limit=None)


async def log_export_query(conn: asyncpg.Connection, *, tree_size: int | None) -> tuple[str, list[Any]]:
    """The whole audit log in leaf order, up to a tree size (default: the latest checkpoint's)."""
    state = await log_state(conn, log="audit")
    if tree_size is None:
        last = await conn.fetchrow(queries.LAST_CHECKPOINT, state["log_id"])
        tree_size = last["tree_size"] if last else state["tree_size"]
    elif tree_size > state["tree_size"]:
        raise ValidationFailed.field("tree_size", f"the log has {state['tree_size']} entries")
    return queries.LOG_EXPORT, [tree_size]


# ---- proofs and checkpoints ----

async def log_state(conn: asyncpg.Connection, *, log: str) -> asyncpg.Record:
    state = await conn.fetchrow(queries.LOG_BY_NAME, log)
    if state is None:
        raise ValidationFailed.field("log", f"unknown log {log!r}; one of {', '.join(LOGS)}")
    return state


async def inclusion_proof(conn: asyncpg.Connection, *, log: str, index: int, tree_size: int) -> InclusionProof:
    state = await log_state(conn, log=log)
    if tree_size < 1 or tree_size > state["tree_size"]:
        raise ValidationFailed.field("tree_size", f"tree_size must be between 1 and {state['tree_size']}")
    if index < 0 or index >= tree_size:
        raise ValidationFailed.field("index", f"index must be between 0 and {tree_size - 1}")
    ranges = merkle.inclusion_ranges(index, tree_size)
    root_ranges = [(0, tree_size)]
    nodes = await fetch_nodes(conn, state["log_id"], merkle.keys_for([*ranges, *root_ranges, (index, index + 1)]))
    return InclusionProof(
        log=log, leaf_index=index, tree_size=tree_size, leaf_hash=nodes[(0, index)].hex(),
        root_hash=merkle.hashes_for(root_ranges, nodes)[0].hex(),
        audit_path=[h.hex() for h in merkle.hashes_for(ranges, nodes)],
    )


async def consistency_proof(conn: asyncpg.Connection, *, log: str, first: int, second: int) -> ConsistencyProof:
    state = await log_state(conn, log=log)
    if second > state["tree_size"]:
        raise ValidationFailed.field("second", f"second must be at most the tree size {state['tree_size']}")
    if first < 1:
        raise ValidationFailed.field("first", "first must be at least 1")
    if first > second:
        raise ValidationFailed.field("first", "first must not be greater than second")
    ranges = merkle.consistency_ranges(first, second)
    roots = [(0, first), (0, second)]
    nodes = await fetch_nodes(conn, state["log_id"], merkle.keys_for([*ranges, *roots]))
    first_root, second_root = merkle.hashes_for(roots, nodes)
    return ConsistencyProof(log=log, first=first, second=second, first_root=first_root.hex(),
                            second_root=second_root.hex(),
                            consistency_path=[h.hex() for h in merkle.hashes_for(ranges, nodes)])


@functools.lru_cache(maxsize=8)
def witness_config(spec: str, quorum: int | None) -> tuple[tuple[note.Verifier, ...], int]:
    """The deployment's witnesses (MR_AUDIT_WITNESSES) and how many must cosign (default: all)."""
    witnesses = tuple(note.parse_witnesses(spec))
    need = len(witnesses) if quorum is None else quorum
    if need > len(witnesses) or need < 0:
        raise ValueError(f"MR_AUDIT_WITNESS_QUORUM is {need} but {len(witnesses)} witnesses are configured")
    return witnesses, need


def witnesses_of(settings: Settings) -> tuple[tuple[note.Verifier, ...], int]:
    try:
        return witness_config(settings.audit_witnesses, settings.audit_witness_quorum)
    except (note.NoteError, ValueError) as exc:
        raise ServiceUnavailable(f"the witness configuration is wrong: {exc}") from exc


def _is_note(row: asyncpg.Record) -> bool:
    return len(row["signature"]) == 68


def note_of(row: asyncpg.Record, cosignatures: list[asyncpg.Record]) -> str:
    """The C2SP checkpoint note: the signed text, a blank line, the log's signature, the cosignatures."""
    sig = bytes(row["signature"])
    origin = row["body"].split("\n", 1)[0]
    return (row["body"] + "\n" + note.signature_line(origin, sig[:4], sig[4:])
            + "".join(note.signature_line(c["witness"], bytes(c["key_id"]), bytes(c["signature"]))
                      for c in cosignatures))


def _checkpoint(row: asyncpg.Record, log: str, cosignatures: list[asyncpg.Record] | None = None) -> Checkpoint:
    cosignatures = cosignatures or []
    is_note = _is_note(row)
    return Checkpoint(log=log, tree_size=row["tree_size"], root_hash=bytes(row["root_hash"]).hex(),
                      timestamp=timestamp(row["issued_at"]), key_id=row["key_id"], body=row["body"],
                      signature=base64.b64encode(bytes(row["signature"])).decode(),
                      origin=row["body"].split("\n", 1)[0] if is_note else None,
                      note=note_of(row, cosignatures) if is_note else None,
                      cosigned_by=sorted({c["witness"] for c in cosignatures}))


async def latest_checkpoint(conn: asyncpg.Connection, *, log: str) -> Checkpoint:
    state = await log_state(conn, log=log)
    row = await conn.fetchrow(queries.LAST_CHECKPOINT, state["log_id"])
    if row is None:
        raise NotFound(f"log {log} has no signed checkpoint yet")
    return _checkpoint(row, log, await conn.fetch(queries.COSIGNATURES_AT, state["log_id"], row["tree_size"]))


async def checkpoints(conn: asyncpg.Connection, *, log: str) -> list[Checkpoint]:
    state = await log_state(conn, log=log)
    by_size: dict[int, list[asyncpg.Record]] = {}
    for c in await conn.fetch(queries.COSIGNATURES, state["log_id"]):
        by_size.setdefault(c["tree_size"], []).append(c)
    return [_checkpoint(r, log, by_size.get(r["tree_size"]))
            for r in await conn.fetch(queries.CHECKPOINTS, state["log_id"])]


async def checkpoint_note(conn: asyncpg.Connection, *, log: str, cosigned: bool = False,
                          settings: Settings | None = None) -> str:
    """The newest checkpoint as a C2SP note with its cosignatures (`cosigned`: the newest one cosigned by
    the required number of the configured witnesses)."""
    state = await log_state(conn, log=log)
    if cosigned:
        assert settings is not None
        witnesses, quorum = witnesses_of(settings)
        if not witnesses:
            raise NotFound("no witnesses are configured (MR_AUDIT_WITNESSES)")
        row = await conn.fetchrow(queries.LAST_COSIGNED_CHECKPOINT, state["log_id"], [w.name for w in witnesses],
                                  [w.key_id for w in witnesses], quorum)
        if row is None:
            raise NotFound(f"no checkpoint of log {log} is cosigned by {quorum} of the witnesses yet")
    else:
        row = await conn.fetchrow(queries.LAST_NOTE_CHECKPOINT, state["log_id"])
        if row is None:
            raise NotFound(f"log {log} has no checkpoint in the C2SP note format yet")
    return note_of(row, await conn.fetch(queries.COSIGNATURES_AT, state["log_id"], row["tree_size"]))


async def add_cosignatures(conn: asyncpg.Connection, *, log: str, message: str, origin_prefix: str,
                           settings: Settings) -> CosignatureResult:
    """Store the configured witnesses' valid cosignatures found on a checkpoint note the log signed."""
    state = await log_state(conn, log=log)
    try:
        text, sigs = note.split_note(message)
        cp = note.parse_checkpoint(text)
    except note.NoteError as exc:
        raise ValidationFailed.field("body", f"not a cosigned checkpoint note: {exc}") from exc
    if cp.origin != f"{origin_prefix}/{log}":
        raise ValidationFailed.field("body", f"the origin {cp.origin!r} is not this log's "
                                             f"({origin_prefix}/{log})")
    row = await conn.fetchrow(queries.CHECKPOINT_AT, state["log_id"], cp.size)
    if row is None or row["body"] != text:
        raise NotFound(f"this log signed no checkpoint of size {cp.size} with that root")
    witnesses, quorum = witnesses_of(settings)
    found = note.cosigners(text, sigs, list(witnesses))
    if not found:
        raise Forbidden("no cosignature on the note verifies against a configured witness key "
                        "(MR_AUDIT_WITNESSES)")
    by_name = {w.name: w for w in witnesses}
    for s in sigs:
        if s.name in found and s.key_id == by_name[s.name].key_id and note.cosignature_time(
                by_name[s.name], text, s) is not None:
            await conn.execute(queries.INSERT_COSIGNATURE, state["log_id"], cp.size, s.name, s.key_id,
                               found[s.name], s.signature)
    stored = {c["witness"] for c in await conn.fetch(queries.COSIGNATURES_AT, state["log_id"], cp.size)
              if c["witness"] in by_name and bytes(c["key_id"]) == by_name[c["witness"]].key_id}
    return CosignatureResult(log=log, tree_size=cp.size, accepted=sorted(found), cosigned_by=sorted(stored),
                             quorum=quorum, cosigned=len(stored) >= quorum)


async def verify_stored(conn: asyncpg.Connection, *, public_key: Ed25519PublicKey | None,
                        outside: list[tuple[int, bytes, str]] | None = None) -> Report:
    """Recompute the audit tree from the stored events and check it against every signed checkpoint
    (and `outside`: checkpoints kept outside the database, such as the witnesses' newest)."""
    state = await log_state(conn, log="audit")
    check = LogCheck("audit", await checkpoints(conn, log="audit"), public_key, outside)
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        async for batch in leaf_batches(conn, queries.LOG_EXPORT, [state["tree_size"]], log_id=state["log_id"]):
            for row, recorded in batch:
                check.add(index=row["leaf_index"], leaf=event_leaf(row) if row["present"] else None,
                          recorded=recorded)
        report = check.finish()
        if report.entries == state["tree_size"] and report.root != bytes(state["root_hash"]):
            report.findings.append(_finding("the stored root differs from the root of the stored leaves"))
        if report.entries < state["tree_size"]:
            report.findings.append(_finding(f"the leaf index map ends after {report.entries} of "
                                            f"{state['tree_size']} entries"))
        strays = await conn.fetch(queries.UNSEQUENCED, state["source_hwm"])
        if strays:
            ids = ", ".join(str(r["id"]) for r in strays[:10])
            report.findings.append(_finding(f"events below the sequencer's mark that are in no leaf: {ids} "
                                            "(inserted behind its back, or committed after their gap was final)"))
    return report


async def verify_table_log(conn: asyncpg.Connection, *, source: TableSource, public_key: Ed25519PublicKey | None,
                           outside: list[tuple[int, bytes, str]] | None = None) -> Report:
    """The same check for a log kept in its own table (the register's entry log)."""
    state = await log_state(conn, log=source.name)
    check = LogCheck(source.name, await checkpoints(conn, log=source.name), public_key, outside)
    sql = queries.table_log_leaves(source.table, source.index_column, source.leaf_column)
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        async for row in conn.cursor(sql, state["log_id"], state["tree_size"], prefetch=EXPORT_PREFETCH):
            leaf = bytes(row["leaf"]) if row["leaf"] is not None else None
            check.add(index=row["leaf_index"], leaf=leaf, recorded=bytes(row["leaf_hash"]))
    report = check.finish()
    if report.entries != state["tree_size"] or report.root != bytes(state["root_hash"]):
        report.findings.append(_finding("the stored root differs from the root of the stored leaves"))
    return report


def _finding(problem: str) -> Finding:
    return Finding(None, None, problem)


def _like_text(text: str) -> str:
    """Words as literal text for ILIKE (a % or _ typed is not a wildcard)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def find_people(conn: asyncpg.Connection, *, text: str, subtrees: list[str] | None,
                      limit: int) -> list[dict[str, str]]:
    """People (web users and API clients) whose name holds the text, within the caller's subtrees
    (None: everyone)."""
    return [dict(r) for r in await conn.fetch(queries.FIND_PEOPLE, _like_text(text), limit, subtrees)]


# ---- tlog-tiles (c2sp.org/tlog-tiles): the tree as immutable 256-hash tiles ----

TILE_WIDTH = 256


def parse_tile_path(path: str) -> tuple[int, int, int]:
    """`<L>/<N>[.p/<W>]` with N in 3-digit groups, all but the last prefixed by x: (level, index, width)."""
    parts = path.strip("/").split("/")
    width = TILE_WIDTH
    if len(parts) >= 3 and parts[-2].endswith(".p"):
        w = parts[-1]
        if not w.isdigit() or str(int(w)) != w or not 1 <= int(w) <= 255:
            raise NotFound("a partial tile's width is 1 to 255")
        width = int(w)
        parts = [*parts[:-2], parts[-2][:-2]]
    if len(parts) < 2:
        raise NotFound("a tile path is <L>/<N>[.p/<W>]")
    level_s, groups = parts[0], parts[1:]
    if not level_s.isdigit() or str(int(level_s)) != level_s or int(level_s) > 7:
        raise NotFound("tile levels of this log are 0 to 7")
    if any(len(g) != 4 or g[0] != "x" or not g[1:].isdigit() for g in groups[:-1]) or \
            len(groups[-1]) != 3 or not groups[-1].isdigit():
        raise NotFound("a tile index is 3-digit groups, all but the last prefixed by x (x001/x234/067)")
    index = int("".join(g.lstrip("x") for g in groups))
    return int(level_s), index, width


async def tile(conn: asyncpg.Connection, *, log: str, path: str) -> tuple[bytes, bool]:
    """A tile's bytes (width x 32) and whether it is full; NotFound until all its hashes exist."""
    level, index, width = parse_tile_path(path)
    state = await log_state(conn, log=log)
    start = index * TILE_WIDTH
    rows = await conn.fetch(queries.TILE_HASHES, state["log_id"], level * 8, start, start + width)
    if len(rows) != width:
        raise NotFound(f"tile {level}/{index} has no {width} hashes yet")
    return b"".join(bytes(r["hash"]) for r in rows), width == TILE_WIDTH


async def record_proof(conn: asyncpg.Connection, *, action: str, subject_type: str, subject_id: str,
                       settings: Settings) -> RecordProof:
    """The proof that an event about a subject is in the audit log, against the newest checkpoint that
    covers it: the witness-cosigned one when witnesses are configured and have cosigned, else the signed one.

    NotFound when no such event exists, or (with a message saying so) while it awaits the next checkpoint."""
    row = await conn.fetchrow(queries.EVENT_WITH_LEAF, action, subject_type, subject_id)
    if row is None:
        if await conn.fetchval(queries.EVENT_RECORDED, action, subject_type, subject_id):
            raise NotFound("该记录已写入审计日志，尚未签入检查点，请几秒钟后再试 "
                           "(recorded; not yet in a signed checkpoint: try again in a few seconds)")
        raise NotFound(f"审计日志中没有该记录 (no audit event {action} for {subject_type} {subject_id})")
    return await _proof_of(conn, row, subject=f"{subject_type}:{subject_id}", settings=settings)


async def event_proof(conn: asyncpg.Connection, *, event_id: int, settings: Settings) -> RecordProof:
    """`record_proof` for one event by its id (a decision document names its decision's event)."""
    row = await conn.fetchrow(queries.EVENT_WITH_LEAF_BY_ID, event_id)
    if row is None:
        if await conn.fetchval(queries.EVENT_EXISTS, event_id):
            raise NotFound("该记录已写入审计日志，尚未签入检查点，请几秒钟后再试 "
                           "(recorded; not yet in a signed checkpoint: try again in a few seconds)")
        raise NotFound(f"审计日志中没有该记录 (no audit event {event_id})")
    return await _proof_of(conn, row, subject=f"{row['subject_type']}:{row['subject_id']}", settings=settings)


async def _proof_of(conn: asyncpg.Connection, row: asyncpg.Record, *, subject: str, settings: Settings
                    ) -> RecordProof:
    index = int(row["leaf_index"])
    text, cosigned = None, False
    if witnesses_of(settings)[0]:
        try:
            text, cosigned = await checkpoint_note(conn, log="audit", cosigned=True, settings=settings), True
        except NotFound:
            text = None
    if text is None or int(text.split("\n")[1]) <= index:
        text, cosigned = await checkpoint_note(conn, log="audit"), False
    size = int(text.split("\n")[1])
    if size <= index:
        raise NotFound("该记录已写入审计日志，尚未签入检查点，请几秒钟后再试 "
                       "(recorded; not yet in a signed checkpoint: try again in a few seconds)")
    proof = await inclusion_proof(conn, log="audit", index=index, tree_size=size)
    return RecordProof(subject=subject, log="audit", leaf_index=index,
                       leaf=event_leaf(row).decode(), leaf_hash=proof.leaf_hash, tree_size=size,
                       root_hash=proof.root_hash, audit_path=proof.audit_path, checkpoint=text, cosigned=cosigned)
