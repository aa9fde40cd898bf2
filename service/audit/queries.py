"""SQL of the audit area: the sequencer, proofs, checkpoints, the event listing and the export."""

from __future__ import annotations

from typing import Any

from service.audit.canonical import FIELDS

LOCK_KEY = 727106  # pg_advisory_xact_lock(LOCK_KEY, log_id): one sequencer pass per log at a time

TRY_LOCK = "select pg_try_advisory_xact_lock($1, $2)"
WAIT_LOCK = "select pg_advisory_xact_lock($1, $2)"
LOG_STATE = "select log_id, name, tree_size, root_hash, source_hwm from merkle_log where log_id = $1"
LOG_STATE_FOR_UPDATE = LOG_STATE + " for update"
LOG_BY_NAME = "select log_id, name, tree_size, root_hash, source_hwm from merkle_log where name = $1"
UPDATE_LOG = """
update merkle_log set tree_size = $2, root_hash = $3, source_hwm = $4, updated_at = now() where log_id = $1
"""
NODES = """
select n.level, n.idx, n.hash
from unnest($2::smallint[], $3::bigint[]) as k(level, idx)
join merkle_node n on n.log_id = $1 and n.level = k.level and n.idx = k.idx
"""
TABLE_EXISTS = "select to_regclass($1) is not null"

_EVENT_COLS = ", ".join(f"e.{f}" for f in FIELDS)

AUDIT_PENDING = f"""
select {_EVENT_COLS}
from (
    (select id from audit_event where id > $1 order by id limit $2)
    union
    (select event_id from audit_gap)
) as p
join audit_event e on e.id = p.id
where not exists (select 1 from audit_leaf l where l.event_id = e.id)
order by e.id
"""
AUDIT_GAPS_ADD = """
insert into audit_gap (event_id, seen_xmax)
select g, pg_snapshot_xmax(pg_current_snapshot())
from generate_series($1::bigint + 1, $2::bigint) as g
where not exists (select 1 from audit_leaf l where l.event_id = g)
on conflict do nothing
"""
AUDIT_GAPS_FILLED = "delete from audit_gap where event_id = any($1::bigint[])"
# final: old enough, and every transaction that was running when the gap was seen has ended
AUDIT_GAPS_EXPIRE = """
delete from audit_gap
where seen_at < now() - make_interval(secs => $1) and pg_snapshot_xmin(pg_current_snapshot()) >= seen_xmax
"""

LAST_CHECKPOINT = """
select log_id, tree_size, root_hash, issued_at, key_id, body, signature
from merkle_checkpoint where log_id = $1 order by tree_size desc limit 1
"""
CHECKPOINTS = """
select log_id, tree_size, root_hash, issued_at, key_id, body, signature
from merkle_checkpoint where log_id = $1 order by tree_size
"""
INSERT_CHECKPOINT = """
insert into merkle_checkpoint (log_id, tree_size, root_hash, issued_at, key_id, body, signature)
values ($1, $2, $3, $4, $5, $6, $7)
on conflict do nothing
"""

CHECKPOINT_AT = """
select log_id, tree_size, root_hash, issued_at, key_id, body, signature
from merkle_checkpoint where log_id = $1 and tree_size = $2
"""
# C2SP notes: signature holds the 4-byte key ID and the 64-byte signature (older rows: 64 bytes, own format)
LAST_NOTE_CHECKPOINT = """
select log_id, tree_size, root_hash, issued_at, key_id, body, signature
from merkle_checkpoint where log_id = $1 and length(signature) = 68 order by tree_size desc limit 1
"""
# the newest checkpoint cosigned by at least $4 of the witnesses ($2 names, $3 key IDs)
LAST_COSIGNED_CHECKPOINT = """
select c.log_id, c.tree_size, c.root_hash, c.issued_at, c.key_id, c.body, c.signature
from merkle_checkpoint c
where c.log_id = $1 and length(c.signature) = 68
  and (select count(distinct s.witness) from merkle_cosignature s
       join unnest($2::text[], $3::bytea[]) as w(name, key_id) on w.name = s.witness and w.key_id = s.key_id
       where s.log_id = c.log_id and s.tree_size = c.tree_size) >= $4
order by c.tree_size desc limit 1
"""
COSIGNATURES_AT = """
select witness, key_id, signature from merkle_cosignature where log_id = $1 and tree_size = $2
order by witness, key_id
"""
COSIGNATURES = """
select tree_size, witness, key_id, signature from merkle_cosignature where log_id = $1
order by tree_size, witness, key_id
"""
INSERT_COSIGNATURE = """
insert into merkle_cosignature (log_id, tree_size, witness, key_id, signed_at, signature)
values ($1, $2, $3, $4, $5, $6)
on conflict do nothing
"""

