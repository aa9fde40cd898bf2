"""Schemathesis against the exported schema, on a real server: no 5xx, no response off the schema.

Bounded: a few examples per operation, as the province administrator (who may call most routes) so
the generated requests reach the handlers rather than stopping at the guard; then the stateful phase
(operations chained by the links schemathesis infers: a created resource's id fed to the operations
that take it) a few seconds for each demo role's token.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from service.core.settings import PROJECT_ROOT
from tests.conftest import PEPPER, SECRET

MAX_EXAMPLES = "8"
STATEFUL_SECONDS = "3"  # per role


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_generated_requests_find_no_server_error_and_no_schema_violation(database, template, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database, "MR_DATA_DIR": str(tmp_path), "MR_TOKEN_PEPPER": PEPPER,
           "MR_SECRET_KEY": SECRET, "MR_LOG_LEVEL": "WARNING", "MR_DEV": "1"}
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=env,
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise AssertionError("server did not become ready")
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", str(PROJECT_ROOT / "openapi" / "openapi.json"),
             "--url", base, "-H", f"Authorization: Bearer {template.tokens['province-admin']}",
             "--checks", "not_a_server_error,response_schema_conformance", "-n", MAX_EXAMPLES,
             "--phases", "examples,fuzzing", "--no-color", "--seed", "20261128"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False,
        )
        stateful = {}
        for role, token in sorted(template.tokens.items()):
            stateful[role] = subprocess.run(
                [sys.executable, "-m", "schemathesis.cli", "run", str(PROJECT_ROOT / "openapi" / "openapi.json"),
                 "--url", base, "-H", f"Authorization: Bearer {token}",
                 "--checks", "not_a_server_error", "--phases", "stateful", "--max-time", STATEFUL_SECONDS,
                 "--no-color", "--seed", "20261203"],
                capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
            )
    finally:
        server.terminate()
        server_log = server.communicate(timeout=30)[0].decode(errors="replace")
    errors = [line for line in server_log.splitlines() if '"level":"ERROR"' in line]
    assert result.returncode == 0, result.stdout[-6000:] + "\n".join(errors)[-4000:]
    for role, run in stateful.items():
        assert run.returncode == 0, f"stateful as {role}:\n" + run.stdout[-6000:] + "\n".join(errors)[-4000:]
