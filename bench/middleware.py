"""What each piece of the request path costs, measured in process (no HTTP, no server): the service's app
built with every piece, then with one left out at a time (service/core/plugin.py: Core(without=...)), each
asked N times over raw ASGI for GET /healthz, POST /api/v1/checks with a bearer token and an anonymous
GET of a community's list; the cost of a piece is the difference of the mean times. The minimal Litestar
app of bench/baseline_app.py is measured the same way, for scale.

    .venv/bin/python -m bench.middleware                 # on the demo data in a database of its own
    .venv/bin/python -m bench.middleware --requests 3000 --json

One process, one core; the figures are microseconds per request on this machine, noisy at ±5 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar

from bench.baseline_app import create_app as create_baseline
from service.core.path import MIDDLEWARE_NAMES
from service.core.plugin import Core
from service.routes import ROUTES

PEPPER = "bench-pepper-0123456789"
CHECK = msgspec.json.encode({"community_code": "430121001001", "matter": {"code": "430121-A-001"},
                             "role": "assisting"})


async def call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"bench"), *headers, (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def timed(app: Any, n: int, method: str, path: str, headers: list[tuple[bytes, bytes]],
                body: bytes = b"") -> dict[str, Any]:
    for _ in range(min(200, n)):  # warm
        status = await call(app, method, path, headers, body)
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n // 5):
            await call(app, method, path, headers, body)
        rounds.append((time.perf_counter() - started) / (n // 5) * 1e6)
    return {"us": round(statistics.median(rounds), 1), "status": status}


@contextlib.asynccontextmanager
async def running(app: Litestar) -> Any:
    # the lifespan (pool, tree, authorizer, checker, loops) in this event loop: Litestar's test client
    # runs it on a loop of its own in another thread, and asyncpg's connections, made on that loop and
    # then used from this one, crashed the interpreter (a segmentation fault)
    async with app.lifespan():
        await asyncio.sleep(1.0)  # the checker preloads the lists
        yield app


async def measure(url: str, token: str, n: int) -> dict[str, Any]:
    from service.core.settings import load_settings

    bearer = [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json")]
    data_dir = tempfile.mkdtemp(prefix="mr-bench-mw-")
    settings = load_settings({"DATABASE_URL": url, "MR_TOKEN_PEPPER": PEPPER,
                              "MR_SECRET_KEY": "bench-secret-0123456789", "MR_DEV": "1",
                              "MR_LOG_LEVEL": "WARNING", "MR_DATA_DIR": data_dir})
    out: dict[str, Any] = {"requests": n, "variants": {}}
    async with running(create_baseline()) as app:
        out["framework"] = {"healthz": await timed(app, n, "GET", "/healthz", []),
                            "check": await timed(app, n, "POST", "/api/v1/checks", bearer[1:], CHECK)}
    for without in ("", *MIDDLEWARE_NAMES):
        app = Litestar(plugins=[Core(settings, ROUTES, without=frozenset([without]) if without else frozenset())],
                       request_max_body_size=settings.max_body_bytes)
        async with running(app):
            figures = {"healthz": await timed(app, n, "GET", "/healthz", []),
                       "check": await timed(app, n, "POST", "/api/v1/checks", bearer, CHECK),
                       "list": await timed(app, n, "GET", "/api/v1/registry/communities/430121001001/items", [])}
        out["variants"][without or "all"] = figures
        print(f"  {'without ' + without if without else 'everything':<26} " + "  ".join(
            f"{k} {v['us']:>7.1f} µs ({v['status']})" for k, v in figures.items()), flush=True)
    full = out["variants"]["all"]
    out["cost_us"] = {name: {k: round(full[k]["us"] - v[k]["us"], 1) for k in full}
                      for name, v in out["variants"].items() if name != "all"}
    return out


async def demo_database() -> tuple[str, str]:
    """The demo data in a database of its own on the bench server; a token of civil-affairs."""
    from bench.__main__ import server_url
    from service.core.db import recreate_database
    from service.demo.loader import migrate_and_load

    url = await recreate_database(server_url(), "mr_bench_middleware")
    creds = await migrate_and_load(url, pepper=PEPPER.encode())
    token = next(t for c, t, _, _ in creds.tokens if c == "civil-affairs")
    return url, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MR_LOG_LEVEL", "WARNING")
    url, token = asyncio.run(demo_database())
    out = asyncio.run(measure(url, token, args.requests))
    if args.json:
        print(json.dumps(out, indent=2))
        return
    fw = out["framework"]
    print(f"\nminimal Litestar: GET {fw['healthz']['us']} µs, POST (decode the check) {fw['check']['us']} µs")
    full = out["variants"]["all"]
    print(f"the service, everything: GET /healthz {full['healthz']['us']} µs, POST /api/v1/checks "
          f"{full['check']['us']} µs, GET a list (cached) {full['list']['us']} µs")
    print("cost of each piece (everything minus without it), µs:  healthz / check / list")
    for name, cost in out["cost_us"].items():
        print(f"  {name:<18} {cost['healthz']:>7} {cost['check']:>7} {cost['list']:>7}")
    Path(tempfile.gettempdir(), "mr-bench-middleware.json").write_text(json.dumps(out), encoding="utf-8")


if __name__ == "__main__":
    main()
