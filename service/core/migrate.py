"""Forward-only migrations: numbered plain-SQL files, applied under an advisory lock, checksummed.

Our own runner (about 60 lines) rather than dbmate: it needs nothing but asyncpg, runs the same
files in the tests and in production, and refuses an applied file that was edited afterwards or a
database that has applied a file this code does not have (an older release against a newer database).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import asyncpg

from service.core import queries, roles

LOCK_KEY = 0x4D52_4D49  # "MRMI": one key for every process of every deployment on this database
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    pass


def migration_files(directory: Path) -> list[tuple[int, str, str, str]]:
    """(version, filename, checksum, sql) for every migration file, in order."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"migration file name not of the form NNNN_name.sql: {path.name}")
        sql = path.read_text(encoding="utf-8")
        found.append((int(m.group(1)), path.name, hashlib.sha256(sql.encode()).hexdigest(), sql))
    versions = [v for v, *_ in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a number")
    return found


async def _applied(conn: asyncpg.Connection) -> dict[int, tuple[str, str]]:
    exists = await conn.fetchval(queries.MIGRATIONS_EXIST)
    if not exists:
        return {}
    if not await conn.fetchval(queries.MIGRATIONS_READABLE):
        raise MigrationError(f"the database role {await conn.fetchval(queries.CURRENT_USER)!r} may not read "
                             "schema_migration: has `matter-registry migrate` granted the service's rights? "
                             "(docs/operations.md)")
    rows = await conn.fetch(queries.MIGRATIONS_APPLIED)
    return {r["version"]: (r["filename"], r["checksum"]) for r in rows}


def _check_edited(files: list[tuple[int, str, str, str]], applied: dict[int, tuple[str, str]]) -> None:
    on_disk = {version for version, *_ in files}
    missing = sorted(applied[v][0] for v in applied if v not in on_disk)
    if missing:
        raise MigrationError(
            f"the database has applied migrations that are not on disk: {', '.join(missing)}; "
            "this code is older than the database (or a file was deleted): run the release that applied them"
        )
    for version, name, checksum, _ in files:
        if version in applied and applied[version][1] != checksum:
            raise MigrationError(
                f"migration {name} was edited after it was applied (checksum differs); "
                "migrations are forward only: add a new file instead"
            )


async def pending(conn: asyncpg.Connection, directory: Path) -> list[str]:
    """Names of files not yet applied; raises if an applied file was edited or is missing from disk."""
    files = migration_files(directory)
    applied = await _applied(conn)
    _check_edited(files, applied)
    return [name for version, name, _, _ in files if version not in applied]


async def migrate(conn: asyncpg.Connection, directory: Path, *, grant_to: str | None = None) -> list[str]:
    """Apply every pending file, each in its own transaction; return the names applied.

    `grant_to`: the service's database role, given exactly its declared rights afterwards (every time,
    also when nothing was pending: service/core/roles.py).
    """
    files = migration_files(directory)
    await conn.execute(queries.ADVISORY_LOCK, LOCK_KEY)
    try:
        await conn.execute(queries.MIGRATIONS_CREATE)
        applied = await _applied(conn)
        _check_edited(files, applied)
        done = []
        for version, name, checksum, sql in files:
            if version in applied:
                continue
            try:
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(queries.MIGRATION_DONE, version, name, checksum)
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"migration {name} failed and was rolled back: {exc}") from exc
            done.append(name)
        if grant_to is not None:
            try:
                async with conn.transaction():
                    await roles.apply_grants(conn, grant_to)
            except roles.RoleError as exc:
                raise MigrationError(str(exc)) from exc
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"granting the service's role {grant_to!r} its rights failed: {exc}") from exc
        return done
    finally:
        await conn.execute(queries.ADVISORY_UNLOCK, LOCK_KEY)
