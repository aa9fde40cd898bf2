"""`make bench`: every benchmark in one command, results in bench/results/ (JSON, Markdown, PNG charts).

    .venv/bin/python -m bench                       # county, province and national scale (data reused if present)
    .venv/bin/python -m bench --quick               # a smoke run: county and province, a few seconds per figure
    .venv/bin/python -m bench --scales county,province --regenerate

For each scale it generates the data (bench/generate.py) or reuses an earlier complete generation,
serves it with granian (the service's app plus the plain-INSERT baseline of bench/admission_app.py,
--workers 2), and measures with wrk over loopback, each figure next to its baseline in the same run:
  - GET /healthz (the bare baseline), POST /api/v1/checks, GET of a community's public list;
  - POST of one plain INSERT (the write baseline), POST /api/v1/admission-requests;
  - the mixed load (80% checks, 10% submissions, 10% list reads, bench/mixed.lua) against the same
    shares of the baselines;
  - the resident memory of each server worker after the load.
Then it runs the other areas' benchmarks as they are (bench/authz.py, bench/policy.py, bench/registry/run.py,
bench/admission_submit.py, bench/audit_log.py) on the same data where they can take it, and writes
bench/results/results.json, bench/results/results.md and the charts (--quick: bench/results/quick/).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import generate, report
from bench.registry.generate import server_url
from bench.registry.run import wait_ready
from service.core.settings import PROJECT_ROOT

HERE = Path(__file__).resolve().parent
SCALES = ["county", "province", "national"]
BATCH_SIZE = 100  # checks per call in the batch figure


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1),
            "os": platform.platform(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def versions(database_url: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("litestar", "granian", "asyncpg", "msgspec", "pycasbin"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "?"

    async def server_version() -> str:
        import asyncpg

        conn = await asyncpg.connect(database_url)
        try:
            return str(await conn.fetchval("show server_version"))
        finally:
            await conn.close()

    out["postgres"] = asyncio.run(server_version())
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    out["wrk"] = (wrk.stdout or wrk.stderr).split()[1] if (wrk.stdout or wrk.stderr).split() else "?"
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return {"us": value / 1000, "ms": value, "s": value * 1000, "m": value * 60_000}[unit]


def wrk(base: str, data_file: Path, mode: str, token: str, *, connections: int, seconds: int) -> dict[str, Any]:
    """One wrk run of bench/mixed.lua in the given mode: requests/s, p50/p90/p95/p99 ms, statuses."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
           "-s", str(HERE / "mixed.lua"), base, "--", str(data_file), mode, token]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    pct = {q: _ms(v) for q, v in re.findall(r"^\s+(\d+)%\s+(\S+)", out, re.M)}
    status = json.loads(re.search(r"^STATUS (.*)$", out, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    ok = sum(n for code, n in status["statuses"].items() if code.startswith("2"))
    return {"mode": mode, "connections": connections, "seconds": seconds, "rps": rps, "requests": total,
            "p50_ms": pct.get("50"), "p90_ms": pct.get("90"), "p95_ms": round(status["p95_ms"], 2),
            "p99_ms": pct.get("99"), "statuses": status["statuses"], "sent": status["sent"],
            "non_2xx": total - ok if total >= ok else 0, "socket_errors": errors.group(1) if errors else None}


def request_file(data: dict[str, Any], path: Path, rng: random.Random) -> None:
    """The bodies and paths the load draws from: random communities of the scale, some checks prohibited."""
    communities: list[str] = data["sample_communities"]
    start = (dt.date.today() + dt.timedelta(days=120)).isoformat()
    lines = []
    for _ in range(3000):
        community = rng.choice(communities)
        county = community[:6]
        # one in five a national prohibited item
        code = f"{county}-I-{rng.randrange(300):03d}" if rng.random() < 0.8 else f"P-{rng.randrange(1, 13):03d}"
        lines.append("check\t" + json.dumps({"community_code": community, "matter": {"code": code},
                                             "role": "assisting"}))
    for _ in range(300):
        community = rng.choice(communities)
        lines.append("submit\t" + json.dumps({
            "kind": "task", "list": "assisting", "title": "社区协助开展防汛应急演练 __N__",
            "content": "每年汛期前协助应急管理部门组织居民开展防汛应急演练，登记转移安置人员。",
            "targets": [community], "community_role": "assisting",
            "basis": "《中华人民共和国防洪法》", "basis_number": "第三十八条",
            "resources": {"funding_yuan": 30000, "funding_source": "县级财政", "staff": 1},
            "start_date": start, "justification": "汛期前需要社区熟悉居民情况。",
        }, ensure_ascii=False))
    for _ in range(300):
        lines.append(f"list\t/api/v1/registry/communities/{rng.choice(communities)}/items")
    checks = [json.loads(line.split("\t", 1)[1]) for line in lines if line.startswith("check\t")]
    for _ in range(20):  # batches of BATCH_SIZE of the same questions
        lines.append("batch\t" + json.dumps({"checks": rng.sample(checks, BATCH_SIZE)}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def add_validators(base: str, path: Path, limit: int = 100) -> None:
    """Lines of (list path, its ETag) for the 304 revalidation figure: each list fetched once here."""
    paths = list(dict.fromkeys(line.split("\t", 1)[1] for line in path.read_text(encoding="utf-8").splitlines()
                               if line.startswith("list\t")))[:limit]
    lines = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for p in paths:
            etag = client.get(p).headers.get("etag")
            if etag:
                lines.append(f"revalidate\t{p}\t{etag}")
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def serve_baseline(port: int, workers: int) -> subprocess.Popen[bytes]:
    """The framework baseline (bench/baseline_app.py), same server and workers as the service."""
    return subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port",
         str(port), "--workers", str(workers), "--no-access-log", "bench.baseline_app:create_app"],
        cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, start_new_session=True)


def worker_rss_mb(server_pid: int) -> list[float]:
    out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-A"], capture_output=True, text=True, check=True).stdout
    rows = [tuple(int(x) for x in line.split()) for line in out.splitlines() if line.strip()]
    return sorted(round(rss / 1024, 1) for pid, ppid, rss in rows if ppid == server_pid)


def probe(base: str, data_file: Path, token: str) -> dict[str, str]:
    """One request of each kind before measuring, so a run of errors is explained in the results."""
    pools: dict[str, str] = {}
    for line in data_file.read_text(encoding="utf-8").splitlines():
        kind, payload = line.split("\t", 1)
        pools.setdefault(kind, payload)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    out = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        answers = {
            "check": client.post("/api/v1/checks", content=pools["check"], headers=headers),
            "submit": client.post("/api/v1/admission-requests", content=pools["submit"].replace("__N__", "probe"),
                                  headers=headers),
            "list": client.get(pools["list"]),
            "insert": client.post("/api/v1/bench/plain-insert", content=pools["submit"], headers=headers),
            "bare": client.get("/healthz"),
        }
    for kind, r in answers.items():
        out[kind] = f"{r.status_code}" + ("" if r.status_code < 300 else f" {r.text[:300]}")
    return out


def serve(data: dict[str, Any], port: int, workers: int, data_dir: str) -> subprocess.Popen[bytes]:
    """The service as in production (bench/roles.py): signed in as a plain role with the declared rights, not
    in development mode; the sequencer signs checkpoints with a key of its own."""
    from bench import roles

    env = {**os.environ, "MR_AUDIT_SIGNING_KEY_FILE": str(roles.signing_key(data_dir)),
           "DATABASE_URL": asyncio.run(roles.service_url(str(data["database_url"]))),
           "MR_TOKEN_PEPPER": str(data["pepper"]), "MR_SECRET_KEY": "bench-secret-0123456789abcdef",
           "MR_LOG_LEVEL": "WARNING", "MR_POOL_MIN": "2", "MR_POOL_MAX": "10", "MR_DATA_DIR": data_dir}
    env.pop("MR_DEV", None)
    return subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port",
         str(port), "--workers", str(workers), "--no-access-log", "bench.admission_app:create_bench_app"],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, start_new_session=True)


