INSERT_USER = """
insert into web_user (username, display_name, password_hash, locale, organisation, organisation_level,
                      jurisdiction_code)
values ($1, $2, $3, $4, $5, $6, $7)
returning id, username, display_name, locale, created_at, locked_until, disabled_at, organisation, organisation_level,
          jurisdiction_code
"""
USER_FOR_LOGIN = """
select id, username, display_name, password_hash, locked_until, disabled_at, session_generation
from web_user where username = $1
"""
LOGIN_FAILURES = """
select failures, last_failed_at, blocked_until from login_failure where username = $1 and client_key = $2 for update
"""
LOGIN_FAILED = """
insert into login_failure as f (username, client_key, failures, last_failed_at, blocked_until)
values ($1, $2, 1, now(), case when 1 >= $3 then now() + make_interval(secs => $4) end)
on conflict (username, client_key) do update set
    failures = f.failures + 1, last_failed_at = now(),
    blocked_until = case when f.failures + 1 >= $3 then now() + make_interval(secs => $4) end
returning failures, blocked_until
"""
LOGIN_OK = "delete from login_failure where username = $1 and client_key = $2"
SESSION_GENERATION = "select session_generation from web_user where id = $1"
END_SESSIONS = "update web_user set session_generation = session_generation + 1 where id = $1"
SET_PASSWORD = "update web_user set password_hash = $2 where id = $1"
INSERT_CLIENT = """
insert into api_client (name, organisation, organisation_level, jurisdiction_code, callback_url)
values ($1, $2, $3, $4, $5)
returning id, name, organisation, organisation_level, jurisdiction_code, callback_url, created_at
"""
GET_CLIENT = """
select id, name, organisation, organisation_level, jurisdiction_code, callback_url, created_at
from api_client where id = $1
"""
GET_CLIENT_BY_NAME = """
select id, name, organisation, organisation_level, jurisdiction_code, callback_url, created_at
from api_client where name = $1
"""
INSERT_TOKEN = """
insert into api_token (client_id, token_hash, prefix, label, expires_at)
values ($1, $2, $3, $4, case when $5::int is null then null else now() + make_interval(days => $5::int) end)
returning id, client_id, prefix, expires_at
"""
LIST_TOKENS = """
select id, client_id, prefix, label, created_at, expires_at, revoked_at, last_used_at
from api_token where client_id = $1 order by id
"""
REVOKE_TOKEN = """
update api_token set revoked_at = coalesce(revoked_at, now()) where id = $1
returning id, client_id, prefix, label, created_at, expires_at, revoked_at, last_used_at
"""
INSERT_ROLE = """
insert into role_assignment (principal_type, principal_id, role, jurisdiction_code, granted_by)
values ($1, $2, $3, $4, $5)
returning id, principal_type, principal_id, role, jurisdiction_code, granted_at, granted_by, revoked_at
"""
GET_ROLE = """
select id, principal_type, principal_id, role, jurisdiction_code, granted_at, granted_by, revoked_at
from role_assignment where id = $1
"""
REVOKE_ROLE = """
update role_assignment set revoked_at = now(), revoked_by = $2 where id = $1 and revoked_at is null
returning id, principal_type, principal_id, role, jurisdiction_code, granted_at, granted_by, revoked_at
"""
LIST_ROLES = """
select id, principal_type, principal_id, role, jurisdiction_code, granted_at, granted_by, revoked_at
from role_assignment where principal_type = $1 and principal_id = $2 order by id
"""
PRINCIPAL_EXISTS = """
select case when $1 = 'user' then exists(select 1 from web_user where id = $2)
            else exists(select 1 from api_client where id = $2) end
"""
# Where a principal's roles are held (and an API client's home): managing its tokens or roles needs the
# right over every one of them, or a county admin could mint a token carrying a role held elsewhere.
CLIENT_JURISDICTIONS = """
select c.jurisdiction_code as home,
       coalesce(array_agg(distinct r.jurisdiction_code) filter (where r.id is not null), '{}') as held
from api_client c
left join role_assignment r on r.principal_type = 'client' and r.principal_id = c.id and r.revoked_at is null
where c.id = $1 group by c.id
"""
TOKEN_CLIENT_ID = "select client_id from api_token where id = $1"
PRINCIPAL_JURISDICTIONS = """
select array_agg(distinct code) from (
  select jurisdiction_code as code from role_assignment
  where principal_type = $1 and principal_id = $2 and revoked_at is null
  union all
  select jurisdiction_code from api_client where $1 = 'client' and id = $2
) held
"""
ASSIGNMENT_PRINCIPAL = "select principal_type, principal_id, jurisdiction_code from role_assignment where id = $1"
NOTIFY_TOKENS = "select notify_change('tokens')"
