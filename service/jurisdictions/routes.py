"""Jurisdictions: the public tree, and the administrator's changes to it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody

from service.core.audit import Actor
from service.core.auth import identity_of
from service.core.authz import Authorizer, Permission, body_domain, path_domain
from service.core.db import DB
from service.core.errors import ValidationFailed
from service.core.openapi import AUTHED, problems
from service.jurisdictions import service
from service.jurisdictions.schemas import (
    ImportReport,
    JurisdictionCreate,
    JurisdictionMove,
    JurisdictionRead,
    JurisdictionUpdate,
    Subtree,
)

_parent_domain = body_domain("parent_code")
_new_parent = body_domain("new_parent_code")


async def _move_domains(connection: Any) -> list[str]:
    """Moving needs the right over the node and over its new parent."""
    new_parent = await _new_parent(connection)
    return [connection.path_params["code"], *([new_parent] if new_parent else [])]


def _decode_csv(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed.field("body", f"CSV 须为 UTF-8 编码 (CSV must be UTF-8): byte {exc.start}") from exc


class JurisdictionController(Controller):
    path = "/api/v1/jurisdictions"
    tags = ["jurisdictions"]

    @get("/{code:str}", operation_id="GetJurisdiction", summary="One jurisdiction (public)",
         opt={"public": True}, responses=problems(404))
    async def get_one(self, db: DB, code: FromPath[str]) -> JurisdictionRead:
        return service.to_read(await service.get(db, code=code))

    @get("/{code:str}/subtree", operation_id="GetJurisdictionSubtree",
         summary="A jurisdiction and everything below it (public)", opt={"public": True}, responses=problems(404))
    async def get_subtree(
        self, db: DB, code: FromPath[str],
        level: Annotated[str | None, QueryParameter(pattern="^(province|city|county|street|community)$")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=service.SUBTREE_LIMIT)] = 1000,
    ) -> Subtree:
        return await service.subtree(db, code=code, level=level, limit=limit)

    @post("/", operation_id="CreateJurisdiction", summary="Create a jurisdiction under a parent",
          opt={"permission": Permission("jurisdiction", "manage", domain=_parent_domain)},
          responses=problems(*AUTHED, 404, 409), security=[{"BearerToken": []}])
    async def create(self, request: Request[Any, Any, Any], db: DB,
                     data: JSONBody[JurisdictionCreate]) -> JurisdictionRead:
        return await service.create(db, actor=Actor.from_connection(request, "admin"), data=data)

    @patch("/{code:str}", operation_id="UpdateJurisdiction", summary="Rename a jurisdiction or set its population",
           opt={"permission": Permission("jurisdiction", "manage", domain=path_domain("code"))},
           responses=problems(*AUTHED, 404), security=[{"BearerToken": []}])
    async def update(self, request: Request[Any, Any, Any], db: DB, code: FromPath[str],
                     data: JSONBody[JurisdictionUpdate]) -> JurisdictionRead:
        return await service.update(db, actor=Actor.from_connection(request, "admin"), code=code, data=data)

    @post("/{code:str}/move", operation_id="MoveJurisdiction", summary="Move a jurisdiction under a new parent",
          opt={"permission": Permission("jurisdiction", "manage", domain=_move_domains)},
          responses=problems(*AUTHED, 404), security=[{"BearerToken": []}], status_code=200)
    async def move(self, request: Request[Any, Any, Any], db: DB, code: FromPath[str],
                   data: JSONBody[JurisdictionMove]) -> JurisdictionRead:
        return await service.move(db, actor=Actor.from_connection(request, "admin"), code=code,
                                  new_parent_code=data.new_parent_code)

    @post("/import", operation_id="ImportJurisdictions",
          summary="Import jurisdictions from CSV (code,parent_code,level,name,population)",
          opt={"permission": Permission("jurisdiction", "manage")},
          responses=problems(*AUTHED), security=[{"BearerToken": []}])
    async def import_csv(
        self, request: Request[Any, Any, Any], db: DB,
        body: RawBody,
        partial: FromQuery[bool] = False,
    ) -> ImportReport:
        authorizer: Authorizer = request.app.state.authorizer
        subject = identity_of(request).subject
        return await service.import_csv(
            db, actor=Actor.from_connection(request, "admin"), text=_decode_csv(body), partial=partial,
            may_manage=lambda code: authorizer.allowed(subject, "jurisdiction", "manage", code),
        )


ROUTES = [JurisdictionController]