# a tlog-tiles tile: the hashes at tree level $2 (8 x the tile level), indexes [$3, $4)
TILE_HASHES = """
select hash from merkle_node where log_id = $1 and level = $2 and idx >= $3 and idx < $4 order by idx
"""

# the whole log in leaf order (an event that has since vanished comes back as nulls, so the gap shows at
# its index); read beside LEAF_HASH_RANGE, the hash each leaf got when it was sequenced: an ordered range
# read per batch rather than one index probe per row
LOG_EXPORT = f"""
select l.leaf_index, e.id is not null as present, {_EVENT_COLS}
from audit_leaf l
left join audit_event e on e.id = l.event_id
where l.leaf_index < $1
order by l.leaf_index
"""
LEAF_HASH_RANGE = """
select idx, hash from merkle_node where log_id = $1 and level = 0 and idx between $2 and $3
"""
# events below the high-water mark that are neither sequenced nor a known gap
UNSEQUENCED = """
select e.id from audit_event e
where e.id <= $1
  and not exists (select 1 from audit_leaf l where l.event_id = e.id)
  and not exists (select 1 from audit_gap g where g.event_id = e.id)
order by e.id limit 100
"""


def table_pending(table: str, index_column: str, leaf_column: str) -> str:
    """The next entries of a log whose rows carry a dense index from 1 and their own leaf bytes.

    The identifiers come from code (a LogSource), never from a request.
    """
    return (f"select {index_column} as source_id, {leaf_column} as leaf from {table} "
            f"where {index_column} > $1 order by {index_column} limit $2")


def table_log_leaves(table: str, index_column: str, leaf_column: str) -> str:
    """Each stored leaf hash of a table log with the row's leaf bytes (null if the row is gone)."""
    return (f"select n.idx as leaf_index, n.hash as leaf_hash, s.{leaf_column} as leaf from merkle_node n "
            f"left join {table} s on s.{index_column} = n.idx + 1 "
            f"where n.log_id = $1 and n.level = 0 and n.idx < $2 order by n.idx")


# ---- the event listing: equality filters, then the keyset order (occurred_at, id) ----

_LIST_HEAD = f"""
select {_EVENT_COLS}, l.leaf_index, n.hash as leaf_hash
from audit_event e
left join audit_leaf l on l.event_id = e.id
left join merkle_node n on n.log_id = 1 and n.level = 0 and n.idx = l.leaf_index
"""

# filter name -> SQL with one `{}` for its parameter number
FILTERS: dict[str, str] = {
    "actor_type": "e.actor_type = ${}",
    "actor_id": "e.actor_id = ${}",
    "role": "e.role = ${}",
    "action": "e.action = ${}",
    "subject_type": "e.subject_type = ${}",
    "subject_id": "e.subject_id = ${}",
    "outcome": "e.outcome = ${}",
    "since": "e.occurred_at >= ${}",
    "until": "e.occurred_at < ${}",
}
# a jurisdiction subtree by the depth of its code in the path (see the indexes in 0006)
SUBTREE_PART = "split_part(e.jurisdiction_path, '/', {part}) = ${{}}"
SUBTREE_CODE = "e.jurisdiction_code = ${}"
SUBTREE_PREFIX = "e.jurisdiction_path like ${} || '%'"


