"""The SQL of the core: audit events, identities, role assignments, the tree, migrations, roles, replicas.

Constants only, `$n` parameters only (CONTRIBUTING.md). Statements built around identifiers stay in
core/db.py and core/roles.py (tools/lint_sql.py names them and why).
"""

CURRENT_USER = "select current_user"

# core/audit.py
AUDIT_INSERT = """
insert into audit_event (actor_type, actor_id, actor_name, role, request_id, client_addr, action,
                         subject_type, subject_id, jurisdiction_code, jurisdiction_path, outcome,
                         status_code, digest, detail)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, (select path from jurisdiction where code = $10), $11,
        $12, $13, $14)
returning id
"""

# core/auth.py
TOKEN = """
select t.id, t.client_id, t.expires_at, t.revoked_at, t.last_used_at,
       c.name, c.organisation, c.organisation_level, c.jurisdiction_code, c.disabled_at
from api_token t join api_client c on c.id = t.client_id where t.token_hash = $1
"""
USER = """
select id, username, display_name, locale, disabled_at, session_generation, organisation, organisation_level,
       jurisdiction_code
from web_user where id = $1
"""
TOKEN_USED = "update api_token set last_used_at = now() where id = $1"

# core/authz.py
ASSIGNMENTS_SINCE = """
select id, principal_type || ':' || principal_id as subject, role, jurisdiction_code, revoked_at is null as active,
       change_seq
from role_assignment where change_seq > $1 order by change_seq
"""
ASSIGNMENTS_ACTIVE = """
select id, principal_type || ':' || principal_id as subject, role, jurisdiction_code, true as active, change_seq
from role_assignment where revoked_at is null
"""
ASSIGNMENTS_SEQ = "select coalesce(max(change_seq), 0) from role_assignment"

# core/tree.py
TREE_SINCE = """
select code, parent_code, level, name, population, path, county_code, change_seq
from jurisdiction where change_seq > $1 order by change_seq
"""
NODE = "select code, parent_code, level, name, population, path, county_code from jurisdiction where code = $1"
NODES = """
select code, parent_code, level, name, population, path, county_code from jurisdiction where code = any($1::text[])
"""

# core/db.py, core/replica.py
WAL_INSERT_LSN = "select pg_current_wal_insert_lsn()::text"
WAL_REPLAY_LSN = "select pg_last_wal_replay_lsn()::text"
IN_RECOVERY = "select pg_is_in_recovery()"

# core/migrate.py
MIGRATIONS_CREATE = """
create table if not exists schema_migration (
    version integer primary key,
    filename text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
)"""
MIGRATIONS_EXIST = "select to_regclass('schema_migration') is not null"
MIGRATIONS_READABLE = "select has_table_privilege('schema_migration', 'SELECT')"
MIGRATIONS_APPLIED = "select version, filename, checksum from schema_migration"
MIGRATION_DONE = "insert into schema_migration (version, filename, checksum) values ($1, $2, $3)"
ADVISORY_LOCK = "select pg_advisory_lock($1)"
ADVISORY_UNLOCK = "select pg_advisory_unlock($1)"

# core/roles.py
TABLES = """
select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p')
"""
ROLE = "select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb from pg_roles where rolname = $1"
ROLE_EXISTS = "select 1 from pg_roles where rolname = $1"
OWNED = """
select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relowner = (select oid from pg_roles where rolname = $1)
order by 1 limit 5
"""
CAN_CREATE = "select has_schema_privilege($1, 'public', 'CREATE')"
OWNS_SCHEMA = "select pg_has_role(current_user, nspowner, 'USAGE') from pg_namespace where nspname = 'public'"
REVOKE_PUBLIC_CREATE = "revoke create on schema public from public"
QUOTE_LITERAL = "select quote_literal($1)"
