"""Dates, titles, amounts and targets have sane bounds: each refused with the field named, nothing written."""

from __future__ import annotations

import datetime

from service.admission.service import today
from tests.admission.conftest import into_review, submission, submit

BASE = "/api/v1/admission-requests"


def _names(r) -> list[str]:
    return [p["name"] for p in r.json()["invalid_params"]]


async def test_a_title_that_is_blank_or_only_invisible_characters_is_refused(client, as_client, db):
    before = await db.fetchval("select count(*) from admission_request")
    for title in ("   ", "\u200b\u200b", "\u3000\ufeff", "\u2060"):
        r = await client.post(BASE, headers=as_client("civil-affairs"), json=submission(title=title))
        assert r.status_code == 422, (title, r.text)
        assert _names(r) == ["title"]
    assert await db.fetchval("select count(*) from admission_request") == before


async def test_a_funding_amount_beyond_the_bound_is_refused(client, as_client):
    r = await client.post(BASE, headers=as_client("civil-affairs"), json=submission(
        resources={"funding_yuan": 10**15, "funding_source": "县级财政", "staff": 1}))
    assert r.status_code == 422, r.text
    assert _names(r) == ["resources.funding_yuan"]


async def test_a_start_date_more_than_ten_years_away_is_refused(client, as_client):
    for start in ("9999-12-31", (today() - datetime.timedelta(days=3700)).isoformat()):
        r = await client.post(BASE, headers=as_client("civil-affairs"), json=submission(start_date=start))
        assert r.status_code == 422, r.text
        assert _names(r) == ["start_date"]


async def test_duplicate_targets_are_collapsed(client, as_client):
    answer = await submit(client, as_client("civil-affairs"), targets=["430121001001", "430121001001"])
    assert answer["targets"] == ["430121001001"]


async def test_an_approval_cannot_take_effect_before_the_request_was_submitted(client, as_client, db):
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    answer = await submit(client, department)
    await into_review(client, reviewer, answer["id"])
    for effective in ("2001-01-01", "-infinity", "9999-01-01"):
        r = await client.post(f"{BASE}/{answer['id']}/decision", headers=reviewer,
                              json={"outcome": "approved", "reason": "同意", "effective_from": effective})
        assert r.status_code == 422, (effective, r.text)
        assert _names(r) == ["effective_from"]
    assert await db.fetchval("select status from admission_request where id = $1", answer["id"]) == "in_review"


async def test_a_secondment_beyond_ten_years_or_with_a_blank_purpose_is_refused(client, as_client):
    from tests.secondments.conftest import SONGYA, days

    base = {"organ": {"name": "星沙街道办事处", "level": "street"}, "form": "secondment",
            "home_community_code": SONGYA, "workers": ["W21001001-02"], "purpose": "街道人口普查数据核对",
            "start_date": days(10).isoformat(), "end_date": days(100).isoformat(), "worker_consent": True,
            "community_consent": True}
    street = as_client("xingsha-office")
    for change, name in (({"end_date": "9999-12-31"}, "end_date"), ({"purpose": "\u200b "}, "purpose")):
        r = await client.post("/api/v1/secondment-requests", headers=street, json={**base, **change})
        assert r.status_code == 422, r.text
        assert _names(r) == [name]
