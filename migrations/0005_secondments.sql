-- Secondments (借调): the community-worker roster and secondment requests with their extensions.
-- Staffing history is derived from roster dates and secondment dates (no snapshots are kept).

-- A community worker, known only by a pseudonymous reference: no national ID number is stored.
create table community_worker (
    id             bigint generated always as identity primary key,
    worker_ref     text not null unique
                   check (worker_ref ~ '^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$' and worker_ref !~ '[0-9]{17}[0-9Xx]'),
    display_name   text not null check (length(display_name) between 1 and 50
                                        and display_name !~ '[0-9]{17}[0-9Xx]'),
    community_code text not null references jurisdiction (code),
    post           text not null check (post in ('party_committee', 'residents_committee', 'community_staff')),
    start_date     date not null,
    status         text not null default 'in_post' check (status in ('in_post', 'left')),
    left_date      date,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    check ((status = 'left') = (left_date is not null)),
    check (left_date is null or left_date >= start_date)
);
create index community_worker_community on community_worker (community_code);

create table secondment_request (
    id                  bigint generated always as identity primary key,
    -- the home community when known, else the requesting client's own jurisdiction (refused attempts)
    jurisdiction_code   text not null references jurisdiction (code),
    county_code         text not null references jurisdiction (code),
    home_community_code text references jurisdiction (code),
    organ_name          text not null check (length(organ_name) between 1 and 100),
    organ_level         text not null check (organ_level in ('national', 'province', 'city', 'county', 'street',
                                                             'other')),
    organ_other_level   text,
    -- the level the rule is applied at: the declared one, raised to the calling client's own level
    effective_level     text not null,
    form                text not null check (form in ('secondment', 'temporary_transfer', 'shadow_learning',
                                                      'task_force')),
    purpose             text not null check (length(purpose) between 1 and 2000),
    start_date          date not null,
    end_date            date not null,
    worker_consent      boolean not null,
    community_consent   boolean not null,
    -- as submitted, kept even when a reference is unknown (refused attempts)
    worker_refs         text[] not null,
    status              text not null check (status in ('refused', 'pending_approval', 'approved', 'rejected',
                                                        'withdrawn', 'active', 'overdue', 'returned')),
    broken_rules        jsonb not null default '[]'::jsonb,
    decision_due        date,
    decided_at          timestamptz,
    decided_by          text,
    decision_reasons    text,
    staffing_warning    jsonb,
    returned_on         date,
    return_recorded_by  text,
    overdue_since       date,
    client_id           bigint references api_client (id),
    submitted_by        text not null,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);
create index secondment_request_county on secondment_request (county_code, status);
create index secondment_request_jurisdiction on secondment_request (jurisdiction_code);
create index secondment_request_due on secondment_request (status, end_date) where status in ('approved', 'active');

create table secondment_worker (
    request_id bigint not null references secondment_request (id),
    worker_id  bigint not null references community_worker (id),
    primary key (request_id, worker_id)
);
create index secondment_worker_worker on secondment_worker (worker_id);

create table secondment_extension (
    id               bigint generated always as identity primary key,
    request_id       bigint not null references secondment_request (id),
    previous_end     date not null,
    requested_end    date not null,
    reason           text not null check (length(reason) between 1 and 2000),
    status           text not null check (status in ('pending_approval', 'approved', 'rejected')),
    decided_at       timestamptz,
    decided_by       text,
    decision_reasons text,
    submitted_by     text not null,
    created_at       timestamptz not null default now()
);
-- one open extension per secondment at a time
create unique index secondment_extension_open on secondment_extension (request_id) where status = 'pending_approval';
