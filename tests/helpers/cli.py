"""The command-line tool run as a user runs it: a subprocess with the database and secrets in its environment."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from service.core.settings import PROJECT_ROOT
from tests.conftest import PEPPER, SECRET


def run_cli(*args: str, database_url: str, data_dir: Path | str,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "MR_DATA_DIR": str(data_dir), "MR_TOKEN_PEPPER": PEPPER,
           "MR_SECRET_KEY": SECRET, **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=120, check=False)


async def audit_cli(*args: str, database_url: str, data_dir: Path | str) -> subprocess.CompletedProcess[str]:
    """`matter-registry audit ...` (development mode: the test database's roles are the embedded superuser's).

    Awaited in a thread: the app under test runs in the test's event loop (tests/helpers/app.py), and its
    audit sequencer, holding the log's advisory lock, must go on while the command waits for that lock."""
    return await asyncio.to_thread(run_cli, "audit", *args, database_url=database_url, data_dir=data_dir,
                                   extra_env={"MR_DEV": "1"})
