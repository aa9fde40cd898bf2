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

SECURITY = [{"BearerToken": []}]


async def _fetch(connection: ASGIConnection[Any, Any, Any, Any], sql: str, key: str) -> str:
    raw = connection.path_params[key]
    async with connection.app.state.pool.acquire() as conn:
        code = await conn.fetchval(sql, raw)
    if code is None:
        raise NotFound(f"{key} {raw} 不存在 (not found)")
    return str(code)


async def _client_domain(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return await _fetch(connection, "select jurisdiction_code from api_client where id = $1", "client_id")


async def _token_domain(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return await _fetch(connection, "select c.jurisdiction_code from api_token t join api_client c "
                                    "on c.id = t.client_id where t.id = $1", "token_id")


async def _assignment_domain(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return await _fetch(connection, "select jurisdiction_code from role_assignment where id = $1", "assignment_id")


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

    @post("/users", operation_id="CreateUser", summary="Create a web user (password stored as argon2id)",
          opt=_manage(), responses=problems(*AUTHED, 409))
    async def create_user(self, request: Request[Any, Any, Any], db: DB, data: JSONBody[UserCreate]) -> UserRead:
        return await service.create_user(db, actor=Actor.from_connection(request, "admin"), data=data)

    @post("/clients", operation_id="CreateClient", summary="Create an API client for a department or office",
          opt=_manage(_body_jurisdiction), responses=problems(*AUTHED, 404, 409))
    async def create_client(self, request: Request[Any, Any, Any], db: DB,
                            data: JSONBody[ClientCreate]) -> ClientRead:
        return await service.create_client(db, actor=Actor.from_connection(request, "admin"), data=data)

    @get("/clients/{client_id:int}", operation_id="GetClient", summary="One API client",
         opt=_manage(_client_domain), responses=problems(*AUTHED, 404))
    async def get_client(self, db: DB, client_id: FromPath[int]) -> ClientRead:
        return await service.get_client(db, client_id=client_id)

    @post("/clients/{client_id:int}/tokens", operation_id="IssueToken",
          summary="Issue a token for a client (shown once, stored hashed)",
          opt=_manage(_client_domain), responses=problems(*AUTHED, 404))
    async def issue_token(self, request: Request[Any, Any, Any], db: DB, client_id: FromPath[int],
                          data: JSONBody[TokenCreate]) -> TokenIssued:
        return await service.issue_token(db, actor=Actor.from_connection(request, "admin"),
                                         pepper=request.app.state.settings.token_pepper, client_id=client_id,
                                         data=data)

    @get("/clients/{client_id:int}/tokens", operation_id="ListTokens",
         summary="A client's tokens (prefixes and dates, never the tokens)",
         opt=_manage(_client_domain), responses=problems(*AUTHED, 404))
    async def list_tokens(self, db: DB, client_id: FromPath[int]) -> list[TokenRead]:
        return await service.list_tokens(db, client_id=client_id)

    @post("/tokens/{token_id:int}/revoke", operation_id="RevokeToken", summary="Revoke a token at once",
          opt=_manage(_token_domain), responses=problems(*AUTHED, 404), status_code=200)
    async def revoke_token(self, request: Request[Any, Any, Any], db: DB, token_id: FromPath[int]) -> TokenRead:
        return await service.revoke_token(db, actor=Actor.from_connection(request, "admin"), token_id=token_id)

    @post("/role-assignments", operation_id="GrantRole", summary="Grant a role at a jurisdiction",
          opt=_manage(_body_jurisdiction), responses=problems(*AUTHED, 404, 409))
    async def grant_role(self, request: Request[Any, Any, Any], db: DB,
                         data: JSONBody[RoleGrant]) -> RoleAssignmentRead:
        return await service.grant_role(db, actor=Actor.from_connection(request, "admin"), data=data)

    @post("/role-assignments/{assignment_id:int}/revoke", operation_id="RevokeRole",
          summary="Revoke a role assignment (kept, marked revoked)",
          opt=_manage(_assignment_domain), responses=problems(*AUTHED, 404, 409), status_code=200)
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
