"""SQL of the calendar API."""

LIST = """
select id, day, kind, name, county_code, created_at, created_by from calendar_day
where day between $1 and $2 and (county_code is null or county_code = $3)
order by day, county_code nulls first
"""

INSERT = """
insert into calendar_day (day, kind, name, county_code, created_by) values ($1, $2, $3, $4, $5)
returning id, day, kind, name, county_code, created_at, created_by
"""

DELETE = """
delete from calendar_day where id = $1 returning id, day, kind, name, county_code, created_at, created_by
"""

DOMAIN = "select coalesce(county_code, '00') from calendar_day where id = $1"
DAYS_BETWEEN = """
select day, kind from calendar_day
where (county_code is null or county_code = $1) and day between $2 and $3
order by county_code nulls first
"""
