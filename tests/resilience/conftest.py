"""Real server processes for the resilience tests: `matter-registry serve` (granian) on loopback ports.

Several instances share one database (the test's own, copied from the template) and one data
directory, as N instances of one deployment on one machine would; they are separate processes with
their own pools, caches and change listeners, so what one changes reaches the others only through
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.core.settings import PROJECT_ROOT
from tests.conftest import PEPPER, SECRET, service_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(database: str, data_dir: Path, **extra: str) -> dict[str, str]:
    # the instances sign in as the service's role, as in production (tests/conftest.py)
    return {**os.environ, "DATABASE_URL": service_url(database), "MR_DATA_DIR": str(data_dir),
            "MR_TOKEN_PEPPER": PEPPER, "MR_SECRET_KEY": SECRET, "MR_LOG_LEVEL": "WARNING", "MR_DEV": "1",
            "MR_POOL_MIN": "1", "MR_POOL_MAX": "5", **extra}


def worker_pids(pid: int) -> list[int]:
    """Granian's worker processes: the children of the server's main process."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return sorted(int(p) for p in fh.read().split())
    except OSError:
        return []


class Instance:
    """One `matter-registry serve` process (granian main process and its workers)."""

    def __init__(self, name: str, database: str, data_dir: Path, log_dir: Path, *, workers: int = 1) -> None:
        self.name = name
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = server_env(database, data_dir)
        self.log_path = log_dir / f"server-{name}.log"
        self._log = self.log_path.open("w+b")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port), "--workers", str(workers)],
            env=self.env, cwd=PROJECT_ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def workers_now(self) -> list[int]:
        return worker_pids(self.process.pid)

    async def wait_ready(self, within: float = 60.0) -> None:
        """Ready: /readyz answers 200 and every worker process is up."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=1) as http:
            while True:
                try:
                    if ((await http.get(f"{self.base}/readyz")).status_code == 200
                            and len(self.workers_now()) >= self.workers and "Started worker-"
                            f"{self.workers}" in self.log()):
                        return
                except httpx.HTTPError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"instance {self.name} did not become ready:\n{self.log()[-3000:]}")
                await asyncio.sleep(0.1)

    def _ours(self, pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return f"--port\0{self.port}\0".encode() in fh.read()
        except OSError:
            return False

    def terminate(self) -> None:
        """Ask for a graceful stop (granian stops its workers); `stop` waits for it."""
        self._workers_at_stop = self.workers_now()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if not hasattr(self, "_workers_at_stop"):
            self.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for pid in self._workers_at_stop:  # a worker left behind by a killed main process (still ours)
            if self._ours(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._log.close()


Start = Callable[..., Awaitable[list[Instance]]]


@pytest.fixture
def shared_dir(tmp_path: Path) -> Path:
    """One data directory for every instance of a test (the development audit key is generated there)."""
    path = tmp_path / "shared-data"
    path.mkdir()
    return path


@pytest.fixture
async def start_instances(database: str, shared_dir: Path, tmp_path: Path) -> AsyncIterator[Start]:
    """start_instances(n, workers=1, database=None) -> n ready instances started together."""
    started: list[Instance] = []

    async def start(n: int, *, workers: int = 1, on: str | None = None) -> list[Instance]:
        fresh = [Instance(chr(ord("a") + len(started) + i), on or database, shared_dir, tmp_path, workers=workers)
                 for i in range(n)]
        started.extend(fresh)
        await asyncio.gather(*(i.wait_ready() for i in fresh))
        return fresh

    try:
        yield start
    finally:
        for instance in started:
            instance.terminate()
        for instance in started:
            instance.stop()


async def eventually(probe: Callable[[], Awaitable[Any]], *, within: float, every: float = 0.02) -> float:
    """Poll `probe` until it returns something truthy; the seconds it took. Fails past the deadline."""
    started = time.monotonic()
    last: Any = None
    while time.monotonic() - started <= within:
        last = await probe()
        if last:
            return time.monotonic() - started
        await asyncio.sleep(every)
    raise AssertionError(f"not within {within} s (last answer: {last!r})")


def cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `matter-registry ...` with an instance's environment."""
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def audit_verifies(env: dict[str, str]) -> str:
    """Sequence what is pending, sign a checkpoint, then verify the stored log; the verifier's output."""
    sequenced = cli(env, "audit", "sequence")
    assert sequenced.returncode == 0, sequenced.stderr + sequenced.stdout
    verified = cli(env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr + verified.stdout
    assert "OK: the log matches every signed checkpoint" in verified.stdout, verified.stdout
    return verified.stdout

