"""SQL of the admission area ($n parameters only)."""

NEXT_GROUP = "select nextval(pg_get_serial_sequence('admission_request', 'id'))"

# the request and its first transition in one round trip
INSERT_REQUEST = """
with n as (select nextval(pg_get_serial_sequence('admission_request', 'id')) as id),
r as (
    insert into admission_request (id, group_id, revision, previous_id, submitter, client_id, department,
                                   county_code, targets, reviewing_body, status, kind, list_name, title, body,
                                   verdict, findings, submitted_at, decision_due)
    overriding system value
    select n.id, coalesce($1, n.id), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
           case when $10 = 'draft' then null else now() end, $17
    from n
    returning *
), t as (
    insert into admission_transition (request_id, from_status, to_status, actor, reason)
    select r.id, null, r.status, $18, $19 from r
)
select * from r
"""

GET_REQUEST = "select * from admission_request where id = $1"

REQUEST_COUNTY = "select county_code from admission_request where id = $1"

LINKED = """
select id, county_code, status from admission_request
where group_id = $1 and id <> $2 and status <> 'resubmitted' order by id
"""

UPDATE_DRAFT = """
update admission_request set targets = $2, kind = $3, list_name = $4, title = $5, body = $6, updated_at = now()
where id = $1 and status = 'draft' returning *
"""

SUBMIT_DRAFT = """
update admission_request set status = $2, verdict = $3, findings = $4, submitted_at = now(), decision_due = $5,
       reviewing_body = $6, updated_at = now()
where id = $1 and status = 'draft' returning *
"""

# The conditional UPDATE is the concurrency control: of two reviewers deciding at once, the second
# waits on the row lock, then finds the status no longer expected and changes nothing.
TRANSITION = """
with old as (select id, status from admission_request where id = $1 for update)
update admission_request r set status = $2, updated_at = now(),
       decided_at = case when $2 in ('approved', 'rejected', 'returned') then now() else r.decided_at end,
       decided_by = coalesce($4, r.decided_by), decision_reason = coalesce($5, r.decision_reason),
       effective_from = coalesce($6, r.effective_from), item_code = coalesce($7, r.item_code)
from old
where r.id = old.id and old.status = any($3::text[])
returning r.*, old.status as previous_status
"""

INSERT_TRANSITION = """
insert into admission_transition (request_id, from_status, to_status, actor, reason) values ($1, $2, $3, $4, $5)
"""

HISTORY = """
select from_status, to_status, at, actor, reason from admission_transition where request_id = $1 order by id
"""

LIST = """
select id, group_id, revision, status, county_code, targets, department, title, verdict, decision_due, submitted_at
from admission_request
-- a reviewer sees a request once it was submitted: a draft (and a draft withdrawn unsent) is its author's only
where (submitter = $1 or (county_code = any($2::text[]) and submitted_at is not null))
  and ($3::text is null or status = $3)
  and ($4::text is null or county_code = $4)
  and (not $5 or (status in ('submitted', 'in_review') and decision_due < $6))
  and ($7::bigint is null or id < $7)
order by id desc
limit $8
"""

DELIVERIES = """
select o.id as outbox_id, o.topic, o.created_at, o.delivered_at, o.given_up_at, o.attempts, o.next_attempt_at,
       o.last_error,
       coalesce((select jsonb_agg(jsonb_build_object('attempted_at', a.attempted_at, 'url', a.url,
                                                     'status_code', a.status_code, 'error', a.error,
                                                     'duration_ms', a.duration_ms) order by a.id)
                 from delivery_attempt a where a.outbox_id = o.id), '[]'::jsonb) as log
from outbox o where o.subject_type = 'admission_request' and o.subject_id = $1 order by o.id
"""

CLAIM_KEY = """
insert into idempotency_key (subject, key, body_digest) values ($1, $2, $3)
on conflict (subject, key) do nothing
returning subject
"""

