-- The verifiable audit log: RFC 6962 Merkle trees over append-only logs, signed checkpoints,
-- and indexes matching each audit query shape. See service/audit/.

-- One row per log. 1: the audit trail (audit_event); 2: the register's entry log (registry_entry).
create table merkle_log (
    log_id     smallint primary key,
    name       text not null unique,
    tree_size  bigint not null default 0 check (tree_size >= 0),
    -- MTH of the first tree_size leaves; SHA-256 of the empty string for the empty tree
    root_hash  bytea not null default sha256(''::bytea),
    -- the highest source id sequenced so far (audit_event.id; registry entry_number)
    source_hwm bigint not null default 0,
    updated_at timestamptz not null default now()
);
insert into merkle_log (log_id, name) values (1, 'audit'), (2, 'registry');

-- Hashes of complete subtrees: (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level).
-- Level 0 holds the leaf hashes. A proof reads O(log n) of these rows.
create table merkle_node (
    log_id smallint not null references merkle_log (log_id),
    level  smallint not null check (level between 0 and 62),
    idx    bigint not null check (idx >= 0),
    hash   bytea not null check (length(hash) = 32),
    primary key (log_id, level, idx)
);

-- Dense leaf indexes for audit events, in the order the sequencer appended them.
create table audit_leaf (
    leaf_index bigint primary key check (leaf_index >= 0),
    event_id   bigint not null unique
);

-- Ids below the sequencer's high-water mark not seen yet: a rolled-back insert (a permanent gap)
-- or a transaction still open (it will commit late). Re-read each pass; dropped once final.
create table audit_gap (
    event_id   bigint primary key,
    seen_at    timestamptz not null default now(),
    -- every transaction that could still commit this id has an xid below this
    seen_xmax  xid8 not null
);

-- Signed tree heads. The signature covers `body` (UTF-8); the key is never stored here.
create table merkle_checkpoint (
    log_id     smallint not null references merkle_log (log_id),
    tree_size  bigint not null,
    root_hash  bytea not null check (length(root_hash) = 32),
    issued_at  timestamptz not null,
    key_id     text not null,
    body       text not null,
    signature  bytea not null,
    primary key (log_id, tree_size)
);

create function merkle_immutable() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = 'insufficient_privilege';
end $$;
create trigger merkle_node_no_update before update or delete on merkle_node
    for each row execute function merkle_immutable();
create trigger audit_leaf_no_update before update or delete on audit_leaf
    for each row execute function merkle_immutable();
create trigger merkle_checkpoint_no_update before update or delete on merkle_checkpoint
    for each row execute function merkle_immutable();

-- Query shapes: every filter is an equality followed by the keyset order (occurred_at, id), so a
-- page is one index range read in order, never scan-and-discard. These supersede 0001's (x, id)
-- indexes, whose order no listing uses.
drop index audit_event_actor;
drop index audit_event_action;
drop index audit_event_subject;
drop index audit_event_outcome;
create index audit_event_actor_t on audit_event (actor_type, actor_id, occurred_at, id);
create index audit_event_role_t on audit_event (role, occurred_at, id);
create index audit_event_action_t on audit_event (action, occurred_at, id);
create index audit_event_subject_t on audit_event (subject_type, subject_id, occurred_at, id);
create index audit_event_outcome_t on audit_event (outcome, occurred_at, id);
create index audit_event_code_t on audit_event (jurisdiction_code, occurred_at, id);
-- a jurisdiction subtree is one path component equal to its code: '/00/43/4301/430121/...' has the
-- province in part 3, the city in 4, the county in 5, the street in 6 (communities: the code itself)
create index audit_event_province_t on audit_event (split_part(jurisdiction_path, '/', 3), occurred_at, id);
create index audit_event_city_t on audit_event (split_part(jurisdiction_path, '/', 4), occurred_at, id);
create index audit_event_county_t on audit_event (split_part(jurisdiction_path, '/', 5), occurred_at, id);
create index audit_event_street_t on audit_event (split_part(jurisdiction_path, '/', 6), occurred_at, id);
