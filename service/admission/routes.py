"""Admission requests through the API: departments submit and follow, county reviewers decide."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Litestar, Request, get, post, put
from litestar.connection import ASGIConnection
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Response

from service.admission import service
from service.admission.context import LISTS_TOPIC, TOPICS, ScreeningSource
from service.admission.schemas import (
    AdmissionRequestPage,
    AdmissionRequestRead,
    AdmissionSubmission,
    CallbackRead,
    CallbackRegistration,
    Decision,
    DeliveryRead,
    Revocation,
    Screening,
    ScreeningRuleCreate,
    ScreeningRuleRead,
    TransitionRead,
    Withdrawal,
)
from service.admission.screening import read_rules_file
from service.core.audit import Actor
from service.core.auth import identity_of
from service.core.authz import Authorizer, Permission, body_domain
from service.core.db import DB
from service.core.errors import NotFound, ValidationFailed
from service.core.lifespan import STARTERS
from service.core.openapi import AUTHED, problems
from service.notifications.delivery import start_delivery
from service.policy.apply import COUNTY_RULES, language

SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", min_length=1, max_length=200,
                                                        required=False)]


async def request_county(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Guard domain resolver (also used by the web pages): the county of the admission request in the path."""
    raw = connection.path_params["request_id"]
    async with connection.app.state.pool.acquire() as conn:
        code = await service.request_county(conn, request_id=raw)
    if code is None:
        raise NotFound(f"准入申请 {raw} 不存在 (admission request {raw} not found)")
    return str(code)


