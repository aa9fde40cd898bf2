"""The department's client library, against the running app."""

from __future__ import annotations

import pytest

from service.client import AsyncClient, ProblemError
from tests.admission.conftest import submission


async def test_the_async_client_submits_reads_status_and_checks_a_matter(client, demo):
    mr = AsyncClient("http://testserver.local", token=demo.tokens["civil-affairs"], http=client)
    check = await mr.check(submission(content="请社区推销保险。"))
    assert check["430121"].verdict == "refused"
    answer = await mr.submit(submission(), idempotency_key="client-1")
    assert answer.status == "submitted"
    assert answer.screening is not None
    again = await mr.submit(submission(title=answer.title, content=answer.submission["content"],
                                       start_date=answer.submission["start_date"]), idempotency_key="client-2")
    assert again.id != answer.id
    status = await mr.status(answer.id)
    assert status.decision_due == answer.decision_due
    page = await mr.list_requests(status="submitted")
    assert answer.id in {i.id for i in page.items}
    with pytest.raises(ProblemError) as refused:
        await mr.status(999_999)
    assert refused.value.problem.status == 404
