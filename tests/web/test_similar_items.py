"""The request page once decided: its "similar items" are items worth comparing (none below the threshold, not
the request's own item), and no deadline is shown any more."""

from __future__ import annotations

import re

from service.admission.listing import SIMILAR_AT_LEAST
from tests.helpers.web import approve_on_page, sign_in

TITLE = "社区高龄老人探访关爱服务"


def _similar(html: str) -> str:
    found = re.search(r'<section aria-labelledby="h-similar">.*?</section>', html, re.S)
    assert found, "no similar-items section"
    return found.group(0)


async def test_after_approval_the_request_is_not_similar_to_itself_and_noise_is_left_out(client, demo, db):
    request_id = await db.fetchval("select id from admission_request where title = $1 and status = 'submitted' "
                                   "limit 1", TITLE)
    await sign_in(client, "reviewer", demo.users["reviewer"])
    done = await approve_on_page(client, request_id, reason="依据充分，同意。")
    assert done.status_code == 303
    code = await db.fetchval("select item_code from admission_request where id = $1", request_id)
    assert code
    after = (await client.get(f"/ui/admission/{request_id}")).text
    status_line = re.search(r'<p class="status-line">.*?</p>', after, re.S).group(0)
    assert "办理期限" not in status_line  # decided: no deadline left to show
    section = _similar(after)
    assert code not in section
    assert TITLE not in section
    for shown in re.findall(r"相似度 (\d+)%", section):
        assert int(shown) >= SIMILAR_AT_LEAST * 100
