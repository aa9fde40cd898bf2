"""The working-day calendar and a county's own figures, through the API, and their effect on deadlines."""

from __future__ import annotations

import datetime

from service.admission.service import today
from service.calendar import workdays
from tests.admission.conftest import settle, submit


def _next_weekday(after: datetime.date) -> datetime.date:
    day = after + datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


async def test_the_2026_national_holidays_are_seeded_and_labelled_to_be_checked(client):
    days = (await client.get("/api/v1/calendar/days", params={"year": 2026})).json()
    spring = [d for d in days if d["name"].startswith("春节") and d["kind"] == "holiday"]
    assert len(spring) == 9
    assert all("待核对" in d["name"] for d in days)


async def test_a_county_holiday_added_by_its_reviewer_moves_the_decision_deadline(client, as_client, db):
    reviewer = as_client("county-reviewer-api")
    before = await submit(client, as_client("civil-affairs"))
    holiday = _next_weekday(today())
    r = await client.post("/api/v1/calendar/days", headers=reviewer, json={
        "day": holiday.isoformat(), "kind": "holiday", "name": "县级临时休假", "county_code": "430121"})
    assert r.status_code == 201, r.text
    await settle()
    after = await submit(client, as_client("civil-affairs"))
    due_before = datetime.date.fromisoformat(before["decision_due"])
    due_after = datetime.date.fromisoformat(after["decision_due"])
    assert due_after > due_before
    calendar = await workdays.load(db, county_code="430121", start=today(), end=today() + datetime.timedelta(days=60))
    assert calendar.working_days_between(today(), due_after) == 15
    # a national day needs the national level; the other county's reviewer may not touch this county
    r = await client.post("/api/v1/calendar/days", headers=reviewer, json={
        "day": holiday.isoformat(), "kind": "holiday", "name": "x"})
    assert r.status_code == 403
    r = await client.post("/api/v1/calendar/days", headers=as_client("wangcheng-civil"), json={
        "day": holiday.isoformat(), "kind": "holiday", "name": "x", "county_code": "430121"})
    assert r.status_code == 403


async def test_county_settings_change_the_reviewing_body_and_notice_period(client, as_client):
    admin = as_client("province-admin")
    r = await client.patch("/api/v1/counties/430121/settings", headers=admin,
                           json={"reviewing_body": "县社区工作事项准入联席会议", "notice_working_days": 200})
    assert r.status_code == 200, r.text
    assert r.json()["overridden"] == ["notice_working_days", "reviewing_body"]
    assert r.json()["defaults"]["notice_working_days"] == 30
    await settle()
    answer = await submit(client, as_client("civil-affairs"))
    assert answer["reviewing_body"] == "县社区工作事项准入联席会议"
    assert {f["rule"] for f in answer["screening"]["findings"]} == {"admission.notice-period"}
    r = await client.patch("/api/v1/counties/430121/settings", headers=admin, json={"no_such_setting": 1})
    assert r.status_code == 422
    r = await client.patch("/api/v1/counties/430121/settings", headers=as_client("county-reviewer-api"),
                           json={"decision_working_days": 1})
    assert r.status_code == 403
    r = await client.get("/api/v1/counties/430121/settings", headers=as_client("county-reviewer-api"))
    assert r.json()["settings"]["reviewing_body"] == "县社区工作事项准入联席会议"


def test_working_days_between_counts_as_a_day_by_day_walk_would():
    """The counting by weeks agrees with walking the days, weekends, holidays and make-up workdays included."""
    import random

    rng = random.Random(2026)
    base = datetime.date(2026, 1, 1)
    for _ in range(300):
        days = [base + datetime.timedelta(days=rng.randrange(400)) for _ in range(rng.randrange(0, 25))]
        holidays = frozenset(days[: len(days) // 2])
        calendar = workdays.Calendar(holidays=holidays, workdays=frozenset(days[len(days) // 2:]) - holidays)
        start = base + datetime.timedelta(days=rng.randrange(400))
        end = start + datetime.timedelta(days=rng.randrange(-60, 200))
        walked = sum(1 for i in range(1, (end - start).days + 1)
                     if calendar.is_working_day(start + datetime.timedelta(days=i)))
        if end < start:
            walked = -sum(1 for i in range(1, (start - end).days + 1)
                          if calendar.is_working_day(end + datetime.timedelta(days=i)))
        assert calendar.working_days_between(start, end) == walked, (start, end)
        assert calendar.working_days_between(start, calendar.add_working_days(start, 30)) == 30
