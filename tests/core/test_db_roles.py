"""The service signs in as a role that owns nothing: it cannot rewrite, empty or drop the audit log.

Every other test runs the app as that role (tests/conftest.py), so the suite passing is the proof that
the declared rights (service/core/roles.py) are enough; these tests prove they are not too many.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from service.audit.sequencer import Sequencer, sources_present
from service.core import queries as core_queries
from service.core import roles
from service.core.db import connect, create_pool
from service.core.migrate import migrate
from service.core.settings import PROJECT_ROOT
from tests.conftest import SERVICE_ROLE, service_url

# the audit trail, its Merkle tree and checkpoints, and the register's entry log
LOG_TABLES = ["audit_event", "audit_leaf", "merkle_node", "merkle_checkpoint", "merkle_cosignature", "merkle_log",
              "registry_entry"]


@pytest.fixture
async def as_service(database: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(service_url(database))
    yield conn
    await conn.close()


async def refused(conn: asyncpg.Connection, sql: str) -> str:
    """The statement fails for lack of rights (not for a trigger, a constraint or a typo); its message."""
    with pytest.raises(asyncpg.InsufficientPrivilegeError) as caught:
        await conn.execute(sql)
    return str(caught.value)


async def test_every_table_has_declared_rights_for_the_service(db):
    tables = {r[0] for r in await db.fetch(core_queries.TABLES)}
    undeclared = sorted(tables - set(roles.TABLE_RIGHTS))
    assert not undeclared, (f"tables without rights for the service's role: {undeclared}; declare them in "
                            "service/core/roles.py TABLE_RIGHTS (SELECT and INSERT, plus UPDATE/DELETE if needed)")
    assert not sorted(set(roles.TABLE_RIGHTS) - tables), "TABLE_RIGHTS names a table that no longer exists"


async def test_the_app_signs_in_as_the_service_role_which_owns_nothing(client, as_service):
    assert roles.user_of(client.app.state.database_url) == SERVICE_ROLE
    assert await as_service.fetchval("select current_user") == SERVICE_ROLE
    role = await as_service.fetchrow("select * from pg_roles where rolname = current_user")
    assert not (role["rolsuper"])
    assert not (role["rolcreaterole"])
    assert not (role["rolcreatedb"])
    assert not (role["rolbypassrls"])
    owned = await as_service.fetchval("select count(*) from pg_class where relowner = "
                                      "(select oid from pg_roles where rolname = current_user)")
    assert owned == 0
    assert not await as_service.fetchval("select has_schema_privilege('public', 'CREATE')")
    await refused(as_service, "create table mine (x int)")


@pytest.mark.parametrize("table", LOG_TABLES)
async def test_the_service_role_cannot_update_delete_truncate_alter_or_drop_a_log_table(as_service, table):
    # the tamper statements an attacker holding the service's connection would try, each refused by
    # PostgreSQL's privileges before any trigger runs
    column = {"merkle_log": "name", "audit_leaf": "event_id", "merkle_node": "hash", "merkle_checkpoint": "body",
              "merkle_cosignature": "witness",
              "registry_entry": "reason", "audit_event": "action"}[table]
    await refused(as_service, f"update {table} set {column} = {column}")
    await refused(as_service, f"delete from {table}")
    await refused(as_service, f"truncate {table}")
    assert "must be owner" in await refused(as_service, f"alter table {table} disable trigger all")
    assert "must be owner" in await refused(as_service, f"alter table {table} disable trigger user")
    assert "must be owner" in await refused(as_service, f"drop table {table}")
    await refused(as_service, f"create trigger t before insert on {table} for each row "
                              "execute function audit_event_immutable()")
    # nor switch off every trigger for its session (replication mode is a superuser's)
    await refused(as_service, "set session_replication_role = replica")
    # but it appends and reads, as the service needs
    assert await as_service.fetchval(f"select has_table_privilege('{table}', 'INSERT')")
    assert await as_service.fetchval(f"select has_table_privilege('{table}', 'SELECT')")


async def test_the_service_role_moves_a_log_head_forward_only(database, as_service, db):
    pool = await create_pool(service_url(database), min_size=1, max_size=2)
    async with pool.acquire() as conn:
        sequencer = Sequencer(pool, None, await sources_present(conn))
    await sequencer.run_once()
    head = await db.fetchrow("select tree_size, root_hash, source_hwm from merkle_log where log_id = 1")
    assert head["tree_size"] > 0
    # its four columns are the only ones it may write, and a trigger (0008) lets them only grow
    for sql in ("update merkle_log set tree_size = 0, source_hwm = 0 where log_id = 1",
                "update merkle_log set tree_size = tree_size - 1 where log_id = 1",
                "update merkle_log set root_hash = sha256('forged'::bytea) where log_id = 1",
                "update merkle_log set tree_size = tree_size + 5 where log_id = 1"):  # leaves that do not exist
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="merkle_log"):
            await as_service.execute(sql)
    assert await db.fetchrow("select tree_size, root_hash, source_hwm from merkle_log where log_id = 1") == head
    # and the sequencer, as the same role, still appends
    await db.execute("insert into audit_event (actor_type, action, subject_type, outcome) "
                     "values ('system', 'test.more', 'test', 'ok')")
    await sequencer.run_once()
    await pool.close()
    assert await db.fetchval("select tree_size from merkle_log where log_id = 1") == head["tree_size"] + 1


async def test_the_service_role_cannot_rewrite_current_state_beyond_its_declared_rights(as_service):
    await refused(as_service, "delete from admission_request")  # UPDATE, never DELETE
    await refused(as_service, "truncate web_user")
    await refused(as_service, "update schema_migration set checksum = ''")
    await refused(as_service, "insert into schema_migration (version, filename, checksum) values (999, 'x', 'x')")
    await refused(as_service, "update check_record set allowed = true")  # the enforcement record: append-only


async def test_migrate_takes_back_a_right_granted_by_hand(database, db):
    await db.execute(f"grant update, delete, truncate on audit_event to {SERVICE_ROLE}")
    await migrate(db, PROJECT_ROOT / "migrations", grant_to=SERVICE_ROLE)
    for right in ("UPDATE", "DELETE", "TRUNCATE"):
        assert not await db.fetchval("select has_table_privilege($1, 'audit_event', $2)", SERVICE_ROLE, right)
    assert await db.fetchval("select has_table_privilege($1, 'audit_event', 'INSERT')", SERVICE_ROLE)


async def test_migrate_refuses_to_grant_to_a_role_that_owns_a_table(db):
    from service.core.migrate import MigrationError

    await db.execute(f"create table stray (x int); alter table stray owner to {SERVICE_ROLE}")
    with pytest.raises(MigrationError, match="owns stray"):
        await migrate(db, PROJECT_ROOT / "migrations", grant_to=SERVICE_ROLE)


async def test_migrate_runs_as_the_owner_of_migration_database_url_and_grants_database_urls_role(server_url,
                                                                                                   tmp_path):
    from tests.conftest import drop_database, fresh_database
    from tests.helpers.cli import run_cli

    empty = await fresh_database(server_url, template_name=None)
    try:
        r = run_cli("migrate", database_url=service_url(empty), data_dir=tmp_path,
                    extra_env={"MIGRATION_DATABASE_URL": empty})
        assert r.returncode == 0, r.stderr
        assert f"the service's database role {SERVICE_ROLE} holds exactly its declared rights" in r.stdout
        # the service's role, not the owner, then loads the demo data and serves
        r = run_cli("load-demo", database_url=service_url(empty), data_dir=tmp_path)
        assert r.returncode == 0, r.stderr
        owner = await connect(empty)
        try:
            assert await owner.fetchval("select count(*) from pg_class where relowner = "
                                        "(select oid from pg_roles where rolname = $1)", SERVICE_ROLE) == 0
            assert await owner.fetchval("select count(*) from web_user") > 0
        finally:
            await owner.close()
        # the service's own role cannot migrate: it may not create anything in the schema
        r = run_cli("migrate", database_url=service_url(empty), data_dir=tmp_path)
        assert r.returncode == 1
        assert "permission denied for schema public" in r.stderr
    finally:
        await drop_database(server_url, empty)
