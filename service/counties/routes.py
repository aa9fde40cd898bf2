"""A county's own figures (county_setting): read by its officials, changed by its administrators."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from litestar import Controller, Request, get, patch
from litestar.params import FromPath, JSONBody

from service.core import audit
from service.core.audit import Actor
from service.core.authz import Permission, path_domain
from service.core.db import DB
from service.core.errors import ValidationFailed
from service.core.openapi import AUTHED, problems
from service.core.schemas import Output
from service.settings_county import DEFAULTS, CountySettings
from service.settings_county import load as load_settings

_UPSERT = """
insert into county_setting (county_code, settings, updated_by) values ($1, $2, $3)
on conflict (county_code) do update set settings = county_setting.settings || excluded.settings,
    updated_at = now(), updated_by = excluded.updated_by
returning settings
"""


class CountySettingsRead(Output):
    county_code: str
    settings: CountySettings
    overridden: list[str]
    """the keys this county set; every other value is the default"""
    defaults: CountySettings


async def _read(conn: asyncpg.Connection, county_code: str) -> CountySettingsRead:
    await _check_county(conn, county_code)
    raw = await conn.fetchval("select settings from county_setting where county_code = $1", county_code) or {}
    return CountySettingsRead(county_code=county_code, settings=await load_settings(conn, county_code=county_code),
                              overridden=sorted(raw), defaults=DEFAULTS)


async def _check_county(conn: asyncpg.Connection, county_code: str) -> None:
    if await conn.fetchval("select level from jurisdiction where code = $1", county_code) != "county":
        raise ValidationFailed.field("county_code", f"{county_code} 不是县级行政区 (not a county)")


class CountySettingsController(Controller):
    path = "/api/v1/counties/{county_code:str}/settings"
    tags = ["counties"]
    security = [{"BearerToken": []}]

    @get("/", operation_id="GetCountySettings",
         summary="A county's figures (notice period, deadlines, reviewing body, ...) with the defaults",
         opt={"permission": Permission("county_setting", "read", domain=path_domain("county_code"))},
         responses=problems(*AUTHED, 404))
    async def get_settings(self, db: DB, county_code: FromPath[str]) -> CountySettingsRead:
        return await _read(db, county_code)

    @patch("/", operation_id="UpdateCountySettings",
           summary="Change some of a county's figures (unknown keys and wrong types are 422)",
           opt={"permission": Permission("county_setting", "manage", domain=path_domain("county_code"))},
           responses=problems(*AUTHED, 404))
    async def update_settings(self, request: Request[Any, Any, Any], db: DB, county_code: FromPath[str],
                              data: JSONBody[dict[str, Any]]) -> CountySettingsRead:
        await _check_county(db, county_code)
        current = await db.fetchval("select settings from county_setting where county_code = $1", county_code) or {}
        try:
            msgspec.convert({**msgspec.to_builtins(DEFAULTS), **current, **data}, CountySettings)
        except msgspec.ValidationError as exc:
            raise ValidationFailed.field("body", str(exc), rule="county_setting.shape") from exc
        actor = Actor.from_connection(request, "admin")
        await db.fetchval(_UPSERT, county_code, data, f"{actor.actor_type}:{actor.actor_id or actor.actor_name}")
        await audit.record(db, actor=actor, action="county_setting.update", subject_type="county_setting",
                           subject_id=county_code, jurisdiction=county_code, change=data)
        return await _read(db, county_code)


ROUTES = [CountySettingsController]
