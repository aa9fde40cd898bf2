"""A county's own figures (county_setting): read by its officials, changed by its administrators."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch
from litestar.params import FromPath, JSONBody

from service.core.audit import Actor
from service.core.authz import Permission, path_domain
from service.core.db import DB
from service.core.openapi import AUTHED, problems
from service.counties import service
from service.counties.schemas import CountySettingsRead


class CountySettingsController(Controller):
    path = "/api/v1/counties/{county_code:str}/settings"
    tags = ["counties"]
    security = [{"BearerToken": []}]

    @get("/", operation_id="GetCountySettings",
         summary="A county's figures (notice period, deadlines, reviewing body, ...) with the defaults",
         opt={"permission": Permission("county_setting", "read", domain=path_domain("county_code"))},
         responses=problems(*AUTHED, 404))
    async def get_settings(self, request: Request[Any, Any, Any], db: DB, county_code: FromPath[str]
                           ) -> CountySettingsRead:
        return await service.read(db, county_code=county_code, tree=request.app.state.tree)

    @patch("/", operation_id="UpdateCountySettings",
           summary="Change some of a county's figures (unknown keys and wrong types are 422)",
           opt={"permission": Permission("county_setting", "manage", domain=path_domain("county_code"))},
           responses=problems(*AUTHED, 404))
    async def update_settings(self, request: Request[Any, Any, Any], db: DB, county_code: FromPath[str],
                              data: JSONBody[dict[str, Any]]) -> CountySettingsRead:
        return await service.update(db, actor=Actor.from_connection(request, "admin"), county_code=county_code,
                                    data=data, tree=request.app.state.tree)


ROUTES = [CountySettingsController]
