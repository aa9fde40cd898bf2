-- Shared by the workflows: the working-day calendar, per-county settings, and the notification outbox.

-- Public holidays and make-up workdays (调休). county_code null: national; a county may add its own.
create table calendar_day (
    id          bigint generated always as identity primary key,
    day         date not null,
    kind        text not null check (kind in ('holiday', 'workday')),
    name        text not null check (length(name) between 1 and 100),
    county_code text references jurisdiction (code),
    created_at  timestamptz not null default now(),
    created_by  text not null
);
create unique index calendar_day_once on calendar_day (day, coalesce(county_code, ''));

-- A county's own figures (notice period, deadlines, staffing standard, secondment limits, ...).
-- Keys absent here take the defaults in service/settings_county.py.
create table county_setting (
    county_code text primary key references jurisdiction (code),
    settings    jsonb not null default '{}'::jsonb,
    updated_at  timestamptz not null default now(),
    updated_by  text not null
);

-- Notifications to departments' callback URLs, written in the same transaction as the change they
-- announce; a worker delivers them (HMAC-signed) and keeps every attempt.
create table outbox (
    id              bigint generated always as identity primary key,
    client_id       bigint not null references api_client (id),
    topic           text not null,
    subject_type    text not null,
    subject_id      text not null,
    payload         jsonb not null,
    created_at      timestamptz not null default now(),
    next_attempt_at timestamptz not null default now(),
    attempts        integer not null default 0,
    delivered_at    timestamptz,
    given_up_at     timestamptz,
    last_error      text
);
create index outbox_due on outbox (next_attempt_at) where delivered_at is null and given_up_at is null;
create index outbox_subject on outbox (subject_type, subject_id, id);

create table delivery_attempt (
    id           bigint generated always as identity primary key,
    outbox_id    bigint not null references outbox (id),
    attempted_at timestamptz not null default now(),
    url          text not null,
    status_code  integer,
    error        text,
    duration_ms  integer not null
);
create index delivery_attempt_outbox on delivery_attempt (outbox_id, id);

create function outbox_wake() returns trigger language plpgsql as $$
begin
    perform notify_change('outbox');
    return null;
end $$;
create trigger outbox_notify after insert on outbox for each statement execute function outbox_wake();
