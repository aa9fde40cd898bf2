"""The enforcement check and as_of reads, measured over loopback against a real server.

    python -m bench.registry.run --scale province --workers 2
    python -m bench.registry.run --scale national --workers 2

Generates the data (bench/registry/generate.py) into a database of its own, starts
`matter-registry serve` (granian) with the given workers, and in the same run measures with wrk:
  - a bare endpoint returning a small msgspec Struct (/healthz), the baseline;
  - POST /api/v1/checks (bearer token, random community and item, some prohibited);
then the resident memory of each worker, and the p95 of reading a community's effective list at a
past date (GET /api/v1/registry/communities/{code}/items?as_of=...), sequential requests.
Needs `wrk` (Debian package). Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.registry.generate import generate, server_url
from service.core.settings import PROJECT_ROOT

HERE = Path(__file__).resolve().parent
PORT = 8765


def wrk(url: str, *, connections: int, seconds: int, script: Path | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def ms(label: str) -> float:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": ms("50"), "p90_ms": ms("90"), "p99_ms": ms("99"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def check_script(token: str, data: dict[str, object], path: Path, rng: random.Random) -> None:
    communities: list[str] = data["sample_communities"]  # type: ignore[assignment]
    bodies = []
    for _ in range(2000):
        community = rng.choice(communities)
        county = community[:6]
        if rng.random() < 0.8:
            code, role = f"{county}-I-{rng.randrange(300):03d}", "assisting"
        else:
            code, role = f"P-{rng.randrange(1, 13):03d}", "assisting"
        bodies.append(json.dumps({"community_code": community, "matter": {"code": code}, "role": role}))
    lua = ["local bodies = {"] + [f"  [[{b}]]," for b in bodies] + ["}", "local n = 0", f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
end
"""]
    path.write_text("\n".join(lua))


def worker_rss_mb(server_pid: int) -> list[float]:
    """Resident memory of the server's worker processes (its children), in MB."""
    out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-A"], capture_output=True, text=True, check=True).stdout
    rows = [tuple(int(x) for x in line.split()) for line in out.splitlines() if line.strip()]
    children = [rss for pid, ppid, rss in rows if ppid == server_pid]
    return [round(rss / 1024, 1) for rss in children]


async def as_of_p95(base: str, data: dict[str, object], rng: random.Random, n: int = 300) -> dict[str, float]:
    communities: list[str] = data["sample_communities"]  # type: ignore[assignment]
    timings = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for i in range(n + 20):
            community = rng.choice(communities)
            as_of = f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            started = time.perf_counter()
            r = await client.get(f"/api/v1/registry/communities/{community}/items", params={"as_of": as_of})
            elapsed = (time.perf_counter() - started) * 1000
            r.raise_for_status()
            if i >= 20:  # the first requests warm the pool
                timings.append(elapsed)
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 2), "p95_ms": round(timings[int(len(timings) * 0.95)], 2),
            "items_per_list": len(r.json()["items"])}


async def as_of_service_p95(data: dict[str, object], rng: random.Random, n: int = 300) -> dict[str, float]:
    """The same reads without HTTP: service.effective_list_json on one connection (SQL + assembly)."""
    from service.core.db import connect
    from service.registry import service

    communities: list[str] = data["sample_communities"]  # type: ignore[assignment]
    conn = await connect(str(data["database_url"]))
    timings = []
    try:
        for i in range(n + 20):
            community = rng.choice(communities)
            as_of = datetime.date(2024, rng.randrange(1, 13), rng.randrange(1, 29))
            started = time.perf_counter()
            await service.effective_list_json(conn, county_code=community[:6], community_code=community, as_of=as_of,
                                              release=None, kind=None, list_name=None, q=None)
            if i >= 20:
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        await conn.close()
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 2), "p95_ms": round(timings[int(len(timings) * 0.95)], 2)}


def wait_ready(base: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["province", "national"], default="province")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, help="seconds of checks before measuring (default 10, national 40: "
                        "each worker first loads every list)")
    parser.add_argument("--reuse", action="store_true", help="reuse the data generated by the last run of this scale")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    rng = random.Random(7)
    saved = PROJECT_ROOT / ".data" / f"bench-{args.scale}.json"
    if args.reuse and saved.exists():
        data = json.loads(saved.read_text())
    else:
        print(f"generating {args.scale} data ...", file=sys.stderr, flush=True)
        data = asyncio.run(generate(server_url(), args.scale))
        saved.write_text(json.dumps(data))
    print(f"generated in {data['seconds']} s: {data['counties']} counties, {data['communities']} communities, "
          f"{data['entries']} entries", file=sys.stderr, flush=True)
    from bench import roles  # the service as in production: a plain role, not in development mode

    data_dir = tempfile.mkdtemp(prefix="mr-bench-")
    env = {**os.environ, "DATABASE_URL": asyncio.run(roles.service_url(str(data["database_url"]))),
           "MR_TOKEN_PEPPER": str(data["pepper"]), "MR_SECRET_KEY": "bench-secret-0123456789abcdef",
           "MR_LOG_LEVEL": "WARNING", "MR_POOL_MIN": "2", "MR_POOL_MAX": "8", "MR_DATA_DIR": data_dir,
           "MR_AUDIT_SIGNING_KEY_FILE": str(roles.signing_key(data_dir))}
    env.pop("MR_DEV", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--workers", str(args.workers), "--port", str(PORT),
         "--host", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{PORT}"
    try:
        wait_ready(base)
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "checks.lua"
            check_script(str(data["token"]), data, script, rng)
            # warm-up: every worker loads the counties it is asked about
            warmup = args.warmup or (40 if args.scale == "national" else 10)
            wrk(base + "/api/v1/checks", connections=args.connections, seconds=warmup, script=script)
            bare = wrk(base + "/healthz", connections=args.connections, seconds=args.seconds)
            checks = wrk(base + "/api/v1/checks", connections=args.connections, seconds=args.seconds, script=script)
        rss = worker_rss_mb(server.pid)
        reads = asyncio.run(as_of_p95(base, data, rng))
        reads_in_service = asyncio.run(as_of_service_p95(data, rng))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    summary = {
        "scale": args.scale, "workers": args.workers, "connections": args.connections, "seconds": args.seconds,
        "counties": data["counties"], "communities": data["communities"], "entries": data["entries"],
        "generate_s": data["seconds"], "bare_healthz": bare, "checks": checks,
        "checks_vs_bare": round(checks["rps"] / bare["rps"], 3), "worker_rss_mb": rss, "as_of_read": reads,
        "as_of_read_without_http": reads_in_service, "load_average": os.getloadavg(),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
