"""Test fixtures: a real PostgreSQL always (embedded, or DATABASE_URL), a fresh database per test.

A template database is migrated and loaded with the demo data once per session; each test gets
its own copy (CREATE DATABASE ... TEMPLATE, file copy), so tests are isolated and never mocked.

Two roles, as in production: the server's URL (the owner) migrates the template, which grants the
service's role `mr_test_service` its rights (service/core/roles.py); the app under test signs in as
that role (`make_settings`), so every test proves the service works with those rights alone. The `db`
fixture stays the owner, to look at (and, in tamper tests, break) what the service wrote.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
import msgspec
import pytest

from service.app import create_app
from service.core.db import connect, database_url, recreate_database
from service.core.embedded import start_embedded, stop_embedded
from service.core.roles import ensure_login_role, with_user
from service.core.settings import Settings, load_settings
from tests.helpers.app import AppClient, running

# one template per pytest-xdist worker (each worker has its own embedded server; on a shared DATABASE_URL
# the names keep the workers apart)
TEMPLATE = f"mr_test_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
SERVICE_ROLE = "mr_test_service"
SERVICE_PASSWORD = "test-service-password-0123456789"
PEPPER = "test-pepper-0123456789"
SECRET = "test-secret-0123456789abcdef"
_counter = itertools.count()


def service_url(url: str) -> str:
    """The same database, signed in as the service's role."""
    return with_user(url, SERVICE_ROLE, SERVICE_PASSWORD)


async def create_service_role(server_url: str) -> None:
    """The service's login role on this server (roles are the server's, not a database's)."""
    admin = await connect(server_url)
    try:
        # several workers on one shared server may create it at once: the loser finds it made
        try:
            await ensure_login_role(admin, SERVICE_ROLE, SERVICE_PASSWORD)
        except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            await ensure_login_role(admin, SERVICE_ROLE, SERVICE_PASSWORD)
    finally:
        await admin.close()


def db_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


async def drop_database(server_url: str, url: str) -> None:
    admin = await connect(server_url)
    try:
        await admin.execute(f'drop database if exists "{db_name(url)}" with (force)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        asyncio.run(create_service_role(external))
        yield external
        return
    # a folder of our own, not pytest's tmp_path: pytest prunes old tmp folders, which would pull the
    # data from under a server still used by a concurrent test run
    folder = Path(tempfile.mkdtemp(prefix="mr-test-pg-"))
    try:
        url = start_embedded(folder / "data")
        asyncio.run(create_service_role(url))
        yield url
    finally:
        stop_embedded(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)


def make_settings(url: str | None, data_dir: Path, *, as_owner: bool = False) -> Settings:
    """Settings of an app signing in to `url`'s database as the service's role (`as_owner`: as given)."""
    env = {
        "MR_DATA_DIR": str(data_dir), "MR_TOKEN_PEPPER": PEPPER, "MR_SECRET_KEY": SECRET, "MR_DEV": "1",
        "MR_LOG_LEVEL": "WARNING", "MR_POOL_MIN": "1", "MR_POOL_MAX": "5",
    }
    if url:
        env["DATABASE_URL"] = url if as_owner else service_url(url)
    return load_settings(env)


class Demo(msgspec.Struct):
    users: dict[str, str]  # username -> password
    tokens: dict[str, str]  # client name -> token


@pytest.fixture(scope="session")
def template(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    from service.demo.loader import migrate_and_load

    async def build() -> Demo:
        url = await recreate_database(server_url, TEMPLATE)
        creds = await migrate_and_load(url, pepper=PEPPER.encode(), service_url=service_url(url))
        return Demo(users={u: p for u, p, _, _ in creds.users}, tokens={c: t for c, t, _, _ in creds.tokens})

    return asyncio.run(build())


async def fresh_database(server_url: str, template_name: str | None = TEMPLATE) -> str:
    name = f"mr_test_{os.getpid()}_{next(_counter)}"
    admin = await connect(server_url)
    try:
        # file copy is much faster for small databases; the STRATEGY clause exists from PostgreSQL 15
        newer = int(await admin.fetchval("show server_version_num")) >= 150000
        source = f'template "{template_name}"' + (" strategy file_copy" if newer else "") if template_name else ""
        await admin.execute(f'create database "{name}" {source}')
    finally:
        await admin.close()
    return database_url(server_url, name)


@pytest.fixture
async def database(server_url: str, template: Demo) -> AsyncIterator[str]:
    """A URL of a database of this test's own: migrated, with the demo data."""
    url = await fresh_database(server_url)
    yield url
    await drop_database(server_url, url)


@pytest.fixture
def settings(database: str, tmp_path: Path) -> Settings:
    return make_settings(database, tmp_path)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AppClient]:
    app = create_app(settings)
    async with running(app, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def db(database: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, to look at what the service wrote."""
    conn = await connect(database)
    yield conn
    await conn.close()


@pytest.fixture
def demo(template: Demo) -> Demo:
    return template


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def as_client(demo: Demo) -> Iterator[Any]:
    """as_client("civil-affairs") -> headers carrying that demo client's token."""
    return lambda name: bearer(demo.tokens[name])
