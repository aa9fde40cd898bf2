"""What screening needs of a county (rules, settings, calendar), kept per process for a minute,
and the county's listed items indexed for the duplicate search (service/registry/similar.py).

The `screening_rules`, `calendar` and `county_settings` change topics clear the first at once, the
`registry` topic the second; a TTL of zero (the CLI, the demo loader) reads the database every time.
"""

from __future__ import annotations

import datetime
import time

import asyncpg
import msgspec

from service.admission import queries
from service.admission.screening import Rule
from service.calendar import workdays
from service.calendar.workdays import Calendar
from service.counties.schemas import CountySettings
from service.counties.service import load_settings
from service.policy.apply import rule_definition
from service.policy.engine import Engine, engine_for
from service.registry.schemas import SimilarItem
from service.registry.service import similar_items, template_scopes
from service.registry.similar import SimilarItems

TOPICS = ("screening_rules", "calendar", "county_settings")
LISTS_TOPIC = "registry"


class CountyContext(msgspec.Struct, frozen=True):
    rules: list[Rule]
    settings: CountySettings
    calendar: Calendar
    engine: Engine | None = None
    """the policy engine with the county's own rules"""


class ScreeningSource:
    def __init__(self, ttl_s: float = 60.0) -> None:
        self._ttl = ttl_s
        self._counties: dict[str, tuple[float, CountyContext]] = {}
        self._similar = SimilarItems()

    def clear(self) -> None:
        self._counties.clear()

    async def on_change(self, _pool: asyncpg.Pool) -> None:
        self.clear()

    async def on_lists_change(self, _pool: asyncpg.Pool) -> None:
        self._similar.clear()

    async def similar(self, conn: asyncpg.Connection, county_code: str, title: str, content: str) -> list[SimilarItem]:
        """Listed items like the matter, most similar first: from memory, or (TTL 0) from PostgreSQL."""
        if self._ttl <= 0:
            return await similar_items(conn, county_code=county_code, title=title, content=content)
        return await self._similar.find(conn, scopes=template_scopes(county_code), title=title, content=content)

    async def county(self, conn: asyncpg.Connection, county_code: str, today: datetime.date) -> CountyContext:
        now = time.monotonic()
        held = self._counties.get(county_code)
        if held is not None and held[0] > now:
            return held[1]
        rows = await conn.fetch(queries.RULES, [county_code])
        rules = [Rule(rule=r["rule"], match_type=r["match_type"], pattern=r["pattern"], severity=r["severity"],
                      message=r["message"], county_code=r["county_code"])
                 for r in rows if r["match_type"] == "category"]
        # the county's own word rules join the national engine (the national 'policy' rows only mirror the file)
        own = [(county_code, rule_definition(r)) for r in rows
               if r["county_code"] is not None and r["match_type"] != "category"]
        engine = engine_for(own)
        settings = await load_settings(conn, county_code=county_code)
        calendar = await workdays.load(conn, county_code=county_code, start=today - datetime.timedelta(days=31),
                                       end=today + datetime.timedelta(days=3 * 366))
        context = CountyContext(rules=rules, settings=settings, calendar=calendar, engine=engine)
        if self._ttl > 0:
            self._counties[county_code] = (now + self._ttl, context)
        return context


UNCACHED = ScreeningSource(ttl_s=0)
