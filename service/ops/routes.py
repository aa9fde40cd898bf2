"""Operations: liveness and readiness probes (public)."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response

from service.core import migrate
from service.core.schemas import Output


class Health(Output):
    status: str
    detail: str | None = None


@get("/healthz", operation_id="Healthz", summary="Process is up", opt={"public": True}, tags=["operations"])
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", operation_id="Readyz", summary="Database reachable and schema current", opt={"public": True},
     tags=["operations"],
     responses={503: ResponseSpec(data_container=Health, description="Database unreachable or schema behind")})
async def readyz(request: Request[Any, Any, Any]) -> Response[Health]:
    state = request.app.state
    try:
        async with state.pool.acquire(timeout=2) as conn:
            behind = await migrate.pending(conn, state.settings.migrations_dir)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return Response(Health(status="unavailable", detail=f"database unreachable: {type(exc).__name__}"),
                        status_code=503)
    if behind:
        return Response(Health(status="unavailable", detail=f"schema behind: {', '.join(behind)}"), status_code=503)
    return Response(Health(status="ok"))


ROUTES = [healthz, readyz]
