"""The framework baseline: a minimal Litestar app, served by the same server (granian) with the same workers
in the same run as the service, so every figure can be read as a share of what the framework itself does.

  GET  /healthz          a small msgspec Struct (and /readyz, for the benchmark's wait)
  POST /api/v1/checks    the check's JSON body decoded into a Struct (the same fields as the service's
                         CheckRequest), a small Struct answered

No middleware, no guard, no database: granian target `bench.baseline_app:create_app`.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Litestar, get, post


class Health(msgspec.Struct):
    status: str


class Matter(msgspec.Struct, forbid_unknown_fields=True):
    code: str | None = None
    title: str | None = None
    description: str | None = None


class Question(msgspec.Struct, forbid_unknown_fields=True):
    community_code: str
    matter: Matter
    role: Literal["responsible", "assisting"]
    department: str | None = None


class Answer(msgspec.Struct):
    allowed: bool
    community_code: str


@get("/healthz")
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz")
async def readyz() -> Health:
    return Health(status="ready")


@post("/api/v1/checks", status_code=200)
async def check(data: Question) -> Answer:
    return Answer(allowed=data.matter.code is not None, community_code=data.community_code)


def create_app() -> Litestar:
    return Litestar([healthz, readyz, check], openapi_config=None, logging_config=None)
