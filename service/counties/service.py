"""A county's own figures (county_setting): the defaults, and what the county changed."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from service.core import audit
from service.core.audit import Actor
from service.core.errors import ValidationFailed
from service.core.tree import JurisdictionTree, lookup
from service.counties import queries
from service.counties.schemas import DEFAULTS, CountySettings, CountySettingsRead


async def load_settings(conn: asyncpg.Connection, *, county_code: str) -> CountySettings:
    raw: dict[str, Any] | None = await conn.fetchval(queries.SETTINGS, county_code)
    if not raw:
        return DEFAULTS
    return msgspec.convert({**msgspec.to_builtins(DEFAULTS), **raw}, CountySettings)


async def _check_county(conn: asyncpg.Connection, county_code: str, tree: JurisdictionTree | None) -> None:
    node = await lookup(conn, county_code, tree=tree)
    if node is None or node.level != "county":
        raise ValidationFailed.field("county_code", f"{county_code} 不是县级行政区 (not a county)")


async def read(conn: asyncpg.Connection, *, county_code: str, tree: JurisdictionTree | None = None
               ) -> CountySettingsRead:
    await _check_county(conn, county_code, tree)
    raw = await conn.fetchval(queries.SETTINGS, county_code) or {}
    return CountySettingsRead(county_code=county_code, settings=await load_settings(conn, county_code=county_code),
                              overridden=sorted(raw), defaults=DEFAULTS)


async def update(conn: asyncpg.Connection, *, actor: Actor, county_code: str, data: dict[str, Any],
                 tree: JurisdictionTree | None = None) -> CountySettingsRead:
    await _check_county(conn, county_code, tree)
    current = await conn.fetchval(queries.SETTINGS, county_code) or {}
    try:
        msgspec.convert({**msgspec.to_builtins(DEFAULTS), **current, **data}, CountySettings)
    except msgspec.ValidationError as exc:
        raise ValidationFailed.field("body", str(exc), rule="county_setting.shape") from exc
    await conn.fetchval(queries.UPSERT, county_code, data, f"{actor.actor_type}:{actor.actor_id or actor.actor_name}")
    await audit.record(conn, actor=actor, action="county_setting.update", subject_type="county_setting",
                       subject_id=county_code, jurisdiction=county_code, change=data)
    return await read(conn, county_code=county_code, tree=tree)
