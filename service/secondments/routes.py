"""Secondment requests (借调): submit, decide, withdraw, return, extend, list, count refusals."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.params import FromPath, JSONBody, QueryParameter

from service.core.audit import Actor
from service.core.auth import identity_of
from service.core.authz import Authorizer, Permission
from service.core.clock import today
from service.core.db import DB
from service.core.errors import NotFound
from service.core.lifespan import STARTERS
from service.core.openapi import AUTHED, problems
from service.secondments import service
from service.secondments.jobs import start_daily_job
from service.secondments.schemas import (
    ExtensionCreate,
    RefusalCounts,
    SecondmentCreate,
    SecondmentDecision,
    SecondmentList,
    SecondmentRead,
    SecondmentReturn,
    SecondmentWithdraw,
)
from service.workers.routes import JurisdictionQuery, query_domain

SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}]
BIGINT_MAX = 2**63 - 1


async def request_domain(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The request's home community (or, for a refused attempt naming none, the organ's own jurisdiction)."""
    request_id = int(connection.path_params["request_id"])
    ids = [request_id, int(connection.path_params.get("extension_id", 0))]
    code = None
    if all(0 <= i <= BIGINT_MAX for i in ids):  # an id past bigint names nothing
        async with connection.app.state.pool.acquire() as conn:
            code = await service.domain_of(conn, request_id=request_id)
    if code is None:
        raise NotFound(f"借调申请 {request_id} 不存在 (unknown secondment request {request_id})")
    return code


def _on_request(act: str) -> dict[str, Any]:
    return {"permission": Permission("secondment_request", act, domain=request_domain, hide=act == "read",
                                     visible_with="read")}


class SecondmentController(Controller):
    path = "/api/v1/secondment-requests"
    tags = ["secondments"]
    security = SECURITY

    @post("/", operation_id="SubmitSecondmentRequest",
          summary="Request a secondment: refused at once (201, status refused, rule cited) for an organ at county "
                  "level or above; pending_approval for a street/township office; 422 listing every problem",
          opt={"authenticated": True, "subject_type": "secondment_request"},
          responses=problems(*AUTHED), status_code=201)
    async def submit(self, request: Request[Any, Any, Any], db: DB, data: JSONBody[SecondmentCreate]
                     ) -> SecondmentRead:
        # any authenticated caller may try: an organ at county level or above must be refused and counted,
        # not turned away by the guard; the street office's right over the community is checked here
        identity = identity_of(request)
        authorizer: Authorizer = request.app.state.authorizer
        caller = service.Caller(
            actor=Actor.from_connection(request, "street_office"),
            client_id=identity.id if identity.kind == "client" else None,
            organisation_level=identity.organisation_level, home_jurisdiction=identity.home_jurisdiction,
            may_submit=lambda code: authorizer.allowed(identity.subject, "secondment_request", "submit", code),
            submits_somewhere=bool(authorizer.domains_allowing(identity.subject, "secondment_request", "submit")),
        )
        return await service.submit(db, caller=caller, data=data, today=today())

    @get("/", operation_id="ListSecondmentRequests",
         summary="Secondments in a county, street or community, by state (active, overdue, past, pending, current "
                 "or a status), organ or worker",
         opt={"permission": Permission("secondment_request", "read", domain=query_domain("jurisdiction"))},
         responses=problems(*AUTHED, 404))
    async def list_requests(
        self, db: DB, jurisdiction: JurisdictionQuery,
        state_filter: Annotated[str | None, QueryParameter(
            name="state", pattern="^(active|overdue|past|pending|current|refused|pending_approval|approved"
                                   "|rejected|withdrawn|returned)$")] = None,
        organ: Annotated[str | None, QueryParameter(max_length=100)] = None,
        worker: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> SecondmentList:
        return await service.list_requests(db, jurisdiction=jurisdiction, state=state_filter, organ=organ,
                                           worker=worker)

    @get("/refusals-by-organ", operation_id="CountRefusedSecondmentsByOrgan",
         summary="Refused attempts by organs at county level or above, counted per organ (for supervisors)",
         opt={"permission": Permission("secondment_request", "read", domain=query_domain("jurisdiction"))},
         responses=problems(*AUTHED, 404))
    async def refusals(self, db: DB, jurisdiction: JurisdictionQuery) -> RefusalCounts:
        return await service.refusals_by_organ(db, jurisdiction=jurisdiction)

    @get("/{request_id:int}", operation_id="GetSecondmentRequest", summary="One secondment request",
         opt=_on_request("read"), responses=problems(*AUTHED, 404))
    async def get_one(self, db: DB, request_id: FromPath[int]) -> SecondmentRead:
        return await service.get(db, request_id=request_id)

    @post("/{request_id:int}/decision", operation_id="DecideSecondmentRequest",
          summary="The county organisation department approves or rejects (approval below the staffing standard "
                  "is allowed and the warning kept); 409 if already decided",
          opt=_on_request("decide"), responses=problems(*AUTHED, 404, 409), status_code=200)
    async def decide(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                     data: JSONBody[SecondmentDecision]) -> SecondmentRead:
        return await service.decide(db, actor=Actor.from_connection(request, "org_department"),
                                    request_id=request_id, data=data, today=today())

    @post("/{request_id:int}/withdraw", operation_id="WithdrawSecondmentRequest",
          summary="The street office withdraws a request awaiting approval",
          opt=_on_request("submit"), responses=problems(*AUTHED, 404, 409), status_code=200)
    async def withdraw(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                       data: JSONBody[SecondmentWithdraw]) -> SecondmentRead:
        return await service.withdraw(db, actor=Actor.from_connection(request, "street_office"),
                                      request_id=request_id, reason=data.reason)

    @post("/{request_id:int}/return", operation_id="RecordSecondmentReturn",
          summary="The street office or the community records the worker's return",
          opt=_on_request("return"), responses=problems(*AUTHED, 404, 409), status_code=200)
    async def record_return(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                            data: JSONBody[SecondmentReturn]) -> SecondmentRead:
        return await service.record_return(db, actor=Actor.from_connection(request), request_id=request_id,
                                           data=data, today=today())

    @post("/{request_id:int}/extensions", operation_id="RequestSecondmentExtension",
          summary="The street office asks, before expiry, to extend (total within the county's limit)",
          opt=_on_request("submit"), responses=problems(*AUTHED, 404, 409), status_code=201)
    async def request_extension(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                                data: JSONBody[ExtensionCreate]) -> SecondmentRead:
        return await service.request_extension(db, actor=Actor.from_connection(request, "street_office"),
                                               request_id=request_id, data=data, today=today())

    @post("/{request_id:int}/extensions/{extension_id:int}/decision", operation_id="DecideSecondmentExtension",
          summary="The county organisation department approves or rejects an extension",
          opt=_on_request("decide"), responses=problems(*AUTHED, 404, 409), status_code=200)
    async def decide_extension(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                               extension_id: FromPath[int], data: JSONBody[SecondmentDecision]) -> SecondmentRead:
        return await service.decide_extension(db, actor=Actor.from_connection(request, "org_department"),
                                              request_id=request_id, extension_id=extension_id, data=data)


ROUTES = [SecondmentController]

if start_daily_job not in STARTERS:
    STARTERS.append(start_daily_job)
