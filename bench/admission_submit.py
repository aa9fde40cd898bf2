"""Admission submission throughput, with wrk over loopback, against one plain INSERT.

Both endpoints are served by the same granian server and workers in the same run: first the
baseline (POST /api/v1/bench/plain-insert, one INSERT of the body), then the real submission
(POST /api/v1/admission-requests: validation, target authorization, routing, screening with the
county's rules, calendar and pg_trgm duplicates, the request row, its transition, audit event and
outbox row), then the baseline again. The target: submission >= 1/3 of the baseline's requests/s.

    .venv/bin/python -m bench.admission_submit [--workers 2] [--connections 16] [--duration 15]

Needs `wrk` (apt-get install -y wrk). Uses its own embedded PostgreSQL in a temporary directory, or
DATABASE_URL's server (a database named mr_bench_admission is created there, replaced on each run).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.admission_app import PLAIN_TABLE
from service.core.db import connect, recreate_database
from service.core.embedded import start_embedded, stop_embedded
from service.core.settings import PROJECT_ROOT

DB = "mr_bench_admission"
PEPPER = "bench-pepper-0123456789"

LUA = """
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local template = [[%(body)s]]
request = function()
    counter = counter + 1
    local body = string.gsub(template, "__N__", tostring(counter) .. "-" .. tostring(math.random(1, 1000000000)))
    return wrk.format(nil, "%(path)s", nil, body)
end
"""


async def prepare(server_url: str) -> tuple[str, str]:
    from service.demo.loader import migrate_and_load

    url = await recreate_database(server_url, DB)
    creds = await migrate_and_load(url, pepper=PEPPER.encode())
    conn = await connect(url)
    try:
        await conn.execute(PLAIN_TABLE)
    finally:
        await conn.close()
    token = next(t for name, t, _, _ in creds.tokens if name == "civil-affairs")
    return url, token


def submission_body() -> str:
    start = (datetime.date.today() + datetime.timedelta(days=120)).isoformat()
    return json.dumps({
        "kind": "task", "list": "assisting", "title": "社区协助开展防汛应急演练 __N__",
        "content": "每年汛期前协助应急管理部门组织居民开展防汛应急演练，登记转移安置人员。",
        "targets": ["430121001001", "430121001002"], "community_role": "assisting",
        "basis": "《中华人民共和国防洪法》", "basis_number": "第三十八条",
        "resources": {"funding_yuan": 30000, "funding_source": "县级财政", "staff": 1},
        "start_date": start, "justification": "汛期前需要社区熟悉居民情况。",
    }, ensure_ascii=False)


def run_wrk(url: str, path: str, token: str, body: str, *, threads: int, connections: int,
            duration: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write(LUA % {"token": token, "body": body, "path": path})
        script = f.name
    try:
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script,
                              url], capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    finally:
        os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": rps, "non_2xx": int(errors.group(1)) if errors else 0,
            "requests": int(total.group(1)) if total else 0,
            "p50": p50.group(1) if p50 else "?", "p99": p99.group(1) if p99 else "?"}  # type: ignore[dict-item]


def probe(url: str, token: str, body: str) -> str:
    request = urllib.request.Request(url, data=body.replace("__N__", "probe").encode(), method="POST", headers={  # noqa: S310
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 (loopback)
            return f"{r.status}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code} {exc.read()[:300].decode(errors='replace')}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--duration", type=int, default=15)
    p.add_argument("--port", type=int, default=8765)
    args = p.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="mr-bench-admission-"))
    server_url = os.environ.get("DATABASE_URL") or start_embedded(tmp / "pg")
    server: subprocess.Popen[bytes] | None = None
    try:
        url, token = asyncio.run(prepare(server_url))
        env = {**os.environ, "DATABASE_URL": url, "MR_TOKEN_PEPPER": PEPPER, "MR_SECRET_KEY": "bench-secret-0123456789",
               "MR_DATA_DIR": str(tmp), "MR_LOG_LEVEL": "WARNING", "MR_POOL_MAX": "10"}
        server = subprocess.Popen(
            [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port",
             str(args.port), "--workers", str(args.workers), "--no-access-log",
             "bench.admission_app:create_bench_app"], env=env, cwd=PROJECT_ROOT)
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=1) as r:  # noqa: S310 (loopback)
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            print("the server did not become ready", file=sys.stderr)
            return 1
        body = submission_body()
        opts = {"threads": args.threads, "connections": args.connections, "duration": args.duration}
        plain_path, submit_path = "/api/v1/bench/plain-insert", "/api/v1/admission-requests"
        warm = {**opts, "duration": 3}
        run_wrk(base + plain_path, plain_path, token, body, **warm)
        run_wrk(base + submit_path, submit_path, token, body, **warm)
        plain = run_wrk(base + plain_path, plain_path, token, body, **opts)
        submit = run_wrk(base + submit_path, submit_path, token, body, **opts)
        plain_again = run_wrk(base + plain_path, plain_path, token, body, **opts)
        for path, r in ((plain_path, plain), (submit_path, submit), (plain_path, plain_again)):
            if r["non_2xx"]:
                print(f"  {path}: {r['non_2xx']} non-2xx; one request now answers: {probe(base + path, token, body)}")
        baseline = (plain["rps"] + plain_again["rps"]) / 2
        print(f"granian workers={args.workers}, wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
              f"loopback, {os.cpu_count()} CPUs")
        for name, r in (("plain INSERT", plain), ("submission", submit), ("plain INSERT (again)", plain_again)):
            print(f"  {name:<22} {r['rps']:>9.1f} req/s  p50 {r['p50']:>8}  p99 {r['p99']:>8}  "
                  f"requests {r['requests']:>7}  non-2xx {r['non_2xx']}")
        ratio = submit["rps"] / baseline if baseline else 0.0
        print(f"  submission / plain INSERT (mean of both runs) = {ratio:.2f} (target >= 0.33)")
        return 0 if ratio >= 1 / 3 and submit["non_2xx"] == 0 else 2
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if not os.environ.get("DATABASE_URL"):
            stop_embedded(tmp / "pg")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
