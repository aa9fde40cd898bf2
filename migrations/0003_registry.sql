-- The matter registry: items (records: the latest state), entries (the append-only log), releases,
-- and the record of every enforcement check.
--
-- A list lives in a scope: 'national', a 2-digit province code (template levels) or a 6-digit county
-- code. A county's effective list is national + its province + its own records, a county record
-- overriding a template record of the same code.

create extension if not exists pg_trgm;

-- One row: the last entry number handed out. Taken with UPDATE ... RETURNING in the writing
-- transaction, so entry numbers are dense: a rolled-back transaction gives its number back.
create table registry_entry_counter (
    singleton   boolean primary key default true check (singleton),
    last_number bigint not null
);
insert into registry_entry_counter (singleton, last_number) values (true, 0);

create table registry_entry (
    entry_number   bigint primary key check (entry_number >= 1),
    scope          text not null check (scope = 'national' or scope ~ '^[0-9]{2}$' or scope ~ '^[0-9]{6}$'),
    code           text not null,
    entry_type     text not null check (entry_type in ('add', 'amend', 'suspend', 'resume', 'retire')),
    -- the item's status once this entry takes effect
    status         text not null check (status in ('active', 'suspended', 'retired')),
    effective_from date not null,
    entered_at     timestamptz not null,
    actor          text not null,
    reason         text not null,
    source_ref     text not null default '',
    -- the item as it became (the same object as in `leaf`)
    item           jsonb not null,
    -- canonical JSON of the whole entry (sorted keys, UTF-8): the Merkle tree's leaf
    leaf           bytea not null,
    -- SHA-256 of `leaf`
    item_digest    bytea not null check (length(item_digest) = 32)
);
create index registry_entry_item on registry_entry (scope, code, entry_number desc);

create function registry_entry_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'registry_entry is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end $$;
create trigger registry_entry_no_update before update or delete on registry_entry
    for each row execute function registry_entry_immutable();
create trigger registry_entry_no_truncate before truncate on registry_entry
    for each statement execute function registry_entry_immutable();

-- The record: the latest entry of each item (which may be future-dated; effectiveness at a date
-- is computed from the entries at read time).
create table registry_item (
    scope          text not null,
    code           text not null check (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    kind           text not null check (kind in ('task', 'plaque', 'certificate', 'report', 'digital')),
    list           text not null,
    title          text not null,
    content        text not null default '',
    status         text not null check (status in ('active', 'suspended', 'retired')),
    -- effective date of the item's first entry, and of its latest
    created_from   date not null,
    effective_from date not null,
    expires_on     date,
    entry_number   bigint not null references registry_entry (entry_number),
    item           jsonb not null,
    updated_at     timestamptz not null default now(),
    change_seq     bigint not null default nextval('change_seq'),
    primary key (scope, code)
);
create index registry_item_seq on registry_item (change_seq);
create index registry_item_title_trgm on registry_item using gin (title gin_trgm_ops);
create trigger registry_item_seq before update on registry_item
    for each row execute function bump_change_seq();
create trigger registry_item_notify after insert or update on registry_item
    for each statement execute function notify_table_changed('registry');

-- A named, dated version of a county's list. `entry_cap` is the log position when it was made:
-- reading it back takes the entries up to the cap that are effective on `release_date`.
create table registry_release (
    id                   bigint generated always as identity primary key,
    county_code          text not null references jurisdiction (code),
    name                 text not null check (length(name) between 1 and 100),
    release_date         date not null,
    issuing_body         text not null,
    document_number      text not null,
    approving_government text not null,
    filed_upward_on      date,
    entry_cap            bigint not null,
    created_at           timestamptz not null default now(),
    created_by           text not null,
    change_seq           bigint not null default nextval('change_seq'),
    unique (county_code, name)
);
create index registry_release_county on registry_release (county_code, release_date);
create trigger registry_release_notify after insert on registry_release
    for each statement execute function notify_table_changed('registry');

-- Every enforcement check, written in batches (COPY). `id` is the refusal receipt's public key.
create table check_record (
    id              uuid primary key,
    asked_at        timestamptz not null,
    asker           text not null,
    department      text,
    community_code  text not null,
    county_code     text not null,
    matter_code     text,
    matter_title    text,
    role            text not null,
    allowed         boolean not null,
    rule            text not null,
    reason          text not null,
    cited_scope     text,
    cited_code      text,
    cited_list      text,
    cited_entry     bigint,
    cited_release   text,
    cited_document  text
);
create index check_record_community on check_record (community_code, asked_at);