async def _rule_county(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    raw = connection.path_params["rule_id"]
    async with connection.app.state.pool.acquire() as conn:
        code = await service.rule_county(conn, rule_id=raw)
    if code is None:
        raise NotFound(f"规则 {raw} 不存在或为全国规则 (no county rule {raw})")
    return str(code)


def _as(act: str, domain: Any = None, *, hide: bool = False) -> dict[str, Any]:
    return {"permission": Permission("admission_request", act, domain=domain, hide=hide)}


def _authorizer(request: Request[Any, Any, Any]) -> Authorizer:
    authorizer: Authorizer = request.app.state.authorizer
    return authorizer


def _may(request: Request[Any, Any, Any], act: str) -> Callable[[str], bool]:
    authorizer = _authorizer(request)
    subject = identity_of(request).subject
    return lambda code: authorizer.allowed(subject, "admission_request", act, code)


def _review_counties(request: Request[Any, Any, Any]) -> list[str]:
    """Every county the caller reviews (a role held above a county covers the counties below)."""
    authorizer = _authorizer(request)
    tree = authorizer.tree
    held = authorizer.domains_allowing(identity_of(request).subject, "admission_request", "review")
    paths = [node.path for node in (tree.get(code) for code in held) if node is not None]
    return sorted(n.code for n in tree.nodes.values() if n.level == "county" and any(n.path.startswith(p)
                                                                                        for p in paths))


def _submitter(request: Request[Any, Any, Any]) -> service.Submitter:
    identity = identity_of(request)
    return service.Submitter(subject=identity.subject, client_id=identity.id if identity.kind == "client" else None,
                             department=identity.organisation or identity.name,
                             organisation_level=identity.organisation_level)


def _source(request: Request[Any, Any, Any]) -> ScreeningSource:
    source: ScreeningSource = request.app.state.admission_source
    return source


class AdmissionController(Controller):
    path = "/api/v1/admission-requests"
    tags = ["admission"]
    security = SECURITY

    @post("/", operation_id="SubmitAdmissionRequest",
          summary="Submit an admission request (or save a draft); screened at once, routed to each county's "
                  "reviewing body", opt=_as("submit"), responses=problems(*AUTHED, 409), status_code=201)
    async def submit(self, request: Request[Any, Any, Any], db: DB, data: JSONBody[AdmissionSubmission],
                     idempotency_key: IdempotencyKey = None,
                     draft: FromQuery[bool] = False) -> Response[AdmissionRequestRead]:
        """Targets in several counties are split into one linked request per county; the answer is the first
        (by county code) with the others under `linked`. With an `Idempotency-Key` header, a retry returns
        the first answer; the same key with a different body is 422."""
        subject = identity_of(request).subject
        if idempotency_key is not None:
            digest = service.body_digest({"draft": draft, "body": data})
            first = await service.claim_key(db, subject=subject, key=idempotency_key, digest=digest)
            if first is not None:
                return Response(first[1], status_code=first[0], headers={"Idempotent-Replayed": "true"})
        result = await service.submit(db, actor=Actor.from_connection(request, "department"),
                                      submitter=_submitter(request), data=data, draft=draft,
                                      may_submit=_may(request, "submit"), source=_source(request),
                                      tree=_authorizer(request).tree)
        if idempotency_key is not None:
            await service.store_key(db, subject=subject, key=idempotency_key, status_code=201, response=result)
        return Response(result, status_code=201)

    @post("/screen", operation_id="ScreenAdmissionRequest",
          summary="Check a matter before submitting: the screening result, nothing stored",
          opt=_as("submit"), responses=problems(*AUTHED), status_code=200)
    async def screen(self, request: Request[Any, Any, Any], db: DB,
                     data: JSONBody[AdmissionSubmission]) -> dict[str, Screening]:
        """One screening result per county the targets fall in; the policy findings' messages in English
        when the caller sends `Accept-Language: en`."""
        return await service.check(db, data=data, may_submit=_may(request, "submit"), source=_source(request),
                                   tree=_authorizer(request).tree,
                                   lang=language(request.headers.get("accept-language")),
                                   submitter_level=identity_of(request).organisation_level)

    @get("/", operation_id="ListAdmissionRequests",
         summary="Requests the caller submitted, and those of the counties it reviews (newest first)",
         opt=_as("read"), responses=problems(*AUTHED))
    async def list_requests(
        self, request: Request[Any, Any, Any], db: DB,
        status: Annotated[str | None, QueryParameter(pattern="^[a-z_]{3,20}$")] = None,
        county_code: Annotated[str | None, QueryParameter(pattern="^[0-9]{6}$")] = None,
        overdue: FromQuery[bool] = False,
        cursor: Annotated[int | None, QueryParameter(ge=1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> AdmissionRequestPage:
        """`overdue=true`: submitted or in review past the decision deadline (working days)."""
        return await service.list_requests(db, subject=identity_of(request).subject,
                                           review_counties=_review_counties(request), status=status,
                                           county_code=county_code, overdue=overdue, before=cursor, limit=limit)

    @get("/{request_id:int}", operation_id="GetAdmissionRequest",
         summary="One request: status, screening, deadline, linked requests", opt=_as("read", request_county,
                                                                                      hide=True),
         responses=problems(*AUTHED, 404))
    async def get_one(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int]) -> AdmissionRequestRead:
        return await service.get(db, request_id=request_id, subject=identity_of(request).subject,
                                 may_review=_may(request, "review"))

    @get("/{request_id:int}/history", operation_id="GetAdmissionRequestHistory",
         summary="Every change of state, timestamped", opt=_as("read", request_county, hide=True),
         responses=problems(*AUTHED, 404))
    async def history(self, request: Request[Any, Any, Any], db: DB,
                      request_id: FromPath[int]) -> list[TransitionRead]:
        row = await service.visible(db, request_id=request_id, subject=identity_of(request).subject,
                                    may_review=_may(request, "review"))
        return await service.history(db, row=row)

    @get("/{request_id:int}/deliveries", operation_id="GetAdmissionRequestDeliveries",
         summary="Notifications sent to the department's callback for this request, with every attempt",
         opt=_as("read", request_county, hide=True), responses=problems(*AUTHED, 404))
    async def deliveries(self, request: Request[Any, Any, Any], db: DB,
                         request_id: FromPath[int]) -> list[DeliveryRead]:
        row = await service.visible(db, request_id=request_id, subject=identity_of(request).subject,
                                    may_review=_may(request, "review"))
        return await service.deliveries(db, row=row)

    @put("/{request_id:int}", operation_id="EditAdmissionDraft", summary="Replace a draft (a submitted request "
         "is frozen)", opt=_as("submit", request_county, hide=True), responses=problems(*AUTHED, 404, 409))
    async def edit(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                   data: JSONBody[AdmissionSubmission]) -> AdmissionRequestRead:
        return await service.edit_draft(db, actor=Actor.from_connection(request, "department"),
                                        subject=identity_of(request).subject, request_id=request_id, data=data,
                                        may_submit=_may(request, "submit"))

    @post("/{request_id:int}/submit", operation_id="SubmitAdmissionDraft", summary="Submit a draft",
          opt=_as("submit", request_county, hide=True), responses=problems(*AUTHED, 404, 409), status_code=200)
    async def submit_draft(self, request: Request[Any, Any, Any], db: DB,
                           request_id: FromPath[int]) -> AdmissionRequestRead:
        return await service.submit_draft(db, actor=Actor.from_connection(request, "department"),
                                          subject=identity_of(request).subject, request_id=request_id,
                                          source=_source(request))

    @post("/{request_id:int}/withdraw", operation_id="WithdrawAdmissionRequest",
          summary="Withdraw a request not yet decided", opt=_as("submit", request_county, hide=True),
          responses=problems(*AUTHED, 404, 409), status_code=200)
    async def withdraw(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                       data: JSONBody[Withdrawal]) -> AdmissionRequestRead:
        return await service.withdraw(db, actor=Actor.from_connection(request, "department"),
                                      subject=identity_of(request).subject, request_id=request_id,
                                      reason=data.reason)

    @post("/{request_id:int}/resubmit", operation_id="ResubmitAdmissionRequest",
          summary="Resubmit a returned request as a new revision (screened again)",
          opt=_as("submit", request_county, hide=True), responses=problems(*AUTHED, 404, 409), status_code=201)
    async def resubmit(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                       data: JSONBody[AdmissionSubmission]) -> AdmissionRequestRead:
        return await service.resubmit(db, actor=Actor.from_connection(request, "department"),
                                      submitter=_submitter(request), request_id=request_id, data=data,
                                      may_submit=_may(request, "submit"), source=_source(request))

    @post("/{request_id:int}/start-review", operation_id="StartAdmissionReview",
          summary="Take a submitted request into review (county reviewer)",
          opt=_as("review", request_county, hide=True), responses=problems(*AUTHED, 404, 409), status_code=200)
    async def start_review(self, request: Request[Any, Any, Any], db: DB,
                           request_id: FromPath[int]) -> AdmissionRequestRead:
        return await service.start_review(db, actor=Actor.from_connection(request, "county_reviewer"),
                                          request_id=request_id)

    @post("/{request_id:int}/decision", operation_id="DecideAdmissionRequest",
          summary="Approve (the item enters the county's list), reject or return, with reasons (county reviewer)",
          opt=_as("review", request_county, hide=True), responses=problems(*AUTHED, 404, 409), status_code=200)
    async def decide(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                     data: JSONBody[Decision]) -> AdmissionRequestRead:
        """Of two reviewers deciding at once, exactly one decision stands; the other gets 409."""
        return await service.decide(db, actor=Actor.from_connection(request, "county_reviewer"),
                                    request_id=request_id, decision=data)

    @post("/{request_id:int}/revoke", operation_id="RevokeAdmission",
          summary="Revoke an approved matter: it leaves the county's list from a date (county reviewer)",
          opt=_as("review", request_county, hide=True), responses=problems(*AUTHED, 404, 409), status_code=200)
    async def revoke(self, request: Request[Any, Any, Any], db: DB, request_id: FromPath[int],
                     data: JSONBody[Revocation]) -> AdmissionRequestRead:
        return await service.revoke(db, actor=Actor.from_connection(request, "county_reviewer"),
                                    request_id=request_id, data=data)


class ScreeningRuleController(Controller):
    path = "/api/v1/screening-rules"
    tags = ["admission"]

    @get("/", operation_id="ListScreeningRules",
         summary="The screening rules in force: national ones, and a county's own (public)",
         opt={"public": True}, responses=problems())
    async def list_rules(
        self, db: DB, county_code: Annotated[str | None, QueryParameter(pattern="^[0-9]{6}$")] = None,
    ) -> list[ScreeningRuleRead]:
        return await service.list_rules(db, county_code=county_code)

    @post("/", operation_id="AddScreeningRule", summary="Add a county's own screening rule",
          opt={"permission": Permission("screening_rule", "manage", domain=body_domain("county_code"))},
          responses=problems(*AUTHED, 404, 409), security=SECURITY, status_code=201)
    async def add_rule(self, request: Request[Any, Any, Any], db: DB,
                       data: JSONBody[ScreeningRuleCreate]) -> ScreeningRuleRead:
        return await service.add_rule(db, actor=Actor.from_connection(request, "county_reviewer"), data=data,
                                      tree=request.app.state.tree)

    @post("/{rule_id:int}/retire", operation_id="RetireScreeningRule", summary="Retire a county's own rule",
          opt={"permission": Permission("screening_rule", "manage", domain=_rule_county, hide=True)},
          responses=problems(*AUTHED, 404), security=SECURITY, status_code=200)
    async def retire_rule(self, request: Request[Any, Any, Any], db: DB, rule_id: FromPath[int]) -> ScreeningRuleRead:
        return await service.retire_rule(db, actor=Actor.from_connection(request, "county_reviewer"), rule_id=rule_id)


class CallbackController(Controller):
    path = "/api/v1/callback"
    tags = ["admission"]
    security = SECURITY

    @put("/", operation_id="RegisterCallback",
         summary="Register the caller's callback URL; returns a new signing secret (shown once)",
         opt={"permission": Permission("callback", "manage")}, responses=problems(*AUTHED, 404))
    async def register(self, request: Request[Any, Any, Any], db: DB,
                       data: JSONBody[CallbackRegistration]) -> CallbackRead:
        """Each change of state of the caller's requests is POSTed there as JSON, signed as Standard Webhooks
        sign (`webhook-id`, `webhook-timestamp`, `webhook-signature`; key `standard_webhooks_secret`) and as
        `X-MR-Signature: sha256=<hex HMAC-SHA256(secret, body)>`; retried with backoff for 48 hours. The URL
        must be https and resolve to a public address (checked now and at each delivery)."""
        identity = identity_of(request)
        if identity.kind != "client" or identity.id is None:
            raise ValidationFailed.field("url", "只有 API 客户端可以登记回调地址 (only an API client has a callback)")
        return await service.register_callback(db, actor=Actor.from_connection(request, "department"),
                                               client_id=identity.id, url=data.url,
                                               development=request.app.state.settings.dev_mode)


async def start_admission(app: Litestar) -> Callable[[], Awaitable[None]] | None:
    """Per process: the screening cache, cleared by its change topics; the rules file synced once."""
    source = ScreeningSource()
    app.state.admission_source = source
    for topic in TOPICS:
        app.state.listener.on(topic, source.on_change)
    app.state.listener.on(LISTS_TOPIC, source.on_lists_change)
    app.state.listener.on("screening_rules", COUNTY_RULES.on_change)
    rules = read_rules_file(app.state.settings.policies_dir)
    async with app.state.pool.acquire() as conn, conn.transaction():
        await service.sync_rules_file(conn, rules=rules)
    return None


# registered once per process: the core's lifespan runs every starter
if start_admission not in STARTERS:
    STARTERS.append(start_admission)
if start_delivery not in STARTERS:
    STARTERS.append(start_delivery)

ROUTES = [AdmissionController, ScreeningRuleController, CallbackController]
