"""The effective list is computed in three places (SQL for the list pages, SQL building JSON for the public
lists, the checker's memory); on the demo county, today and after future-dated changes, all three agree."""

from __future__ import annotations

import datetime

import asyncpg
import msgspec

from service.core.audit import SYSTEM
from service.registry import service
from service.registry.checks import Checker, state_on
from service.registry.service import template_scopes, today

COUNTY = "430121"


async def checker_codes(checker, on: datetime.date) -> set[str]:
    """The codes the check would treat as listed and in force on `on` (nearest scope's record wins)."""
    seen: dict[str, object] = {}
    for scope in reversed(template_scopes(COUNTY)):  # nearest first
        held = await checker.scope(scope)
        for code, states in held.items.items():
            seen.setdefault(code, state_on(states, on))
    return {code for code, s in seen.items()
            if s is not None and s.status == "active" and (s.expires_on is None or on < s.expires_on)}


async def three_answers(db, checker, on: datetime.date) -> tuple[set[str], set[str], set[str]]:
    listed = {i.code for i in await service.effective_items(db, county_code=COUNTY, as_of=on)}
    body = await service.effective_list_json(db, county_code=COUNTY, community_code=None, as_of=on, release=None,
                                             kind=None, list_name=None, q=None)
    published = {i["code"] for i in msgspec.json.decode(body)["items"]}
    return listed, published, await checker_codes(checker, on)


async def test_the_list_pages_the_public_list_and_the_check_agree_today_and_after_dated_changes(database, db):
    pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    try:
        await agree(db, Checker(pool, authorizer=None), pool)
    finally:
        await pool.close()


async def agree(db, checker: Checker, pool) -> None:
    now = today()
    listed, published, checked = await three_answers(db, checker, now)
    assert len(listed) > 10  # the demo county's list, templates included
    assert listed == published == checked

    # a suspension and a retirement that take effect later: before their date nothing moves, after it all three
    # drop them; the checker
    # learns of them on its refresh (no restart)
    county_own = sorted(i.code for i in await service.effective_items(db, county_code=COUNTY, as_of=now)
                        if i.code.startswith(COUNTY))
    suspended, retired = county_own[0], county_own[1]
    later = now + datetime.timedelta(days=30)
    async with db.transaction():
        await service.adjust(db, actor=SYSTEM, scope=COUNTY, code=suspended, entry_type="suspend",
                             effective_from=later, reason="测试：暂停")
        await service.adjust(db, actor=SYSTEM, scope=COUNTY, code=retired, entry_type="retire",
                             effective_from=later, reason="测试：取消")
    await checker.refresh(pool)  # what the `registry` change topic makes every process do
    for on in (now, later - datetime.timedelta(days=1), later, later + datetime.timedelta(days=365)):
        listed, published, checked = await three_answers(db, checker, on)
        assert listed == published == checked, on
        assert (suspended in listed) is (on < later), on
        assert (retired in listed) is (on < later), on
