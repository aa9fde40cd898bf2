-- Witness cosignatures of signed checkpoints (C2SP tlog-cosignature, Ed25519, type 0x04).
-- A row is one verified cosignature line: `— <witness> base64(key_id || signature)` where signature is
-- the 8-byte big-endian timestamp followed by the 64-byte Ed25519 signature. See docs/audit.md.
create table merkle_cosignature (
    log_id      smallint not null,
    tree_size   bigint not null,
    witness     text not null,
    key_id      bytea not null check (length(key_id) = 4),
    signed_at   bigint not null check (signed_at >= 0),
    signature   bytea not null check (length(signature) = 72),
    received_at timestamptz not null default now(),
    primary key (log_id, tree_size, witness, key_id),
    foreign key (log_id, tree_size) references merkle_checkpoint (log_id, tree_size)
);
create trigger merkle_cosignature_no_update before update or delete on merkle_cosignature
    for each row execute function merkle_immutable();
