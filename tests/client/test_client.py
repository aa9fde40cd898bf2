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


def test_the_sync_client_does_what_the_async_one_does_and_leaves_a_passed_client_open(settings, demo):
    """Both clients run the same operations; a httpx client handed in stays the caller's to close."""
    from litestar.testing import TestClient

    from service.app import create_app
    from service.client import Client

    with TestClient(app=create_app(settings), base_url="http://testserver.local") as http:
        with Client("http://testserver.local", token=demo.tokens["civil-affairs"], http=http) as mr:
            assert mr.check(submission(content="请社区推销保险。"))["430121"].verdict == "refused"
            request = submission()
            answer = mr.submit(request, idempotency_key="sync-1")
            assert mr.submit(request, idempotency_key="sync-1").id == answer.id  # a retry is not a second request
            assert [t.to_status for t in mr.history(answer.id)][-1] == "submitted"
            withdrawn = mr.withdraw(answer.id, reason="重复提交")
            assert withdrawn.status == "withdrawn"
            with pytest.raises(ProblemError) as refused:
                mr.status(999_999)
            assert refused.value.problem.status == 404
        assert not http.is_closed  # the caller's client outlived ours
        assert http.get("/healthz").status_code == 200
    assert Client.submit.__name__ == "submit"
    assert "admission request" in (Client.submit.__doc__ or "")