def measure_scale(data: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="mr-bench-serve-")
    token = str(data["token"])
    server = serve(data, port, args.workers, data_dir)
    baseline_server: subprocess.Popen[bytes] | None = None
    out: dict[str, Any] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        wait_ready(base, timeout_s=180)
        # started once the service holds its port, so that the two cannot be given the same free port
        framework_port = free_port()
        framework = f"http://127.0.0.1:{framework_port}"
        baseline_server = serve_baseline(framework_port, args.workers)
        wait_ready(framework, timeout_s=60)
        with tempfile.TemporaryDirectory() as tmp:
            requests_file = Path(tmp) / "requests.tsv"
            request_file(data, requests_file, random.Random(7))
            out["probe"] = probe(base, requests_file, token)
            log(f"  probe: {out['probe']}")
            # warm-up: every worker loads the lists of the counties it is asked about (national: all of them)
            warm = args.warmup if args.warmup is not None else (3 if args.quick else 40 if data["scale"] == "national"
                                                                  else 10)
            out["rss_mb_after_start"] = worker_rss_mb(server.pid)
            wrk(base, requests_file, "check", token, connections=args.connections, seconds=warm)
            wrk(base, requests_file, "list", token, connections=args.connections, seconds=max(2, warm // 4))

            add_validators(base, requests_file)

            def run(mode: str, connections: int, at: str = base, label: str = "") -> dict[str, Any]:
                r = wrk(at, requests_file, mode, token, connections=connections, seconds=args.seconds)
                log(f"  {label or mode:<9} c={connections:<3} {r['rps']:>8.0f} req/s  p50 {r['p50_ms']} ms  p99 "
                    f"{r['p99_ms']} ms  non-2xx {r['non_2xx']}")
                return r

            c, cw = args.connections, args.write_connections
            # the framework itself (bench/baseline_app.py): a GET of a Struct, a POST decoding the check's body
            out["framework_get"] = run("bare", c, framework, "fw-get")
            out["framework_post"] = run("check", c, framework, "fw-post")
            out["bare"] = run("bare", c)
            out["check"] = run("check", c)
            out["list"] = run("list", c)
            out["revalidate"] = run("revalidate", c)
            out["batch"] = run("batch", max(2, c // 16))
            out["batch"]["batch_size"] = BATCH_SIZE
            out["bare_again"] = run("bare", c)
            out["insert"] = run("insert", cw)
            out["submit"] = run("submit", cw)
            out["insert_again"] = run("insert", cw)
            out["baseline_mix"] = run("baseline", c)
            out["mixed"] = run("mixed", c)
            out["framework_get_again"] = run("bare", c, framework, "fw-get")
        out["rss_mb"] = worker_rss_mb(server.pid)
        out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        for proc in (p for p in (server, baseline_server) if p is not None):
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def run_tool(name: str, cmd: list[str], env: dict[str, str] | None = None, timeout: int = 3600) -> dict[str, Any]:
    """Run another benchmark as it is, its output to a file (not a pipe: a server it leaves behind must not
    hold make bench up), then end whatever is left of its session."""
    log(f"{name}: {' '.join(cmd)}")
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stdout, tempfile.TemporaryFile("w+",
                                                                                          encoding="utf-8") as stderr:
        p = subprocess.Popen([sys.executable, "-m", *cmd], stdout=stdout, stderr=stderr, cwd=PROJECT_ROOT,
                             env={**os.environ, **(env or {})}, start_new_session=True)
        try:
            code = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = -1
        leftovers = _session_pids(p.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        stdout.seek(0)
        stderr.seek(0)
        output = stdout.read()
        if code not in (0, 2):
            output += "\n" + stderr.read()[-3000:]
    seconds = round(time.perf_counter() - started, 1)
    note = f", {len(leftovers)} process(es) it left running ended" if leftovers else ""
    log(f"  {name}: exit {code} in {seconds} s{note}")
    return {"command": "python -m " + " ".join(cmd), "exit_code": code, "seconds": seconds,
            "output": output.strip() + (f"\n(make bench: {len(leftovers)} process(es) of this benchmark were "
                                        "still running after it exited, and were ended)" if leftovers else "")}


def _session_pids(sid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=,sid=", "-A"], capture_output=True, text=True, check=True).stdout
    return [int(pid) for pid, s in (line.split() for line in out.splitlines() if line.strip())
            if int(s) == sid and int(pid) != sid]


def other_benchmarks(datasets: dict[str, dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    server = server_url()
    out: dict[str, Any] = {}
    out["authz"] = run_tool("authz", ["bench.authz", "--decisions", "5000" if quick else "50000"])
    out["policy"] = run_tool("policy", ["bench.policy", "--json", "--runs", "500" if quick else "5000"])
    largest = next((s for s in ("national", "province") if s in datasets), None)
    if largest:
        # bench/registry/run.py reads the same .data/bench-<scale>.json with --reuse
        out["registry"] = run_tool("registry", [
            "bench.registry.run", "--scale", largest, "--reuse", "--workers", str(args.workers),
            "--seconds", str(args.seconds), "--warmup", str(args.warmup if args.warmup is not None else
                                                            (3 if quick else 40 if largest == "national" else 10))])
    out["admission_submit"] = run_tool("admission_submit", [
        "bench.admission_submit", "--workers", str(args.workers), "--duration", str(args.seconds),
        "--port", str(free_port())], env={"DATABASE_URL": server})
    audit_scale = max(datasets, key=lambda s: SCALES.index(s))
    database = str(datasets[audit_scale]["database_url"]).split("?")[0].rsplit("/", 1)[1]
    out["audit_log"] = run_tool("audit_log", [
        "bench.audit_log", "--database", database, "--reuse", "--events", "0", "--runs", "20" if quick else "100",
        "--export-rows", "20000" if quick else "1000000", "--append-seconds", "3" if quick else "15"],
        env={"DATABASE_URL": server})
    out["audit_log"]["scale"] = audit_scale
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (county and province, 3 s figures)")
    parser.add_argument("--scales", help="comma-separated, of county, province, national (default: all; "
                        "--quick: county,province)")
    parser.add_argument("--regenerate", action="store_true", help="generate the data even if a complete copy exists")
    parser.add_argument("--seconds", type=int, help="seconds per wrk figure (default 15; --quick 3)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up (default 10, national 40; --quick 3)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64, help="for checks, reads, the mix (default 64)")
    parser.add_argument("--write-connections", type=int, default=16, help="for submissions and INSERT (16)")
    parser.add_argument("--no-others", action="store_true", help="skip the other areas' benchmarks")
    parser.add_argument("--out", type=Path, help="results folder (default bench/results, --quick bench/results/quick)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: `make bench-tools` (apt-get install wrk)")
    args.seconds = args.seconds or (3 if args.quick else 15)
    scales = (args.scales or ("county,province" if args.quick else ",".join(SCALES))).split(",")
    if unknown := [s for s in scales if s not in SCALES]:
        sys.exit(f"unknown scale(s): {unknown}")
    out_dir = args.out or (HERE / "results" / ("quick" if args.quick else ""))
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {"started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                               "command": " ".join(["python -m bench", *sys.argv[1:]]), "quick": args.quick,
                               "machine": machine(), "settings": {
                                   "server_workers": args.workers, "connections": args.connections,
                                   "write_connections": args.write_connections, "seconds": args.seconds,
                                   "wrk_threads": 2},
                               "scales": {}}
    server = server_url()
    results["versions"] = versions(server)
    log(f"machine: {results['machine']}")
    datasets: dict[str, dict[str, Any]] = {}
    for scale in scales:
        data = None if args.regenerate else asyncio.run(generate.reuse(scale))
        if data is None:
            log(f"{scale}: generating the data")
            data = asyncio.run(generate.generate_all(server, scale))
            data["reused"] = False
        else:
            log(f"{scale}: reusing the data generated at {data['generated_at']} ({data['generate_s']} s then)")
        datasets[scale] = data
        log(f"{scale}: measuring")
        measured = measure_scale(data, args)
        results["scales"][scale] = {
            "data": {k: data[k] for k in ("found", "admission_states", "phases", "generate_s", "generated_at",
                                          "reused", "trees")},
            "requested": {"counties": data["counties"], "communities": data["communities"],
                          **generate.counts(scale)},
            **measured,
        }
        report.write(results, out_dir)  # partial results survive an interrupted run
    if not args.no_others:
        results["others"] = other_benchmarks(datasets, args)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    report.write(results, out_dir, charts=True)
    log(f"done in {results['total_seconds']} s: {out_dir}/results.md")


if __name__ == "__main__":
    main()
