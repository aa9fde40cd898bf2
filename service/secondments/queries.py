"""SQL of secondment requests."""

INSERT = """
insert into secondment_request (jurisdiction_code, county_code, home_community_code, organ_name, organ_level,
    organ_other_level, effective_level, form, purpose, start_date, end_date, worker_consent, community_consent,
    worker_refs, status, broken_rules, decision_due, client_id, submitted_by, organ_type, inferred_level,
    destination)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
returning id
"""

LINK_WORKERS = "insert into secondment_worker (request_id, worker_id) select $1, unnest($2::bigint[])"

_COLUMNS = """
r.id, r.status, r.organ_name, r.organ_level, r.organ_other_level, r.effective_level, r.form,
r.home_community_code, j.name as home_community_name, r.county_code, r.purpose, r.start_date, r.end_date,
r.worker_consent, r.community_consent, r.broken_rules, r.decision_due, r.decided_at, r.decided_by,
r.decision_reasons, r.staffing_warning, r.returned_on, r.return_note, r.return_recorded_by, r.overdue_since,
r.submitted_by, r.created_at,
r.client_id, r.jurisdiction_code, r.worker_refs, r.organ_type, r.inferred_level, r.destination,
r.requested_start_date,
(select name from jurisdiction where code = r.county_code) as county_name,
coalesce((select jsonb_agg(jsonb_build_object('worker_ref', w.worker_ref, 'display_name', w.display_name)
                           order by w.worker_ref)
          from secondment_worker sw join community_worker w on w.id = sw.worker_id where sw.request_id = r.id),
         '[]'::jsonb) as workers,
coalesce((select jsonb_agg(jsonb_build_object('id', e.id, 'previous_end', e.previous_end,
                                              'requested_end', e.requested_end, 'reason', e.reason,
                                              'status', e.status, 'decided_at', e.decided_at,
                                              'decided_by', e.decided_by, 'decision_reasons', e.decision_reasons,
                                              'created_at', e.created_at) order by e.id)
          from secondment_extension e where e.request_id = r.id), '[]'::jsonb) as extensions
"""

GET = f"""
select {_COLUMNS}
from secondment_request r left join jurisdiction j on j.code = r.home_community_code
where r.id = $1
"""

DOMAIN = "select jurisdiction_code from secondment_request where id = $1"
CLIENT_OF = "select client_id from secondment_request where id = $1"

# $1 path prefix of the jurisdiction; $2 statuses (null: all); $3 organ name; $4 worker ref; $5 limit
LIST = f"""
select {_COLUMNS}
from secondment_request r
join jurisdiction s on s.code = r.jurisdiction_code
left join jurisdiction j on j.code = r.home_community_code
where s.path like $1 || '%'
  and ($2::text[] is null or r.status = any($2::text[]))
  and ($3::text is null or r.organ_name = $3)
  and ($4::text is null or $4 = any(r.worker_refs))
order by r.id desc
limit $5
"""

REFUSALS_BY_ORGAN = """
select r.organ_name, array_agg(distinct r.organ_level order by r.organ_level) as declared_levels,
       r.effective_level, c.name as client, count(*) as refused,
       max(r.created_at) as last_attempt_at
from secondment_request r
join jurisdiction s on s.code = r.jurisdiction_code
left join api_client c on c.id = r.client_id
where s.path like $1 || '%' and r.status = 'refused'
  -- only attempts by callers inside the county (or above it): another county's caller naming one of
  -- its communities must not be able to move its figures
  and exists (
    select 1 from jurisdiction k join jurisdiction h on k.path like h.path || '%' or h.path like k.path || '%'
    where k.code = r.county_code
      and h.code in (select c2.jurisdiction_code from api_client c2 where c2.id = r.client_id
                     union all
                     select ra.jurisdiction_code from role_assignment ra
                     where r.client_id is null and ra.principal_type = 'user' and ra.revoked_at is null
                       and r.submitted_by like 'user:' || ra.principal_id || ':%'))
group by r.organ_name, r.effective_level, c.name
order by count(*) desc, r.organ_name
"""

