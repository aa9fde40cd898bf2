-- Admission requests (准入申请): screening rules, requests and their transitions, idempotency keys,
-- callback secrets for the delivery worker, refusals and complaints.

-- Screening rules are data: the national ones come from policies/admission_screening.csv (synced into
-- this table at start), a county adds its own through the API. county_code null: national.
create table screening_rule (
    id          bigint generated always as identity primary key,
    county_code text references jurisdiction (code),
    rule        text not null check (rule ~ '^[a-z0-9._-]{3,80}$'),
    -- phrase: a phrase read in the title and content; category: a declared kind/list;
    -- responsible_area: an area in which the community may not be the responsible party
    match_type  text not null check (match_type in ('phrase', 'category', 'responsible_area')),
    pattern     text not null check (length(pattern) between 1 and 200),
    severity    text not null check (severity in ('refuse', 'flag')),
    message     text not null check (length(message) between 1 and 500),
    source      text not null default 'api' check (source in ('file', 'api')),
    created_at  timestamptz not null default now(),
    created_by  text not null,
    retired_at  timestamptz
);
create unique index screening_rule_once on screening_rule (coalesce(county_code, ''), match_type, pattern)
    where retired_at is null;
create trigger screening_rule_notify after insert or update on screening_rule
    for each statement execute function notify_table_changed('screening_rules');

create table admission_request (
    id              bigint generated always as identity primary key,
    -- requests split from one submission across counties share a group; a new revision keeps it
    group_id        bigint not null,
    revision        integer not null default 1,
    previous_id     bigint references admission_request (id),
    submitter       text not null,          -- 'client:3' or 'user:7'
    client_id       bigint references api_client (id),
    department      text not null,          -- the submitting organisation's name
    county_code     text not null references jurisdiction (code),
    targets         text[] not null,
    reviewing_body  text not null,
    status          text not null check (status in ('draft', 'submitted', 'in_review', 'approved', 'rejected',
                        'returned', 'resubmitted', 'withdrawn', 'revoked', 'refused')),
    kind            text not null,
    list_name       text not null,
    title           text not null,
    body            jsonb not null,         -- the submission as given (frozen once submitted)
    verdict         text check (verdict in ('clear', 'flagged', 'refused')),
    findings        jsonb not null default '[]'::jsonb,
    submitted_at    timestamptz,
    decision_due    date,
    decided_at      timestamptz,
    decided_by      text,
    decision_reason text,
    effective_from  date,
    item_code       text,                   -- the registry item an approval wrote
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index admission_request_county on admission_request (county_code, status, id);
create index admission_request_submitter on admission_request (submitter, id);
create index admission_request_group on admission_request (group_id);
create index admission_request_due on admission_request (decision_due) where status in ('submitted', 'in_review');

-- Every change of state, timestamped.
create table admission_transition (
    id          bigint generated always as identity primary key,
    request_id  bigint not null references admission_request (id),
    from_status text,
    to_status   text not null,
    at          timestamptz not null default clock_timestamp(),
    actor       text not null,
    reason      text
);
create index admission_transition_request on admission_transition (request_id, id);

-- Idempotency-Key: per caller, kept in PostgreSQL so a retry to another process finds the first result.
create table idempotency_key (
    subject      text not null,
    key          text not null,
    body_digest  text not null,
    status_code  integer,
    response     jsonb,
    created_at   timestamptz not null default now(),
    primary key (subject, key)
);
create index idempotency_key_age on idempotency_key (created_at);

-- The per-client secret the delivery worker signs callbacks with (HMAC-SHA256). It must be kept
-- in clear: the receiver verifies with the same secret.
alter table api_client add column callback_secret text;

-- A community records that it refused a matter that was not admitted.
create table matter_refusal (
    id             bigint generated always as identity primary key,
    community_code text not null references jurisdiction (code),
    county_code    text not null references jurisdiction (code),
    department     text not null,
    matter_title   text not null,
    -- the enforcement check's receipt (check_record.id), when the community asked first
    receipt_id     uuid,
    reason         text not null,
    recorded_by    text not null,
    recorded_at    timestamptz not null default now()
);
create index matter_refusal_county on matter_refusal (county_code, id);

create table complaint (
    id                   bigint generated always as identity primary key,
    county_code          text not null references jurisdiction (code),
    jurisdiction_code    text not null references jurisdiction (code),
    department           text not null,
    subject_kind         text not null check (subject_kind in ('task', 'app', 'work_group', 'plaque', 'certificate',
                             'report', 'other')),
    matter               text not null,
    description          text not null,
    admission_request_id bigint references admission_request (id),
    refusal_id           bigint references matter_refusal (id),
    -- personal data only when the filer gives it
    contact              text,
    filed_by             text,           -- a subject when signed in, null when anonymous
    status               text not null default 'received' check (status in ('received', 'under_investigation',
                             'substantiated', 'unfounded')),
    finding              text,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now()
);
create index complaint_county on complaint (county_code, status, id);
create index complaint_department on complaint (county_code, department);

-- Complaints accepted per client address per hour (the counter behind the rate limit).
create table complaint_rate (
    client_addr  text not null,
    window_start timestamptz not null,
    count        integer not null,
    primary key (client_addr, window_start)
);

-- Processes cache each county's calendar and settings for screening; these tell them to reload.
create trigger calendar_day_notify after insert or update or delete on calendar_day
    for each statement execute function notify_table_changed('calendar');
create trigger county_setting_notify after insert or update or delete on county_setting
    for each statement execute function notify_table_changed('county_settings');

-- The outbox's statement trigger (0002) woke every process's delivery worker even when an
-- insert ... select added no row (a department without a callback): wake only when rows arrived.
create function outbox_wake_if_rows() returns trigger language plpgsql as $$
begin
    if exists (select 1 from inserted) then
        perform notify_change('outbox');
    end if;
    return null;
end $$;
drop trigger outbox_notify on outbox;
create trigger outbox_notify after insert on outbox referencing new table as inserted
    for each statement execute function outbox_wake_if_rows();
