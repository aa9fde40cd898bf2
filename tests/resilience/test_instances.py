"""Several `matter-registry serve` processes on one PostgreSQL behave as one service.

What one instance changes reaches the others only through the database (LISTEN/NOTIFY and re-reads):
a list change, a role change and an admission decision are applied by every other instance within a
second; idempotency keys, the concurrency control of decisions and the audit log hold across them.
(tests/core/test_propagation.py and tests/registry/test_checks.py prove the same for two apps inside
one test process; these use real server processes.)
"""

from __future__ import annotations

import asyncio

import httpx

from service.audit import merkle
from service.registry.service import today
from tests.admission.conftest import submission
from tests.resilience.conftest import audit_verifies, eventually

COUNTY = "430121"
COMMUNITY = "430121001001"
REQUESTS = "/api/v1/admission-requests"


def check_body(code: str) -> dict[str, object]:
    return {"community_code": COMMUNITY, "matter": {"code": code}, "role": "assisting"}


async def test_a_list_change_a_role_change_and_a_decision_through_one_instance_apply_on_every_other_within_a_second(
    start_instances, as_client, db
):
    a, b, c = await start_instances(3)
    department, reviewer, admin = as_client("civil-affairs"), as_client("county-reviewer-api"), \
        as_client("province-admin")
    async with httpx.AsyncClient(base_url=a.base, timeout=10) as on_a, \
            httpx.AsyncClient(base_url=b.base, timeout=10) as on_b, \
            httpx.AsyncClient(base_url=c.base, timeout=10) as on_c:
        others = (on_b, on_c)

        # ---- a list change: an item of the county's list suspended through A ----
        for other in others:  # the item is loaded and admitted in every other instance's memory first
            r = await other.post("/api/v1/checks", headers=department, json=check_body("430121-A-001"))
            assert r.json()["citation"]["rule"] == "registry.admitted", r.text
        r = await on_a.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-001/suspend", headers=reviewer,
                            json={"effective_from": today().isoformat(), "reason": "暂停执行"})
        assert r.status_code == 201, r.text

        for other in others:
            async def suspended(other: httpx.AsyncClient = other) -> bool:
                r = await other.post("/api/v1/checks", headers=department, json=check_body("430121-A-001"))
                return bool(r.json()["citation"]["rule"] == "registry.suspended")

            async def listed_as_suspended(other: httpx.AsyncClient = other) -> bool:
                items = (await other.get(f"/api/v1/registry/counties/{COUNTY}/items")).json()["items"]
                return not any(i["code"] == "430121-A-001" and i["status"] == "active" for i in items)

            await eventually(suspended, within=1.0)
            await eventually(listed_as_suspended, within=1.0)

        # ---- a role change: supervisor at the county granted, then revoked, through A ----
        events = "/api/v1/audit/events"
        bureau = as_client("housing-bureau")
        for other in others:
            assert (await other.get(events, params={"jurisdiction": COUNTY}, headers=bureau)).status_code == 403
        bureau_id = await db.fetchval("select id from api_client where name = 'housing-bureau'")
        r = await on_a.post("/api/v1/role-assignments", headers=admin, json={
            "principal_type": "client", "principal_id": bureau_id, "role": "supervisor",
            "jurisdiction_code": COUNTY})
        assert r.status_code == 201, r.text
        assignment = r.json()["id"]
        for other in others:
            async def reads(other: httpx.AsyncClient = other) -> bool:
                return (await other.get(events, params={"jurisdiction": COUNTY}, headers=bureau)).status_code == 200

            await eventually(reads, within=1.0)
        r = await on_a.post(f"/api/v1/role-assignments/{assignment}/revoke", headers=admin)
        assert r.status_code == 200, r.text
        for other in others:
            async def refused(other: httpx.AsyncClient = other) -> bool:
                return (await other.get(events, params={"jurisdiction": COUNTY}, headers=bureau)).status_code == 403

            await eventually(refused, within=1.0)

        # ---- an admission decision through A: the approved matter enters the list every instance checks ----
        code = "430121-A-901"
        r = await on_a.post(REQUESTS, headers=department, json=submission(item_code=code))
        assert r.status_code == 201, r.text
        request_id = r.json()["id"]
        assert (await on_a.post(f"{REQUESTS}/{request_id}/start-review", headers=reviewer)).status_code == 200
        for other in others:  # not on the list yet: the check is 404 for an unknown code
            assert (await other.post("/api/v1/checks", headers=department, json=check_body(code))).status_code == 404
        r = await on_a.post(f"{REQUESTS}/{request_id}/decision", headers=reviewer,
                            json={"outcome": "approved", "reason": "符合准入条件"})
        assert r.status_code == 200, r.text
        for other in others:
            async def admitted(other: httpx.AsyncClient = other) -> bool:
                r = await other.post("/api/v1/checks", headers=department, json=check_body(code))
                return r.status_code == 200 and r.json()["allowed"] is True

            await eventually(admitted, within=1.0)
            r = await other.get(f"{REQUESTS}/{request_id}", headers=department)
            assert r.json()["status"] == "approved"


