"""Refusals (communities) and complaints (anyone; supervisors investigate)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.params import FromPath, JSONBody, QueryParameter

from service.complaints import service
from service.complaints.schemas import (
    ComplaintCreate,
    ComplaintFollow,
    ComplaintProgress,
    ComplaintRead,
    ComplaintReceipt,
    ComplaintUpdate,
    DepartmentCount,
    RefusalCreate,
    RefusalRead,
)
from service.core.audit import Actor
from service.core.auth import identity_of
from service.core.authz import Authorizer, Permission, body_domain
from service.core.db import DB
from service.core.errors import NotFound
from service.core.network import keyed_address
from service.core.openapi import AUTHED, problems

SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}]
Limit = Annotated[int, QueryParameter(ge=1, le=1000)]


def places_allowing(request: Request[Any, Any, Any], obj: str, act: str) -> tuple[list[str], list[str]]:
    """(counties, places below county level) where the caller may do `act` on `obj`."""
    authorizer: Authorizer = request.app.state.authorizer
    tree = authorizer.tree
    held = [tree.get(c) for c in authorizer.domains_allowing(identity_of(request).subject, obj, act)]
    above = [n.path for n in held if n is not None and n.level in ("nation", "province", "city", "county")]
    below = [n.code for n in held if n is not None and n.level in ("street", "community")]
    counties = sorted(n.code for n in tree.nodes.values() if n.level == "county" and any(
        n.path.startswith(p) for p in above))
    return counties, below


async def complaint_county(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Guard domain resolver (also used by the web pages): the county of the complaint in the path."""
    raw = connection.path_params["complaint_id"]
    async with connection.app.state.pool.acquire() as conn:
        code = await service.complaint_county(conn, complaint_id=raw)
    if code is None:
        raise NotFound(f"投诉 {raw} 不存在 (complaint not found)")
    return str(code)


class ComplaintController(Controller):
    path = "/api/v1/complaints"
    tags = ["complaints"]

    @post("/", operation_id="FileComplaint",
          summary="Complain that a department put an unlisted matter, app, group, plaque or certificate demand on a "
                  "community (anonymous allowed; rate-limited per address)",
          opt={"public": True, "keyed_address": True}, responses=problems(429), status_code=201)
    async def file(self, request: Request[Any, Any, Any], db: DB, data: JSONBody[ComplaintCreate]) -> ComplaintReceipt:
        """Only what the filer gives is stored: no name, no address; the rate counter keeps a keyed hash of the
        client address for the hour."""
        return await service.file_complaint(db, actor=Actor.from_connection(request), data=data,
                                            client_addr=keyed_address(request, "complaint"),
                                            pepper=request.app.state.settings.token_pepper)

    @post("/follow", operation_id="FollowComplaint", status_code=200,
          summary="A complaint's state and finding, for whoever holds its receipt number and follow-up code "
                  "(public; 404 alike for a wrong code and an unknown number)",
          opt={"public": True}, responses=problems(404))
    async def follow(self, db: DB, request: Request[Any, Any, Any],
                     data: JSONBody[ComplaintFollow]) -> ComplaintProgress:
        return await service.follow_complaint(db, complaint_id=data.id, code=data.code,
                                              pepper=request.app.state.settings.token_pepper)

    @get("/", operation_id="ListComplaints", summary="Complaints in the counties the caller supervises",
         opt={"permission": Permission("complaint", "read")}, responses=problems(*AUTHED), security=SECURITY)
    async def list_complaints(
        self, request: Request[Any, Any, Any], db: DB,
        status: Annotated[str | None, QueryParameter(pattern="^[a-z_]{3,30}$")] = None, limit: Limit = 200,
    ) -> list[ComplaintRead]:
        counties, _ = places_allowing(request, "complaint", "read")
        return await service.list_complaints(db, counties=counties, status=status, limit=limit)

    @get("/by-department", operation_id="CountComplaintsByDepartment",
         summary="Complaints (by state) and refusals counted per department, in the counties the caller supervises",
         opt={"permission": Permission("complaint", "read")}, responses=problems(*AUTHED), security=SECURITY)
    async def by_department(self, request: Request[Any, Any, Any], db: DB) -> list[DepartmentCount]:
        counties, _ = places_allowing(request, "complaint", "read")
        return await service.per_department(db, counties=counties)

    @get("/{complaint_id:int}", operation_id="GetComplaint", summary="One complaint",
         opt={"permission": Permission("complaint", "read", domain=complaint_county, hide=True)},
         responses=problems(*AUTHED, 404), security=SECURITY)
    async def get_one(self, db: DB, complaint_id: FromPath[int]) -> ComplaintRead:
        return await service.get_complaint(db, complaint_id=complaint_id)

    @post("/{complaint_id:int}/status", operation_id="UpdateComplaintStatus",
          summary="received → under_investigation → substantiated / unfounded (supervisor)",
          opt={"permission": Permission("complaint", "manage", domain=complaint_county, hide=True)},
          responses=problems(*AUTHED, 404, 409), security=SECURITY, status_code=200)
    async def update(self, request: Request[Any, Any, Any], db: DB, complaint_id: FromPath[int],
                     data: JSONBody[ComplaintUpdate]) -> ComplaintRead:
        return await service.update_complaint(db, actor=Actor.from_connection(request, "supervisor"),
                                              complaint_id=complaint_id, data=data)


class RefusalController(Controller):
    path = "/api/v1/refusals"
    tags = ["complaints"]
    security = SECURITY

    @post("/", operation_id="RecordRefusal",
          summary="A community records that it refused a matter that was not admitted",
          opt={"permission": Permission("refusal", "create", domain=body_domain("community_code"))},
          responses=problems(*AUTHED, 404), status_code=201)
    async def record(self, request: Request[Any, Any, Any], db: DB, data: JSONBody[RefusalCreate]) -> RefusalRead:
        return await service.record_refusal(db, actor=Actor.from_connection(request, "community"), data=data)

    @get("/", operation_id="ListRefusals", summary="Refusals recorded in the caller's communities or counties",
         opt={"permission": Permission("refusal", "read")}, responses=problems(*AUTHED))
    async def list_refusals(self, request: Request[Any, Any, Any], db: DB, limit: Limit = 200) -> list[RefusalRead]:
        counties, below = places_allowing(request, "refusal", "read")
        return await service.list_refusals(db, counties=counties, communities=below, limit=limit)


ROUTES = [ComplaintController, RefusalController]
