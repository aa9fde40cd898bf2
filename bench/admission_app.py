"""The service's app plus one baseline endpoint for the admission benchmark: one plain INSERT.

Only the benchmark serves this (granian target `bench.admission_app:create_bench_app`); the baseline
goes through the same middleware, guard and per-request transaction as the real submission.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, post

from service.app import create_app
from service.core.db import DB

PLAIN_TABLE = """
create table if not exists bench_plain (
    id bigint generated always as identity primary key,
    subject text not null,
    body jsonb not null,
    created_at timestamptz not null default now()
)
"""


@post("/api/v1/bench/plain-insert", operation_id="BenchPlainInsert", summary="Benchmark baseline: one INSERT",
      opt={"authenticated": True}, status_code=201, include_in_schema=False)
async def plain_insert(request: Request[Any, Any, Any], db: DB) -> dict[str, int]:
    body = await request.body()
    subject = request.scope["state"]["identity"].subject
    row_id: int = await db.fetchval("insert into bench_plain (subject, body) values ($1, $2::text::jsonb) "
                                    "returning id", subject, body.decode())
    return {"id": row_id}


def create_bench_app() -> Litestar:
    app = create_app()
    app.register(plain_insert)
    return app
