GET = """
select code, parent_code, level, name, population, county_code, path from jurisdiction where code = $1
"""
GET_MANY = """
select code, parent_code, level, name, population, county_code, path from jurisdiction where code = any($1::text[])
"""
INSERT = """
insert into jurisdiction (code, parent_code, level, name, population, path, county_code)
values ($1, $2, $3, $4, $5, $6, $7)
returning code, parent_code, level, name, population, county_code, path
"""
UPDATE = """
update jurisdiction set name = coalesce($2, name),
       population = case when $3 then $4 else population end, updated_at = now()
where code = $1
returning code, parent_code, level, name, population, county_code, path
"""
SUBTREE = """
select code, parent_code, level, name, population, county_code, path from jurisdiction
where path like $1 || '%' and ($2::text is null or level = $2)
order by path limit $3
"""
MOVE_SUBTREE = """
update jurisdiction set
    path = $2 || substr(path, length($1) + 1),
    county_code = case when level in ('nation', 'province', 'city') then null
                       when level = 'county' then code else $3 end,
    parent_code = case when code = $4 then $5 else parent_code end,
    updated_at = now()
where path like $1 || '%'
"""
