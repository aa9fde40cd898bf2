"""Replication lag on loopback: a primary and a streaming replica (tests/replica/cluster.py), commit -> visible.

    .venv/bin/python -m bench.replica_lag [--trials 1000] [--writers 4] [--out FILE]

Two runs on the same pair of servers: the primary otherwise idle, then while `--writers` connections insert
rows of 500 bytes in autocommit as fast as they can (a write load far above what the service's writes make).
Each trial updates one row on the primary and polls the replica until it shows it: the figure is the time
from the primary acknowledging the commit to the row being visible on the replica. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from service.core.db import connect
from tests.replica.cluster import Cluster, replication_lag


async def _writer(url: str, stop: asyncio.Event, counts: list[int]) -> None:
    conn = await connect(url)
    try:
        while not stop.is_set():
            await conn.execute("insert into lag_load (payload) values (repeat('x', 500))")
            counts[0] += 1
    finally:
        await conn.close()


async def run(trials: int, writers: int) -> dict[str, Any]:
    cluster = Cluster()
    try:
        await asyncio.to_thread(cluster.start_primary)
        await asyncio.to_thread(cluster.start_replica)
        primary = await connect(cluster.primary.url())
        replica = await connect(cluster.replica.url())
        await primary.execute("create table lag_load (id bigint generated always as identity primary key, "
                              "payload text not null)")
        idle = await replication_lag(primary, replica, trials)
        stop, counts = asyncio.Event(), [0]
        tasks = [asyncio.create_task(_writer(cluster.primary.url(), stop, counts)) for _ in range(writers)]
        await asyncio.sleep(1)  # the writers at full speed first
        started, before = time.monotonic(), counts[0]
        loaded = await replication_lag(primary, replica, trials)
        loaded["background_inserts_per_s"] = round((counts[0] - before) / (time.monotonic() - started))
        loaded["writers"] = writers
        stop.set()
        await asyncio.gather(*tasks)
        version = await primary.fetchval("show server_version")
        await primary.close()
        await replica.close()
    finally:
        await asyncio.to_thread(cluster.close)
    return {
        "what": "commit acknowledged by the primary -> row visible on a streaming replica, loopback",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average": os.getloadavg(),
                    "postgresql": version},
        "idle": idle, "under_write_load": loaded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = asyncio.run(run(args.trials, args.writers))
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
