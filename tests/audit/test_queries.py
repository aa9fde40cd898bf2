"""Querying the audit log: combinable filters, keyset pages, a supervisor's jurisdiction, bad input."""

from __future__ import annotations

import datetime as dt

from tests.audit.conftest import add_events

EVENTS = "/api/v1/audit/events"


async def _seed(db) -> dict[str, list[int]]:
    return {
        "inside": await add_events(db, 3, action="test.inside", jurisdiction="430121001001", role="department",
                                   actor_type="client", actor_id="77"),
        "street": await add_events(db, 2, action="test.inside", jurisdiction="430121002", outcome="denied"),
        "other": await add_events(db, 2, action="test.inside", jurisdiction="430112001"),
        "nowhere": await add_events(db, 2, action="test.inside"),
    }


async def test_a_county_supervisor_sees_only_its_subtree(client, as_client, db):
    seeded = await _seed(db)
    r = await client.get(EVENTS, params={"action": "test.inside", "limit": 100},
                         headers=as_client("county-supervisor"))
    assert r.status_code == 200, r.text
    ids = {e["id"] for e in r.json()["items"]}
    assert ids == set(seeded["inside"] + seeded["street"])
    # naming a jurisdiction outside its own is refused, not silently emptied
    r = await client.get(EVENTS, params={"jurisdiction": "430112"}, headers=as_client("county-supervisor"))
    assert r.status_code == 403
    # a department holds no audit permission at all
    assert (await client.get(EVENTS, headers=as_client("civil-affairs"))).status_code == 403
    assert (await client.get(EVENTS)).status_code == 401


async def test_events_without_jurisdiction_are_shown_only_at_the_root(client, root_auditor, as_client, db):
    seeded = await _seed(db)
    r = await client.get(EVENTS, params={"action": "test.inside", "limit": 100}, headers=root_auditor)
    assert {e["id"] for e in r.json()["items"]} == {i for v in seeded.values() for i in v}


async def test_filters_combine(client, root_auditor, db):
    seeded = await _seed(db)
    h = root_auditor
    q = {"action": "test.inside", "jurisdiction": "430121", "outcome": "denied"}
    assert {e["id"] for e in (await client.get(EVENTS, params=q, headers=h)).json()["items"]} == set(seeded["street"])
    q = {"actor_type": "client", "actor_id": "77", "role": "department"}
    assert {e["id"] for e in (await client.get(EVENTS, params=q, headers=h)).json()["items"]} == set(seeded["inside"])
    q = {"subject_type": "thing", "subject_id": "1", "jurisdiction": "430121001001"}
    got = (await client.get(EVENTS, params=q, headers=h)).json()["items"]
    assert [e["id"] for e in got] == [seeded["inside"][1]]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    r = await client.get(EVENTS, params={"action": "test.inside", "since": future}, headers=h)
    assert r.json()["items"] == []
    got = (await client.get(EVENTS, params={"action": "test.inside", "since": past, "until": future, "limit": 100},
                            headers=h)).json()["items"]
    assert len(got) == 9


async def test_keyset_pages_cover_every_event_once_in_both_orders(client, root_auditor, db):
    ids = await add_events(db, 7, action="test.paged")
    for order, expected in (("newest", ids[::-1]), ("oldest", ids)):
        seen, cursor = [], None
        while True:
            params = {"action": "test.paged", "limit": 3, "order": order, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(EVENTS, params=params, headers=root_auditor)).json()
            seen += [e["id"] for e in page["items"]]
            # an event appended meanwhile does not disturb the pages already handed out
            await add_events(db, 1, action="test.other")
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == expected


async def test_bad_query_input_is_a_problem_naming_the_parameter(client, root_auditor):
    cases = [({"cursor": "not-a-cursor"}, "cursor"), ({"since": "yesterday"}, "since"),
             ({"outcome": "maybe"}, "outcome"),
             ({"limit": "lots"}, "limit"), ({"jurisdiction": "99999999"}, "jurisdiction"),
             ({"subject_id": "5"}, "subject_id")]
    for params, name in cases:
        r = await client.get(EVENTS, params=params, headers=root_auditor)
        assert r.status_code in (400, 422), (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert name in [p["name"] for p in r.json()["invalid_params"]], r.json()
    # a cursor from the other order is refused too
    page = (await client.get(EVENTS, params={"limit": 1}, headers=root_auditor)).json()
    r = await client.get(EVENTS, params={"cursor": page["next_cursor"], "order": "oldest"}, headers=root_auditor)
    assert r.status_code == 422
    assert r.json()["invalid_params"][0]["name"] == "cursor"


async def test_each_filter_is_served_by_an_index_in_keyset_order(db):
    # fresh statistics, so the plan does not depend on whether autovacuum has analysed the table yet
    await db.execute("analyze audit_event")
    # a tiny table: ask what the planner could use to read a page in keyset order without sorting
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        await db.execute(f"set {setting} = off")
    shapes = {
        "audit_event_action_t": "action = 'x'",
        "audit_event_actor_t": "actor_type = 'client' and actor_id = '1'",
        "audit_event_role_t": "role = 'x'",
        "audit_event_subject_t": "subject_type = 'x' and subject_id = 'y'",
        "audit_event_outcome_t": "outcome = 'failed'",  # a selective value ('ok' is nearly every row)
        "audit_event_county_t": "split_part(jurisdiction_path, '/', 5) = '430121'",
        "audit_event_street_t": "split_part(jurisdiction_path, '/', 6) = '430121001'",
        "audit_event_code_t": "jurisdiction_code = '430121001001'",
    }
    for index, where in shapes.items():
        plan = "\n".join(r[0] for r in await db.fetch(
            f"explain select * from audit_event e where {where} and occurred_at >= now() - interval '1 day' "
            "order by occurred_at desc, id desc limit 50"))
        assert index in plan, plan
        assert "Sort" not in plan.split(index)[0], plan
