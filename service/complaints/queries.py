"""SQL of refusals and complaints."""

COMPLAINT_COUNTY = "select county_code from complaint where id = $1"
ADMISSION_COUNTY = "select county_code from admission_request where id = $1"
REFUSAL_COUNTY = "select county_code from matter_refusal where id = $1"

INSERT_REFUSAL = """
insert into matter_refusal (community_code, county_code, department, matter_title, receipt_id, reason, recorded_by)
values ($1, $2, $3, $4, $5, $6, $7) returning *
"""

LIST_REFUSALS = """
select * from matter_refusal where county_code = any($1::text[]) or community_code = any($2::text[])
order by id desc limit $3
"""

REFUSAL_FOR_RECEIPT = "select * from matter_refusal where receipt_id = $1 order by id limit 1"

# a community's own view: how many complaints were filed about matters put on it, by state (no content, no
# contact: those are for the supervisors)
COMPLAINTS_ABOUT = """
select status, count(*) as n from complaint where jurisdiction_code = $1 group by status
"""

# the counter behind the rate limit: rolled back with a refused complaint, so only accepted ones count
COUNT_FILING = """
insert into complaint_rate (client_addr, window_start, count) values ($1, date_trunc('hour', now()), 1)
on conflict (client_addr, window_start) do update set count = complaint_rate.count + 1
returning count
"""

INSERT_COMPLAINT = """
insert into complaint (county_code, jurisdiction_code, department, subject_kind, matter, description,
                       admission_request_id, refusal_id, contact, filed_by, follow_code_hash)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning *
"""

LIST_COMPLAINTS = """
select * from complaint where county_code = any($1::text[]) and ($2::text is null or status = $2)
order by id desc limit $3
"""

GET_COMPLAINT = "select * from complaint where id = $1"

# what a filer following a complaint by its number and code may see (no contact, no other filer's data)
FOLLOW_COMPLAINT = """
select id, status, department, subject_kind, matter, finding, created_at, updated_at, follow_code_hash
from complaint where id = $1
"""

UPDATE_COMPLAINT = """
update complaint set status = $2, finding = coalesce($3, finding), updated_at = now()
where id = $1 and status = any($4::text[]) returning *
"""

PER_DEPARTMENT = """
with c as (
    select department, status from complaint where county_code = any($1::text[])
), r as (
    select department, count(*) as refusals from matter_refusal where county_code = any($1::text[])
    group by department
), d as (select department from c union select department from r)
select d.department,
       count(c.status) filter (where c.status = 'received') as received,
       count(c.status) filter (where c.status = 'under_investigation') as under_investigation,
       count(c.status) filter (where c.status = 'substantiated') as substantiated,
       count(c.status) filter (where c.status = 'unfounded') as unfounded,
       count(c.status) as total,
       coalesce(max(r.refusals), 0) as refusals
from d left join c on c.department = d.department left join r on r.department = d.department
group by d.department order by total desc, d.department
"""
