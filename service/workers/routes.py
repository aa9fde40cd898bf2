"""The community-worker roster and staffing against the standard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.connection import ASGIConnection
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody

from service.core.audit import Actor
from service.core.auth import identity_of
from service.core.authz import Authorizer, Permission, body_domain, path_domain
from service.core.db import DB
from service.core.errors import BadRequest, NotFound
from service.core.exports import CSV_MEDIA_TYPE
from service.core.openapi import AUTHED, problems
from service.workers import service
from service.workers.schemas import (
    StaffingHistory,
    StaffingReport,
    WorkerCreate,
    WorkerImportReport,
    WorkerRead,
    WorkerUpdate,
)

SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}]
JurisdictionQuery = Annotated[str, QueryParameter(pattern=r"^[0-9]{2,12}$",
                                                  description="a county, street or community code")]


def query_domain(param: str) -> Callable[[ASGIConnection[Any, Any, Any, Any]], Awaitable[str | None]]:
    """The jurisdiction named by a query parameter (None when absent: the parameter's validation answers)."""

    async def resolve(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
        value = connection.query_params.get(param)
        return value if isinstance(value, str) and value else None

    return resolve


async def _worker_domain(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    ref = connection.path_params["worker_ref"]
    async with connection.app.state.pool.acquire() as conn:
        code = await service.community_of(conn, worker_ref=ref)
    if code is None:
        raise NotFound(f"社区工作者 {ref} 不存在 (unknown worker {ref})")
    return code


async def _worker_update_domains(connection: ASGIConnection[Any, Any, Any, Any]) -> list[str]:
    """Moving a worker needs the right over both communities."""
    current = await _worker_domain(connection)
    target = await body_domain("community_code")(connection)
    return [current, *([target] if target and target != current else [])]


def _read(domain: Any) -> dict[str, Any]:
    return {"permission": Permission("community_worker", "read", domain=domain)}


def _manage(domain: Any) -> dict[str, Any]:
    return {"permission": Permission("community_worker", "manage", domain=domain)}


class WorkerController(Controller):
    path = "/api/v1/community-workers"
    tags = ["secondments"]
    security = SECURITY

    @get("/", operation_id="ListCommunityWorkers", summary="The roster of a county, street or community",
         opt=_read(query_domain("jurisdiction")), responses=problems(*AUTHED, 404))
    async def list_workers(
        self, db: DB, jurisdiction: JurisdictionQuery,
        status: Annotated[str | None, QueryParameter(pattern="^(in_post|left)$")] = None,
    ) -> list[WorkerRead]:
        return await service.list_workers(db, jurisdiction=jurisdiction, status=status)

    @get("/export", operation_id="ExportCommunityWorkers", summary="The roster as CSV (same columns as the import)",
         opt=_read(query_domain("jurisdiction")), responses=problems(*AUTHED, 404), media_type="text/csv")
    async def export_csv(self, db: DB, jurisdiction: JurisdictionQuery) -> Response[str]:
        text = await service.export_csv(db, jurisdiction=jurisdiction)
        return Response(text, media_type=CSV_MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="community-workers-{jurisdiction}.csv"'})

    @get("/{worker_ref:str}", operation_id="GetCommunityWorker", summary="One community worker",
         opt={"permission": Permission("community_worker", "read", domain=_worker_domain, hide=True)},
         responses=problems(*AUTHED, 404))
    async def get_worker(self, db: DB, worker_ref: FromPath[str]) -> WorkerRead:
        return await service.get(db, worker_ref=worker_ref)

    @post("/", operation_id="CreateCommunityWorker", summary="Add a worker to a community's roster (no ID numbers)",
          opt=_manage(body_domain("community_code")), responses=problems(*AUTHED, 404))
    async def create(self, request: Request[Any, Any, Any], db: DB, data: JSONBody[WorkerCreate]) -> WorkerRead:
        return await service.create(db, actor=Actor.from_connection(request, "admin"), data=data)

    @patch("/{worker_ref:str}", operation_id="UpdateCommunityWorker",
           summary="Change a worker's name, community, post or status (left with a left_date)",
           opt={"permission": Permission("community_worker", "manage", domain=_worker_update_domains,
                                         visible_with="read")}, responses=problems(*AUTHED, 404))
    async def update(self, request: Request[Any, Any, Any], db: DB, worker_ref: FromPath[str],
                     data: JSONBody[WorkerUpdate]) -> WorkerRead:
        return await service.update(db, actor=Actor.from_connection(request, "admin"), worker_ref=worker_ref,
                                    data=data)

    @post("/import", operation_id="ImportCommunityWorkers",
          summary="Import the roster from CSV (worker_ref,display_name,community_code,post,start_date,status,"
                  "left_date); all or nothing unless partial=true",
          opt=_manage(None), responses=problems(*AUTHED), status_code=200)
    async def import_csv(
        self, request: Request[Any, Any, Any], db: DB, body: RawBody, partial: FromQuery[bool] = False,
    ) -> WorkerImportReport:
        # the raw body: a CSV is not JSON, so it is not decoded as `data`
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest("CSV 须为 UTF-8 编码 (the CSV must be UTF-8)") from exc
        authorizer: Authorizer = request.app.state.authorizer
        subject = identity_of(request).subject
        return await service.import_csv(
            db, actor=Actor.from_connection(request, "admin"), text=text, partial=partial,
            may_manage=lambda code: authorizer.allowed(subject, "community_worker", "manage", code),
            tree=request.app.state.tree,
        )


class StaffingController(Controller):
    path = "/api/v1/staffing"
    tags = ["secondments"]
    security = SECURITY

    @get("/", operation_id="GetStaffing",
         summary="Workers present (in post, not seconded) per community against the county's standard",
         opt=_read(query_domain("jurisdiction")), responses=problems(*AUTHED, 404))
    async def staffing(self, db: DB, jurisdiction: JurisdictionQuery, on: FromQuery[date | None] = None
                       ) -> StaffingReport:
        return await service.staffing(db, jurisdiction=jurisdiction, on=on)

    @get("/{community_code:str}/history", operation_id="GetStaffingHistory",
         summary="A community's staffing month by month, derived from roster and secondment dates",
         opt=_read(path_domain("community_code")), responses=problems(*AUTHED, 404))
    async def history(
        self, db: DB, community_code: FromPath[str],
        start: Annotated[date | None, QueryParameter(name="from")] = None,
        end: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> StaffingHistory:
        return await service.history(db, community_code=community_code, start=start, end=end)


ROUTES = [WorkerController, StaffingController]
