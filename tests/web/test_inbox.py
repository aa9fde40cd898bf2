"""The reviewer's inbox counts deadlines in working days on the county's own calendar, shows each request's
screening verdict and names the communities a request goes to."""

from __future__ import annotations

import datetime
import re

from service.core.clock import today
from tests.helpers.web import sign_in

TITLE = "社区高龄老人探访关爱服务"


def _row(html: str, title: str) -> str:
    rows = [r for r in re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", html, re.S) if title in r]
    assert len(rows) == 1, rows
    return rows[0]


async def test_a_deadline_a_week_away_across_county_holidays_is_near_in_working_days(client, demo, db):
    day = today()
    request_id = await db.fetchval("select id from admission_request where title = $1 and status in "
                                   "('submitted', 'in_review') limit 1", TITLE)
    await db.execute("update admission_request set decision_due = $2 where id = $1", request_id,
                     day + datetime.timedelta(days=7))
    # the county gives the next five days off: a week in the calendar, at most two working days
    for n in range(1, 6):
        await db.execute("insert into calendar_day (day, kind, name, county_code, created_by) "
                         "values ($1, 'holiday', '县防汛放假', '430121', 'test') on conflict do nothing",
                         day + datetime.timedelta(days=n))
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get("/ui/inbox")
    assert page.status_code == 200
    row = _row(page.text, TITLE)
    assert "is-near" in row
    assert "临近期限" in row
    left = re.search(r"剩(\d)个工作日|今天到期", row)
    assert left, row
    assert left.group(0) == "今天到期" or int(left.group(1)) <= 2


async def test_the_inbox_shows_the_screening_verdict_and_the_target_communities_by_name(client, demo, db):
    targets = await db.fetchval("select targets from admission_request where title = $1 limit 1", TITLE)
    names = [await db.fetchval("select name from jurisdiction where code = $1", t) for t in targets]
    await sign_in(client, "reviewer", demo.users["reviewer"])
    row = _row((await client.get("/ui/inbox")).text, TITLE)
    assert re.search(r"未发现问题|有提示|违反禁止性规定", row), row
    for name in names:
        assert name in row
    assert not re.search(r">\s*\d{6,}\s*<", row)  # no code where a name belongs


async def test_the_inbox_in_english_says_working_days(client, demo):
    await sign_in(client, "reviewer", demo.users["reviewer"])
    client.cookies.set("mr_lang", "en")
    r = await client.get("/ui/inbox")
    assert re.search(r"working days (left|overdue)|Due today", r.text)
    assert "个工作日" not in r.text
