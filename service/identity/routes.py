"""Administration of web users, API clients, tokens and role assignments; who am I."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.params import FromPath, FromQuery, JSONBody

from service.core.audit import Actor
from service.core.auth import identity_of
from service.core.authz import Authorizer, Permission, body_domain
from service.core.db import DB
from service.core.errors import NotFound
from service.core.openapi import AUTHED, problems
from service.identity import service
from service.identity.schemas import (
    ClientCreate,
    ClientRead,
    HeldRole,
    Me,
    RoleAssignmentRead,
    RoleGrant,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
)

SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}]
BIGINT_MAX = 2**63 - 1


def _resolved(found: list[str] | None, what: str) -> list[str]:
    if found is None:
        raise NotFound(f"{what}不存在")
    return found


async def _client_domains(connection: ASGIConnection[Any, Any, Any, Any]) -> list[str]:
    """A client's home and every jurisdiction where it holds a role: a token carries all of its roles."""
    client_id = int(connection.path_params["client_id"])
    async with connection.app.state.pool.acquire() as conn:
        found = await service.client_jurisdictions(conn, client_id=client_id) if client_id <= BIGINT_MAX else None
    return _resolved(found, f"接入方 {client_id} ")


async def _token_domains(connection: ASGIConnection[Any, Any, Any, Any]) -> list[str]:
    token_id = int(connection.path_params["token_id"])
    async with connection.app.state.pool.acquire() as conn:
        found = await service.token_jurisdictions(conn, token_id=token_id) if token_id <= BIGINT_MAX else None
    return _resolved(found, f"令牌 {token_id} ")


async def _assignment_domains(connection: ASGIConnection[Any, Any, Any, Any]) -> list[str]:
    assignment_id = int(connection.path_params["assignment_id"])
    async with connection.app.state.pool.acquire() as conn:
        found = (await service.assignment_jurisdictions(conn, assignment_id=assignment_id)
                 if assignment_id <= BIGINT_MAX else None)
    return _resolved(found, f"角色授予 {assignment_id} ")


async def _grant_domains(connection: ASGIConnection[Any, Any, Any, Any]) -> list[str] | None:
    """Granting a role: the right over the new jurisdiction and over every one the principal holds already."""
    target = await _body_jurisdiction(connection)
    if target is None:
        return None
    try:
        body = await connection.json()  # type: ignore[attr-defined]
    except Exception:  # a malformed body is answered by the body's own validation
        return None
    principal_type, principal_id = body.get("principal_type"), body.get("principal_id")
    if principal_type not in ("user", "client") or not isinstance(principal_id, int) or not (
            0 < principal_id <= BIGINT_MAX):
        return [target]
    async with connection.app.state.pool.acquire() as conn:
        held = await service.principal_jurisdictions(conn, principal_type=principal_type, principal_id=principal_id)
    return [target, *[c for c in held if c != target]]


_body_jurisdiction = body_domain("jurisdiction_code")


def _manage(domain: Any = None) -> dict[str, Any]:
    return {"permission": Permission("principal", "manage", domain=domain, hide=domain is not None)}