WORKERS_FOR_CHECK = """
select w.id, w.worker_ref, w.display_name, w.community_code, w.status, w.left_date, j.path as community_path
from community_worker w join jurisdiction j on j.code = w.community_code
where w.worker_ref = any($1::text[])
"""

WORKERS_FOR_CHECK_LOCKED = WORKERS_FOR_CHECK + "for update of w\n"

# the same workers' other secondments that are open (pending or away) or ended, for overlap and cooldown
OTHER_SECONDMENTS = """
select w.worker_ref, r.id, r.status, r.start_date, r.end_date, r.returned_on
from secondment_worker sw
join secondment_request r on r.id = sw.request_id
join community_worker w on w.id = sw.worker_id
where sw.worker_id = any($1::bigint[]) and r.status in ('pending_approval', 'approved', 'active', 'overdue', 'returned')
  and ($2::bigint is null or r.id <> $2)
order by r.id
"""

# a transition wins only from the state the caller saw: one of two concurrent deciders gets no row
TRANSITION = """
update secondment_request set status = $3, updated_at = now()
where id = $1 and status = any($2::text[])
returning id
"""

DECIDE = """
update secondment_request set status = $3, decided_at = now(), decided_by = $4, decision_reasons = $5,
       staffing_warning = $6, updated_at = now()
where id = $1 and status = $2
returning id
"""

# an approval after the requested start: the secondment starts on the approval date (history is not rewritten)
MOVE_START = """
update secondment_request set requested_start_date = start_date, start_date = $2, updated_at = now()
where id = $1 and start_date < $2
returning id
"""

# the jurisdictions above a community (or any code) that an organ's name may begin with: (name, level)
PLACES = """
select j.name, j.level
from jurisdiction c join jurisdiction j on c.path like j.path || '%'
where c.code = $1 and j.level in ('province', 'city', 'county', 'street')
"""

RETURN = """
update secondment_request set status = 'returned', returned_on = $2, return_recorded_by = $3, return_note = $5,
    updated_at = now()
where id = $1 and status = any($4::text[])
returning id
"""

STATUS = "select status from secondment_request where id = $1"

INSERT_EXTENSION = """
insert into secondment_extension (request_id, previous_end, requested_end, reason, status, submitted_by)
values ($1, $2, $3, $4, 'pending_approval', $5)
returning id
"""

GET_EXTENSION = "select * from secondment_extension where id = $1 and request_id = $2"

DECIDE_EXTENSION = """
update secondment_extension set status = $3, decided_at = now(), decided_by = $4, decision_reasons = $5
where id = $1 and request_id = $2 and status = 'pending_approval'
returning id
"""

# extend only a secondment still away and not past the end it had when the extension was asked
APPLY_EXTENSION = """
update secondment_request set end_date = $2, updated_at = now()
where id = $1 and status in ('approved', 'active') and end_date = $3
returning id
"""

DUE_TO_START = """
update secondment_request set status = 'active', updated_at = now()
where status = 'approved' and start_date <= $1
returning id, client_id, jurisdiction_code
"""

DUE_OVERDUE = """
update secondment_request set status = 'overdue', overdue_since = end_date + 1, updated_at = now()
where status = 'active' and end_date < $1
returning id, client_id, jurisdiction_code, end_date
"""

# jobs.py: one process runs the daily job
TRY_XACT_LOCK = "select pg_try_advisory_xact_lock($1)"

# demo.py: the demo roster and the clients it acts as
DEMO_INSERT_WORKER = """
insert into community_worker (worker_ref, display_name, community_code, post, start_date, status, left_date)
values ($1, $2, $3, $4, $5, $6, $7)
"""
DEMO_CLIENTS = "select id, name, organisation, organisation_level from api_client"