def subtree_condition(path: str) -> tuple[str, str]:
    """The condition (with one `{}` placeholder) selecting a jurisdiction's subtree, and its value."""
    parts = [p for p in path.split("/") if p]
    depth = len(parts)  # 1: the nation, 2: a province, ... 6: a community
    code = parts[-1]
    if 2 <= depth <= 5:
        return SUBTREE_PART.format(part=depth + 1), code
    if depth == 6:
        return SUBTREE_CODE, code
    return SUBTREE_PREFIX, path


def event_listing(
    *, filters: dict[str, Any], subtrees: list[str] | None, newest_first: bool, after: tuple[Any, int] | None,
    limit: int | None,
) -> tuple[str, list[Any]]:
    """SQL and arguments for a page (or, with limit None, the whole result) of events.

    `subtrees`: jurisdiction paths the rows must fall within (None: anywhere, unscoped events too).
    """
    where: list[str] = []
    args: list[Any] = []

    def param(template: str, value: Any) -> None:
        args.append(value)
        where.append(template.format(len(args)))

    for name, value in filters.items():
        if value is not None:
            param(FILTERS[name], value)
    if subtrees is not None:
        if not subtrees:
            where.append("false")
        else:
            ors = []
            for path in subtrees:
                template, value = subtree_condition(path)
                args.append(value)
                ors.append(template.format(len(args)))
            where.append(ors[0] if len(ors) == 1 else "(" + " or ".join(ors) + ")")
    op, direction = ("<", "desc") if newest_first else (">", "asc")
    if after is not None:
        args.extend(after)
        where.append(f"(e.occurred_at, e.id) {op} (${len(args) - 1}, ${len(args)})")
    sql = _LIST_HEAD + (" where " + " and ".join(where) if where else "")
    sql += f" order by e.occurred_at {direction}, e.id {direction}"
    if limit is not None:
        args.append(limit)
        sql += f" limit ${len(args)}"
    return sql, args

# A person by name, for the audit search: web users by username or display name, API clients by name
# or organisation; with $3 (jurisdiction paths) only those who hold a role there, or whose home
# (a client's) is there: a county's supervisor does not learn who works elsewhere.
FIND_PEOPLE = """
with scope as (select p || '%' as prefix from unnest($3::text[]) p)
select 'user' as actor_type, u.id::text as actor_id, u.display_name as name, u.username as detail
from web_user u
where (u.username ilike '%' || $1 || '%' or u.display_name ilike '%' || $1 || '%')
  and ($3::text[] is null or exists (
    select 1 from role_assignment r join jurisdiction j on j.code = r.jurisdiction_code
    where r.principal_type = 'user' and r.principal_id = u.id and j.path like any (select prefix from scope)))
union all
select 'client', c.id::text, c.organisation, c.name
from api_client c
where (c.name ilike '%' || $1 || '%' or c.organisation ilike '%' || $1 || '%')
  and ($3::text[] is null
       or exists (select 1 from jurisdiction j where j.code = c.jurisdiction_code
                  and j.path like any (select prefix from scope))
       or exists (select 1 from role_assignment r join jurisdiction j on j.code = r.jurisdiction_code
                  where r.principal_type = 'client' and r.principal_id = c.id
                    and j.path like any (select prefix from scope)))
order by 1, 2
limit $2
"""

def explain(sql: str) -> str:
    """The plan of a query, which binds its arguments without running it."""
    return "explain " + sql


# the first event of an action about a subject, with its leaf (none until the sequencer has appended it)
EVENT_WITH_LEAF = """
select e.*, l.leaf_index
from audit_event e join audit_leaf l on l.event_id = e.id
where e.action = $1 and e.subject_type = $2 and e.subject_id = $3
order by e.id
limit 1
"""
EVENT_WITH_LEAF_BY_ID = """
select e.*, l.leaf_index
from audit_event e join audit_leaf l on l.event_id = e.id
where e.id = $1
"""
EVENT_EXISTS = "select 1 from audit_event where id = $1"
EVENT_RECORDED = "select 1 from audit_event where action = $1 and subject_type = $2 and subject_id = $3 limit 1"
