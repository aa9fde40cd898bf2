"""SQL of the roster and of staffing. Staffing is derived from dates, never from snapshots."""

# A worker counts as away on day $d while an approved/active/overdue secondment covers it, and until
# the day before the recorded return for a returned one; an overdue secondment keeps the worker away.
AWAY_ON = """
    s.status in ('approved', 'active', 'overdue', 'returned')
    and s.start_date <= {d}
    and {d} <= case s.status when 'returned' then s.returned_on - 1
                             when 'overdue' then 'infinity'::date
                             else s.end_date end
"""

_WORKER_COLUMNS = """
w.id, w.worker_ref, w.display_name, w.community_code, j.name as community_name, w.post, w.start_date,
w.status, w.left_date
"""

GET = f"""
select {_WORKER_COLUMNS},
       (select min(sw.request_id) from secondment_worker sw join secondment_request s on s.id = sw.request_id
        where sw.worker_id = w.id and {AWAY_ON.format(d="$2::date")}) as seconded_by_request
from community_worker w join jurisdiction j on j.code = w.community_code
where w.worker_ref = $1
"""

GET_MANY = """
select w.id, w.worker_ref, w.display_name, w.community_code, w.post, w.start_date, w.status, w.left_date,
       j.path as community_path, j.county_code
from community_worker w join jurisdiction j on j.code = w.community_code
where w.worker_ref = any($1::text[])
"""

LIST = f"""
select {_WORKER_COLUMNS},
       (select min(sw.request_id) from secondment_worker sw join secondment_request s on s.id = sw.request_id
        where sw.worker_id = w.id and {AWAY_ON.format(d="$2::date")}) as seconded_by_request
from community_worker w join jurisdiction j on j.code = w.community_code
where j.path like $1 || '%' and ($3::text is null or w.status = $3)
order by w.community_code, w.worker_ref
"""

INSERT = """
insert into community_worker (worker_ref, display_name, community_code, post, start_date)
values ($1, $2, $3, $4, $5)
returning id
"""

UPDATE = """
update community_worker set display_name = $2, community_code = $3, post = $4, status = $5, left_date = $6,
       updated_at = now()
where worker_ref = $1
"""

COMMUNITIES_UNDER = """
select code, name, population, county_code, parent_code from jurisdiction
where path like $1 || '%' and level = 'community' order by code
"""

STAFFING = f"""
select j.code,
       (select count(*) from community_worker w
        where w.community_code = j.code and w.start_date <= $2 and (w.left_date is null or w.left_date > $2))
           as in_post,
       (select count(distinct sw.worker_id) from secondment_request s join secondment_worker sw on sw.request_id = s.id
        join community_worker w on w.id = sw.worker_id
        where s.home_community_code = j.code and {AWAY_ON.format(d="$2::date")}
          and w.start_date <= $2 and (w.left_date is null or w.left_date > $2)) as seconded
from jurisdiction j where j.code = any($1::text[])
"""

HISTORY = f"""
select d::date as on_date,
       (select count(*) from community_worker w
        where w.community_code = $1 and w.start_date <= d::date and (w.left_date is null or w.left_date > d::date))
           as in_post,
       (select count(distinct sw.worker_id) from secondment_request s join secondment_worker sw on sw.request_id = s.id
        join community_worker w on w.id = sw.worker_id
        where s.home_community_code = $1 and {AWAY_ON.format(d="d::date")}
          and w.start_date <= d::date and (w.left_date is null or w.left_date > d::date)) as seconded
from generate_series($2::date, $3::date, interval '1 month') d
order by d
"""
COMMUNITY_OF = "select community_code from community_worker where worker_ref = $1"
INSERT_MANY = """
insert into community_worker (worker_ref, display_name, community_code, post, start_date, status, left_date)
values ($1, $2, $3, $4, $5, $6, $7)
"""
UPDATE_MANY = """
update community_worker set display_name = $2, community_code = $3, post = $4, start_date = $5,
       status = $6, left_date = $7, updated_at = now()
where worker_ref = $1
"""
