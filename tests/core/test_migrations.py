"""The migration runner: forward only, checksummed, one applier at a time."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from service.core.db import connect
from service.core.migrate import MigrationError, migrate, pending
from service.core.settings import PROJECT_ROOT
from tests.conftest import drop_database, fresh_database


@pytest.fixture
async def empty_db(server_url):
    url = await fresh_database(server_url, template_name=None)
    yield url
    await drop_database(server_url, url)


async def test_two_processes_migrating_at_once_apply_each_file_once(empty_db):
    a, b = await connect(empty_db), await connect(empty_db)
    try:
        done_a, done_b = await asyncio.gather(migrate(a, PROJECT_ROOT / "migrations"),
                                              migrate(b, PROJECT_ROOT / "migrations"))
        files = sorted(p.name for p in (PROJECT_ROOT / "migrations").glob("*.sql"))
        # one applied everything, the other waited on the lock and then found nothing to do
        assert sorted(done_a + done_b) == files
        assert not (done_a and done_b)
        assert await a.fetchval("select count(*) from schema_migration") == len(files)
    finally:
        await a.close()
        await b.close()


async def test_an_applied_file_that_was_edited_is_refused(empty_db, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(PROJECT_ROOT / "migrations", folder)
    conn = await connect(empty_db)
    try:
        await migrate(conn, folder)
        first = sorted(folder.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited afterwards\n")
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await pending(conn, folder)
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await migrate(conn, folder)
    finally:
        await conn.close()


async def test_a_database_that_applied_a_file_missing_from_disk_is_refused(empty_db, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(PROJECT_ROOT / "migrations", folder)
    conn = await connect(empty_db)
    try:
        await migrate(conn, folder)
        last = sorted(folder.glob("*.sql"))[-1]
        last.unlink()  # an older release started against the newer database
        with pytest.raises(MigrationError, match=f"not on disk: {last.name}"):
            await pending(conn, folder)
        with pytest.raises(MigrationError, match="not on disk"):
            await migrate(conn, folder)
    finally:
        await conn.close()


async def test_a_failing_migration_is_rolled_back_and_named(empty_db, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(PROJECT_ROOT / "migrations", folder)
    (folder / "9999_broken.sql").write_text("create table half_done (id int);\nselect no_such_function();\n")
    conn = await connect(empty_db)
    try:
        with pytest.raises(MigrationError, match=r"9999_broken\.sql failed and was rolled back"):
            await migrate(conn, folder)
        assert await conn.fetchval("select to_regclass('half_done')") is None
        assert await pending(conn, folder) == ["9999_broken.sql"]
    finally:
        await conn.close()


def test_migration_files_are_numbered_and_plain_sql():
    names = [p.name for p in Path(PROJECT_ROOT / "migrations").iterdir()]
    assert names, "no migrations"
    assert all(n.endswith(".sql") and n[:4].isdigit() and n[4] == "_" for n in names)