GET_KEY = "select body_digest, status_code, response from idempotency_key where subject = $1 and key = $2"

STORE_KEY = "update idempotency_key set status_code = $3, response = $4 where subject = $1 and key = $2"

RULES = """
select id, county_code, rule, match_type, pattern, severity, message, source, created_at, definition
from screening_rule where retired_at is null and (county_code is null or county_code = any($1::text[]))
order by id
"""

SYNC_FILE_RULE = """
insert into screening_rule (county_code, rule, match_type, pattern, severity, message, source, created_by)
values (null, $1, $2, $3, $4, $5, 'file', 'policies/admission_screening.csv')
on conflict (coalesce(county_code, ''), match_type, pattern) where retired_at is null
do update set rule = excluded.rule, severity = excluded.severity, message = excluded.message
where (screening_rule.rule, screening_rule.severity, screening_rule.message)
      is distinct from (excluded.rule, excluded.severity, excluded.message)
"""

INSERT_RULE = """
insert into screening_rule (county_code, rule, match_type, pattern, severity, message, source, created_by, definition)
values ($1, $2, $3, $4, $5, $6, 'api', $7, $8)
returning id, county_code, rule, match_type, pattern, severity, message, source, created_at, definition
"""

SYNC_FILE_POLICY_RULE = """
insert into screening_rule (county_code, rule, match_type, pattern, severity, message, source, created_by, definition)
values (null, $1, 'policy', $1, $2, $3, 'file', 'policies/prohibitions.toml', $4)
on conflict (coalesce(county_code, ''), match_type, pattern) where retired_at is null
do update set rule = excluded.rule, severity = excluded.severity, message = excluded.message,
              definition = excluded.definition
where (screening_rule.rule, screening_rule.severity, screening_rule.message, screening_rule.definition)
      is distinct from (excluded.rule, excluded.severity, excluded.message, excluded.definition)
"""

RETIRE_STALE_FILE_RULES = """
update screening_rule set retired_at = now()
where source = 'file' and county_code is null and retired_at is null
  and (match_type, pattern) not in (select * from unnest($1::text[], $2::text[]))
"""

RETIRE_RULE = """
update screening_rule set retired_at = now() where id = $1 and county_code is not null and retired_at is null
returning id, county_code, rule, match_type, pattern, severity, message, source, created_at, definition
"""

RULE_COUNTY = "select county_code from screening_rule where id = $1"
CLIENT_LEVEL = "select organisation_level from api_client where id = $1"

CLIENT = "select id, name, organisation, organisation_level from api_client where id = $1"

SET_CALLBACK = """
update api_client set callback_url = $2, callback_secret = $3 where id = $1 returning id, callback_url
"""

# the dashboard: requests per month of submission by outcome, and the median days to a decision
MONTHLY_OUTCOMES = """
select date_trunc('month', submitted_at at time zone 'Asia/Shanghai')::date as month,
       case when status in ('submitted', 'in_review') then 'open' else status end as outcome, count(*) as n
from admission_request
where county_code = any($1::text[]) and submitted_at >= $2
group by 1, 2
"""

MEDIAN_DECISION_DAYS = """
select percentile_cont(0.5) within group (order by extract(epoch from decided_at - submitted_at) / 86400) as days,
       count(*) as n
from admission_request
where county_code = any($1::text[]) and decided_at is not null and submitted_at is not null
  and decided_at >= $2
"""

# demo.py: the demo's holidays, the clients it acts as, one request made overdue by moving its dates back
DEMO_NATIONAL_DAY = """
insert into calendar_day (day, kind, name, county_code, created_by) values ($1, $2, $3, null, $4)
on conflict do nothing
"""
DEMO_CLIENTS = "select id, name, organisation, organisation_level from api_client where name = any($1::text[])"
DEMO_MAKE_OVERDUE = """
update admission_request set submitted_at = submitted_at - interval '40 days', decision_due = current_date - 5
where id = $1
"""
