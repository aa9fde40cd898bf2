-- The service connects as a role that owns nothing (service/core/roles.py grants its rights after
-- every migrate). It may UPDATE four columns of merkle_log, the head of each log; this trigger lets
-- the head move forward only, so even the service's role cannot rewind a log or swap its root:
-- the tree size and the high-water mark never go down, and a root changes only with the size.
create function merkle_log_forward_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        raise exception 'merkle_log rows are never removed' using errcode = 'insufficient_privilege';
    end if;
    if new.log_id <> old.log_id or new.name <> old.name then
        raise exception 'merkle_log: a log''s id and name never change' using errcode = 'insufficient_privilege';
    end if;
    if new.tree_size < old.tree_size or new.source_hwm < old.source_hwm then
        raise exception 'merkle_log: log % may only grow (tree size % -> %, high-water mark % -> %)',
            old.name, old.tree_size, new.tree_size, old.source_hwm, new.source_hwm
            using errcode = 'insufficient_privilege';
    end if;
    if new.tree_size = old.tree_size and new.root_hash <> old.root_hash then
        raise exception 'merkle_log: log % root changed without new leaves', old.name
            using errcode = 'insufficient_privilege';
    end if;
    if new.tree_size > 0 and not exists (select 1 from merkle_node n where n.log_id = new.log_id and n.level = 0
                                                                       and n.idx = new.tree_size - 1) then
        raise exception 'merkle_log: log % has no leaf %', old.name, new.tree_size - 1
            using errcode = 'insufficient_privilege';
    end if;
    return new;
end $$;
create trigger merkle_log_forward_only before update or delete on merkle_log
    for each row execute function merkle_log_forward_only();

-- TRUNCATE skips row triggers: refuse it on the log tables that had only row triggers (audit_event and
-- registry_entry have had one since 0001/0003). The service's role has no TRUNCATE right anyway; this
-- keeps an owner's slip from emptying a log too.
create function log_no_truncate() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only: TRUNCATE refused', tg_table_name using errcode = 'insufficient_privilege';
end $$;
create trigger merkle_node_no_truncate before truncate on merkle_node
    for each statement execute function log_no_truncate();
create trigger audit_leaf_no_truncate before truncate on audit_leaf
    for each statement execute function log_no_truncate();
create trigger merkle_checkpoint_no_truncate before truncate on merkle_checkpoint
    for each statement execute function log_no_truncate();
create trigger merkle_log_no_truncate before truncate on merkle_log
    for each statement execute function log_no_truncate();
