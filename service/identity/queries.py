INSERT_USER = """
insert into web_user (username, display_name, password_hash, locale) values ($1, $2, $3, $4)
returning id, username, display_name, locale, created_at, locked_until, disabled_at
"""
USER_FOR_LOGIN = """
select id, username, display_name, password_hash, failed_logins, locked_until, disabled_at
from web_user where username = $1 for update
"""
LOGIN_FAILED = """
update web_user set failed_logins = failed_logins + 1,
       locked_until = case when failed_logins + 1 >= $2 then now() + make_interval(secs => $3) else locked_until end
where id = $1 returning failed_logins, locked_until
"""
LOGIN_OK = "update web_user set failed_logins = 0, locked_until = null where id = $1"
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
TOKEN_CLIENT = """
select t.client_id, c.jurisdiction_code from api_token t join api_client c on c.id = t.client_id where t.id = $1
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
