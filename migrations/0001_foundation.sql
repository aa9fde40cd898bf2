-- Foundation: jurisdictions, identities, role assignments, the audit trail, change notifications.

-- Every row that other processes cache carries a change_seq from this sequence; a listener told
-- of a change fetches the rows past the last seq it saw (and after a reconnect, does the same).
create sequence change_seq;

create table jurisdiction (
    code        text primary key check (code ~ '^[0-9]{2,12}$'),
    parent_code text references jurisdiction (code),
    level       text not null check (level in ('nation', 'province', 'city', 'county', 'street', 'community')),
    name        text not null check (length(name) between 1 and 100),
    -- urban resident population; communities carry it so staffing can be computed
    population  integer check (population >= 0),
    -- '/43/4301/430121/' : every ancestor code, for subtree queries by prefix
    path        text not null,
    -- the county this node belongs to (itself for a county); null above county level
    county_code text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    change_seq  bigint not null default nextval('change_seq'),
    check ((level = 'nation') = (parent_code is null))
);
-- The one root: the whole country. Provinces hang below it.
insert into jurisdiction (code, parent_code, level, name, path) values ('00', null, 'nation', '全国', '/00/');

create index jurisdiction_parent on jurisdiction (parent_code);
create index jurisdiction_path on jurisdiction (path text_pattern_ops);
create index jurisdiction_county on jurisdiction (county_code);
create index jurisdiction_seq on jurisdiction (change_seq);

create table web_user (
    id              bigint generated always as identity primary key,
    username        text not null unique check (username ~ '^[a-z0-9._-]{3,64}$'),
    display_name    text not null,
    password_hash   text not null,
    locale          text not null default 'zh-CN',
    failed_logins   integer not null default 0,
    locked_until    timestamptz,
    disabled_at     timestamptz,
    created_at      timestamptz not null default now()
);

-- A department, street office or other organisation that calls the API with tokens.
create table api_client (
    id                 bigint generated always as identity primary key,
    name               text not null unique,
    organisation       text not null,
    -- the organisation's own level: a county bureau is 'county', a street office 'street'
    organisation_level text not null check (organisation_level in
                           ('national', 'province', 'city', 'county', 'street', 'community', 'other')),
    jurisdiction_code  text not null references jurisdiction (code),
    callback_url       text,
    created_at         timestamptz not null default now(),
    disabled_at        timestamptz
);

create table api_token (
    id           bigint generated always as identity primary key,
    client_id    bigint not null references api_client (id),
    -- HMAC-SHA256(pepper, token); the token itself is never stored
    token_hash   bytea not null unique,
    prefix       text not null,
    label        text not null default '',
    created_at   timestamptz not null default now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
create index api_token_client on api_token (client_id);

create table role_assignment (
    id                bigint generated always as identity primary key,
    principal_type    text not null check (principal_type in ('user', 'client')),
    principal_id      bigint not null,
    role              text not null check (role in ('department', 'street_office', 'county_reviewer',
                          'org_department', 'community', 'supervisor', 'admin')),
    jurisdiction_code text not null references jurisdiction (code),
    granted_at        timestamptz not null default now(),
    granted_by        text not null,
    revoked_at        timestamptz,
    revoked_by        text,
    change_seq        bigint not null default nextval('change_seq')
);
create index role_assignment_seq on role_assignment (change_seq);
create unique index role_assignment_active
    on role_assignment (principal_type, principal_id, role, jurisdiction_code) where revoked_at is null;
create index role_assignment_jurisdiction on role_assignment (jurisdiction_code);

-- The audit trail. Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE.
create table audit_event (
    id                bigint generated always as identity primary key,
    occurred_at       timestamptz not null default clock_timestamp(),
    actor_type        text not null check (actor_type in ('user', 'client', 'anonymous', 'system')),
    actor_id          text,
    actor_name        text,
    role              text,
    request_id        text,
    client_addr       text,
    action            text not null,
    subject_type      text not null,
    subject_id        text,
    jurisdiction_code text,
    -- the jurisdiction's path at the time, so a supervisor's subtree is one prefix scan
    jurisdiction_path text,
    outcome           text not null check (outcome in ('ok', 'denied', 'refused', 'failed')),
    status_code       integer,
    -- SHA-256 (hex) of the canonical JSON of what changed
    digest            text,
    detail            jsonb not null default '{}'::jsonb
);
create index audit_event_time on audit_event (occurred_at, id);
create index audit_event_actor on audit_event (actor_type, actor_id, id);
create index audit_event_action on audit_event (action, id);
create index audit_event_subject on audit_event (subject_type, subject_id, id);
create index audit_event_path on audit_event (jurisdiction_path text_pattern_ops, id);
create index audit_event_outcome on audit_event (outcome, id);

create function audit_event_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'audit_event is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end $$;
create trigger audit_event_no_update before update or delete on audit_event
    for each row execute function audit_event_immutable();
create trigger audit_event_no_truncate before truncate on audit_event
    for each statement execute function audit_event_immutable();

-- One channel carries every change other processes must apply (roles, jurisdictions, lists, ...).
-- Payload: {"topic": "...", ...}. Listeners apply it within a second.
create function notify_change(topic text, body jsonb default '{}'::jsonb) returns void language sql as $$
    select pg_notify('mr_change', (jsonb_build_object('topic', topic) || body)::text)
$$;

create function bump_change_seq() returns trigger language plpgsql as $$
begin
    new.change_seq := nextval('change_seq');
    return new;
end $$;

create function notify_table_changed() returns trigger language plpgsql as $$
begin
    perform notify_change(tg_argv[0]);
    return null;
end $$;

create trigger role_assignment_seq before update on role_assignment
    for each row execute function bump_change_seq();
create trigger role_assignment_notify after insert or update on role_assignment
    for each statement execute function notify_table_changed('roles');
create trigger jurisdiction_seq before update on jurisdiction
    for each row execute function bump_change_seq();
create trigger jurisdiction_notify after insert or update on jurisdiction
    for each statement execute function notify_table_changed('jurisdictions');