class IdentityController(Controller):
    path = "/api/v1"
    tags = ["identity"]
    security = SECURITY

    @get("/me", operation_id="GetMe", summary="Who the caller is and which roles it holds where",
         opt={"authenticated": True}, responses=problems(401))
    async def me(self, request: Request[Any, Any, Any]) -> Me:
        identity = identity_of(request)
        authorizer: Authorizer = request.app.state.authorizer
        held = authorizer.roles_of(identity.subject)
        roles = []
        for code, names in sorted(held.items()):
            node = authorizer.tree.get(code)
            roles += [HeldRole(role=r, jurisdiction_code=code, jurisdiction_name=node.name if node else None)
                      for r in sorted(names)]
        return Me(kind=identity.kind, id=identity.id, name=identity.name, organisation=identity.organisation,
                  roles=roles)

    @post("/users", operation_id="CreateUser", summary="Create a web user (password stored as argon2id); a "
          "department's or street office's user names its organisation, level and seat as an API client does",
          opt=_manage(_body_jurisdiction), responses=problems(*AUTHED, 404, 409))
    async def create_user(self, request: Request[Any, Any, Any], db: DB, data: JSONBody[UserCreate]) -> UserRead:
        """Roles are granted afterwards as for a client (`POST /role-assignments`, principal_type `user`)."""
        return await service.create_user(db, actor=Actor.from_connection(request, "admin"), data=data,
                                         tree=request.app.state.tree)

    @post("/clients", operation_id="CreateClient", summary="Create an API client for a department or office",
          opt=_manage(_body_jurisdiction), responses=problems(*AUTHED, 404, 409))
    async def create_client(self, request: Request[Any, Any, Any], db: DB,
                            data: JSONBody[ClientCreate]) -> ClientRead:
        return await service.create_client(db, actor=Actor.from_connection(request, "admin"), data=data,
                                           development=request.app.state.settings.dev_mode,
                                           tree=request.app.state.tree)

    @get("/clients/{client_id:int}", operation_id="GetClient", summary="One API client",
         opt=_manage(_client_domains), responses=problems(*AUTHED, 404))
    async def get_client(self, db: DB, client_id: FromPath[int]) -> ClientRead:
        return await service.get_client(db, client_id=client_id)

    @post("/clients/{client_id:int}/tokens", operation_id="IssueToken",
          summary="Issue a token for a client (shown once, stored hashed)",
          opt=_manage(_client_domains), responses=problems(*AUTHED, 404))
    async def issue_token(self, request: Request[Any, Any, Any], db: DB, client_id: FromPath[int],
                          data: JSONBody[TokenCreate]) -> TokenIssued:
        return await service.issue_token(db, actor=Actor.from_connection(request, "admin"),
                                         pepper=request.app.state.settings.token_pepper, client_id=client_id,
                                         data=data)

    @get("/clients/{client_id:int}/tokens", operation_id="ListTokens",
         summary="A client's tokens (prefixes and dates, never the tokens)",
         opt=_manage(_client_domains), responses=problems(*AUTHED, 404))
    async def list_tokens(self, db: DB, client_id: FromPath[int]) -> list[TokenRead]:
        return await service.list_tokens(db, client_id=client_id)

    @post("/tokens/{token_id:int}/revoke", operation_id="RevokeToken", summary="Revoke a token at once",
          opt=_manage(_token_domains), responses=problems(*AUTHED, 404), status_code=200)
    async def revoke_token(self, request: Request[Any, Any, Any], db: DB, token_id: FromPath[int]) -> TokenRead:
        return await service.revoke_token(db, actor=Actor.from_connection(request, "admin"), token_id=token_id)

    @post("/role-assignments", operation_id="GrantRole",
          summary="Grant a role at a jurisdiction (needs the right over every jurisdiction the principal holds a "
                  "role at)",
          opt=_manage(_grant_domains), responses=problems(*AUTHED, 404, 409))
    async def grant_role(self, request: Request[Any, Any, Any], db: DB,
                         data: JSONBody[RoleGrant]) -> RoleAssignmentRead:
        return await service.grant_role(db, actor=Actor.from_connection(request, "admin"), data=data,
                                        tree=request.app.state.tree)

    @post("/role-assignments/{assignment_id:int}/revoke", operation_id="RevokeRole",
          summary="Revoke a role assignment (kept, marked revoked)",
          opt=_manage(_assignment_domains), responses=problems(*AUTHED, 404, 409), status_code=200)
    async def revoke_role(self, request: Request[Any, Any, Any], db: DB,
                          assignment_id: FromPath[int]) -> RoleAssignmentRead:
        return await service.revoke_role(db, actor=Actor.from_connection(request, "admin"),
                                         assignment_id=assignment_id)

    @get("/role-assignments", operation_id="ListRoleAssignments",
         summary="A principal's role assignments, within the jurisdictions the caller manages",
         opt=_manage(), responses=problems(*AUTHED))
    async def list_roles(self, request: Request[Any, Any, Any], db: DB, principal_type: FromQuery[str],
                         principal_id: FromQuery[int]) -> list[RoleAssignmentRead]:
        authorizer: Authorizer = request.app.state.authorizer
        subject = identity_of(request).subject
        rows = await service.list_roles(db, principal_type=principal_type, principal_id=principal_id)
        return [r for r in rows if authorizer.allowed(subject, "principal", "manage", r.jurisdiction_code)]


ROUTES = [IdentityController]
