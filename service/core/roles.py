"""The two database roles: the owner (runs the migrations, owns every object) and the service's role.

The service's role owns nothing. It may SELECT and INSERT on the tables it uses, UPDATE or DELETE
only where a table is declared below to need it, USAGE on the sequences, and nothing else: no
TRUNCATE, no REFERENCES, no TRIGGER, no CREATE in the schema. Only an owner may ALTER (so disable a
trigger on) or DROP a table, so the append-only triggers of the audit log and of the register's
entry log hold against the service: `audit_event`, `audit_leaf`, `merkle_node`, `merkle_checkpoint`
and `registry_entry` are INSERT and SELECT only. The sequencer moves `merkle_log`'s head (four
columns only, and a trigger of 0008 refuses any move backwards or a new root for the same size) and
keeps its work list `audit_gap`.

`migrate` applies these rights after the migrations, every time (revoke everything, then grant the
declared list), so they stay in step with the schema; a table the list does not name gets nothing,
and tests/core/test_db_roles.py fails naming it. See docs/operations.md.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from service.core import queries

# table -> rights beyond SELECT and INSERT, which every table listed gets (schema_migration: SELECT only)
READ_ONLY = "read-only"
APPEND_ONLY: tuple[str, ...] = ()
TABLE_RIGHTS: dict[str, tuple[str, ...] | str] = {
    "schema_migration": READ_ONLY,
    # the audit trail and the Merkle logs: never rewritten
    "audit_event": APPEND_ONLY,
    "audit_leaf": APPEND_ONLY,
    "merkle_node": APPEND_ONLY,
    "merkle_checkpoint": APPEND_ONLY,
    "merkle_cosignature": APPEND_ONLY,  # witnesses' cosignatures, kept as received
    "registry_entry": APPEND_ONLY,
    # the head of each log: tree size, root, high-water mark (a trigger lets it move forward only)
    "merkle_log": ("UPDATE (tree_size, root_hash, source_hwm, updated_at)",),
    # the sequencer's list of ids not yet seen; an entry goes once its event is sequenced or final
    "audit_gap": ("DELETE",),
    # written once, never changed
    "check_record": APPEND_ONLY,
    "registry_release": APPEND_ONLY,
    "admission_transition": APPEND_ONLY,
    "matter_refusal": APPEND_ONLY,
    "delivery_attempt": APPEND_ONLY,
    "secondment_worker": APPEND_ONLY,
    "decision_document": APPEND_ONLY,  # an issued decision document: its number is never given again
    # current state, changed by the service
    "jurisdiction": ("UPDATE",),
    "web_user": ("UPDATE",),  # password, session generation (sign-out)
    "login_failure": ("UPDATE", "DELETE"),  # failed sign-ins per name and address; cleared by a success
    "api_client": ("UPDATE",),  # callback URL and secret
    "api_token": ("UPDATE",),  # revoked_at, last_used_at
    "role_assignment": ("UPDATE",),  # revoked_at
    "calendar_day": ("DELETE",),  # a county removes a day it added
    "county_setting": ("UPDATE",),
    "outbox": ("UPDATE",),  # attempts, delivered, given up
    "registry_entry_counter": ("UPDATE",),  # the next entry number
    "decision_number_counter": ("UPDATE",),  # each county's last decision number per series and year
    "registry_item": ("UPDATE",),  # the latest state of each item
    "screening_rule": ("UPDATE",),  # retired, synced from the file
    "admission_request": ("UPDATE",),
    "idempotency_key": ("UPDATE",),  # the stored response
    "complaint": ("UPDATE",),  # status and finding
    "complaint_rate": ("UPDATE",),  # the hour's counter
    "community_worker": ("UPDATE",),
    "secondment_request": ("UPDATE",),
    "secondment_extension": ("UPDATE",),
}

# the role `make run`'s embedded server and the tests create for the service
EMBEDDED_SERVICE_ROLE = "mr_service"


class RoleError(RuntimeError):
    pass


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_statements(role: str, tables: list[str]) -> list[str]:
    """REVOKE everything, then GRANT the declared rights on the tables that exist (in that order)."""
    r = _ident(role)
    out = [
        f"revoke all on all tables in schema public from {r}",
        f"revoke all on all sequences in schema public from {r}",
        f"revoke all on schema public from {r}",
        f"grant usage on schema public to {r}",
        # identity columns and change_seq (defaults, the bump trigger); nextval needs USAGE
        f"grant usage on all sequences in schema public to {r}",
    ]
    for table in sorted(tables):
        rights = TABLE_RIGHTS.get(table)
        if rights is None:
            continue
        if rights == READ_ONLY:
            out.append(f"grant select on {_ident(table)} to {r}")
            continue
        out.append(f"grant {', '.join(['SELECT', 'INSERT', *rights])} on {_ident(table)} to {r}")
    return out


async def check_unprivileged(conn: asyncpg.Connection, role: str) -> None:
    """Refuse a service role that could undo the rights: a superuser, or one owning a table."""
    row = await conn.fetchrow(queries.ROLE, role)
    if row is None:
        raise RoleError(f"the service's database role {role!r} does not exist: create it first "
                        "(docs/operations.md)")
    powers = [name for name, held in (("SUPERUSER", row["rolsuper"]), ("BYPASSRLS", row["rolbypassrls"]),
                                      ("CREATEROLE", row["rolcreaterole"]), ("CREATEDB", row["rolcreatedb"]))
              if held]
    if powers:
        raise RoleError(f"the service's database role {role!r} has {', '.join(powers)}: it must be a plain "
                        "login role (docs/operations.md)")
    owned = await conn.fetch(queries.OWNED, role)
    if owned:
        raise RoleError(f"the service's database role {role!r} owns {', '.join(r[0] for r in owned)}: it must own "
                        "nothing; the migration role owns the schema (docs/operations.md)")


async def apply_grants(conn: asyncpg.Connection, role: str) -> None:
    """Give the service's role exactly the declared rights (in the caller's transaction)."""
    await check_unprivileged(conn, role)
    tables = [r[0] for r in await conn.fetch(queries.TABLES)]
    for statement in grant_statements(role, tables):
        await conn.execute(statement)
    if await conn.fetchval(queries.CAN_CREATE, role):
        # PostgreSQL before 15 lets PUBLIC create in the public schema; its owner can take that back
        if await conn.fetchval(queries.OWNS_SCHEMA):
            await conn.execute(queries.REVOKE_PUBLIC_CREATE)
        if await conn.fetchval(queries.CAN_CREATE, role):
            raise RoleError(f"the service's database role {role!r} may create objects in schema public: run "
                            "`revoke create on schema public from public` as the schema's owner")


async def ensure_login_role(conn: asyncpg.Connection, role: str, password: str) -> None:
    """Create the service's login role if missing (embedded server, tests), with this password.

    Needs CREATEROLE; the role gets no attribute beyond LOGIN.
    """
    exists = await conn.fetchval(queries.ROLE_EXISTS, role)
    verb = "alter" if exists else "create"
    # a password is a literal in ALTER/CREATE ROLE (no parameters there): quoted by PostgreSQL itself
    literal = await conn.fetchval(queries.QUOTE_LITERAL, password)
    await conn.execute(f"{verb} role {_ident(role)} with login nosuperuser nocreatedb nocreaterole "
                       f"nobypassrls password {literal}")


def user_of(url: str) -> str | None:
    """The user named in a postgresql:// URL (None when the URL names none)."""
    parts = urlsplit(url)
    return parts.username or None


def with_user(url: str, user: str, password: str | None) -> str:
    """The same URL signing in as another user (a `?host=` socket query is kept)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    creds = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit((parts.scheme, f"{creds}@{host}", parts.path, parts.query, parts.fragment))
