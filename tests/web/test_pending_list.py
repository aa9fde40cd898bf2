"""An approval that takes effect later: the item is not in today's list, it is in the list's 待生效 view, and
the request page's link to the list goes there."""

from __future__ import annotations

import datetime
import re

from service.core.clock import today
from tests.helpers.web import approve_on_page, sign_in

TITLE = "社区高龄老人探访关爱服务"


def _section(html: str, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    return found.group(0) if found else ""


async def test_an_item_approved_to_take_effect_next_month_waits_in_the_pending_view(client, demo, db):
    request_id = await db.fetchval("select id from admission_request where title = $1 and status = 'submitted' "
                                   "limit 1", TITLE)
    later = today() + datetime.timedelta(days=30)
    await sign_in(client, "reviewer", demo.users["reviewer"])
    decided = await approve_on_page(client, request_id, reason="依据充分，同意，下月起执行。",
                                    effective_from=later.isoformat())
    assert decided.status_code == 303
    done = await client.get(decided.headers["location"])
    code = await db.fetchval("select item_code from admission_request where id = $1", request_id)

    link = re.search(r'该事项已列入清单：<a href="([^"]+)"', done.text)
    assert link, done.text[:2000]
    assert link.group(1).endswith("#pending")
    assert "待生效" in done.text

    listed = await client.get(link.group(1).replace("&amp;", "&").split("#")[0])
    assert listed.status_code == 200
    pending = _section(listed.text, "pending")
    assert TITLE in pending
    assert code in pending
    assert "列入或修改" in pending
    assert f"{later.year}年{later.month}月{later.day}日" in pending
    # not in force today: the list's own tables do not hold it
    assert TITLE not in listed.text.replace(pending, "")

    # on the effective date the list holds it, and nothing is pending for it any more
    on_the_day = await client.get(f"/ui/lists/430121?as_of={later.isoformat()}&q={code}")
    assert TITLE in on_the_day.text
    assert TITLE not in _section(on_the_day.text, "pending")