async def test_idempotency_keys_decisions_and_the_audit_log_hold_across_instances(start_instances, as_client, db):
    a, b = await start_instances(2)
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    async with httpx.AsyncClient(base_url=a.base, timeout=20) as on_a, \
            httpx.AsyncClient(base_url=b.base, timeout=20) as on_b:
        async def signed_head() -> list[dict[str, object]]:
            items: list[dict[str, object]] = (await on_a.get("/api/v1/audit/checkpoints")).json()["items"]
            return items

        await eventually(signed_head, within=10, every=0.2)  # the instances' sequencer signs the demo's events
        first_checkpoint = (await signed_head())[-1]

        # ---- the same Idempotency-Key sent to A and B at once: one request, the same answer ----
        titles = []
        for n in range(4):
            body = submission()
            titles.append(body["title"])
            headers = {**department, "Idempotency-Key": f"multi-{n}"}
            ra, rb = await asyncio.gather(on_a.post(REQUESTS, headers=headers, json=body),
                                          on_b.post(REQUESTS, headers=headers, json=body))
            assert (ra.status_code, rb.status_code) == (201, 201), (ra.text, rb.text)
            assert ra.json() == rb.json()
            assert [r.headers.get("idempotent-replayed") for r in (ra, rb)].count("true") == 1
        counts = await db.fetch("select title, count(*) from admission_request where title = any($1) group by title",
                                titles)
        assert sorted(c for _, c in counts) == [1] * 4

        # ---- two decisions on one request sent at once to A and B: exactly one stands, the other is 409 ----
        outcomes = {"approved": {"outcome": "approved", "reason": "同意"},
                    "rejected": {"outcome": "rejected", "reason": "不属于社区职责"}}
        losers: list[str] = []
        for n in range(4):
            r = await on_a.post(REQUESTS, headers=department, json=submission(item_code=f"430121-A-95{n}"))
            request_id = r.json()["id"]
            on = on_a if n % 2 else on_b
            assert (await on.post(f"{REQUESTS}/{request_id}/start-review", headers=reviewer)).status_code == 200
            ra, rb = await asyncio.gather(
                on_a.post(f"{REQUESTS}/{request_id}/decision", headers=reviewer, json=outcomes["approved"]),
                on_b.post(f"{REQUESTS}/{request_id}/decision", headers=reviewer, json=outcomes["rejected"]))
            assert sorted([ra.status_code, rb.status_code]) == [200, 409], (ra.text, rb.text)
            winner, loser = (ra, rb) if ra.status_code == 200 else (rb, ra)
            assert loser.headers["content-type"].startswith("application/problem+json")
            losers.append(loser.headers["x-request-id"])
            stored = await db.fetchrow("select status, decided_by from admission_request where id = $1", request_id)
            assert stored["status"] == winner.json()["status"]
            decisions = await db.fetchval("select count(*) from admission_transition where request_id = $1 and "
                                          "to_status in ('approved', 'rejected')", request_id)
            assert decisions == 1
            # the approved item is on the list once, or not at all
            listed = await db.fetchval("select count(*) from registry_item where scope = $1 and code = $2",
                                       COUNTY, f"430121-A-95{n}")
            assert listed == (1 if winner.json()["status"] == "approved" else 0)

        # ---- the audit log written by both verifies, and both serve the same signed head ----
        audit_verifies(a.env)
        heads = [(await on.get("/api/v1/audit/checkpoint")).json() for on in (on_a, on_b)]
        assert heads[0] == heads[1]
        latest = heads[0]
        # each refused decision is in the log too (written on its own connection by the instance that refused)
        assert await db.fetchval("select count(*) from audit_event where request_id = any($1)", losers) == len(losers)
        # the head signed before all this is a prefix of the head after it, whichever instance signed each
        old = first_checkpoint
        r = await on_b.get("/api/v1/audit/proofs/consistency",
                           params={"first": old["tree_size"], "second": latest["tree_size"]})
        assert r.status_code == 200, r.text
        assert latest["tree_size"] > old["tree_size"]
        assert merkle.verify_consistency(old["tree_size"], latest["tree_size"], bytes.fromhex(old["root_hash"]),
                                         bytes.fromhex(latest["root_hash"]),
                                         [bytes.fromhex(h) for h in r.json()["consistency_path"]])
