"""Bad input that used to give 500s (or leak PostgreSQL's text): each answers a 4xx problem, audited."""

from __future__ import annotations

import base64
import logging

from tests.helpers.web import sign_in

PROBLEM = "application/problem+json"


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_json_nested_ten_thousand_levels_deep_is_a_400_problem(client, as_client):
    deep = b"[" * 10_000 + b"]" * 10_000
    r = await client.post("/api/v1/calendar/days", headers={
        **as_client("province-admin"), "content-type": "application/json"}, content=deep)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith("/malformed-body")


async def test_working_days_from_the_end_of_the_calendar_is_refused_naming_start(client):
    r = await client.get("/api/v1/calendar/working-days?start=9999-12-20&n=500")
    assert r.status_code == 422, r.text
    assert [p["name"] for p in r.json()["invalid_params"]] == ["start"]


async def test_audit_cursor_holding_huge_integers_is_a_malformed_cursor(client, as_client):
    headers = as_client("county-supervisor")
    for raw in (b'["n",99999999999999999999999,1]', b'["n",9223372036854775807,1]',
                b'["n",1,99999999999999999999]'):
        r = await client.get("/api/v1/audit/events?cursor=" + _cursor(raw), headers=headers)
        assert r.status_code == 422, (raw, r.text)
        assert [p["name"] for p in r.json()["invalid_params"]] == ["cursor"]


async def test_audit_export_refuses_instants_beyond_the_calendar_before_the_first_byte(client, as_client):
    headers = as_client("county-supervisor")
    for query, name in (("since=0001-01-01T00:00:00%2B14:00", "since"), ("until=9999-12-31T23:59:59-12:00", "until")):
        for fmt in ("csv", "jsonl"):
            r = await client.get(f"/api/v1/audit/export?format={fmt}&{query}", headers=headers)
            assert r.status_code == 422, (query, r.text)
            assert r.headers["content-type"].startswith(PROBLEM)
            assert [p["name"] for p in r.json()["invalid_params"]] == [name]


async def test_a_nul_byte_in_a_filter_is_refused_before_any_query_and_audited(client, as_client, db):
    r = await client.get("/api/v1/audit/export?format=csv&action=%00", headers=as_client("county-supervisor"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert [p["name"] for p in body["invalid_params"]] == ["action"]
    assert "UTF8" not in r.text
    assert "encoding" not in r.text
    event = await db.fetchrow("select outcome, status_code, actor_type from audit_event where request_id = $1",
                              r.headers["x-request-id"])
    assert (event["outcome"], event["status_code"], event["actor_type"]) == ("refused", 422, "client")


async def test_a_nul_byte_in_a_path_is_refused_with_a_generic_detail_and_audited(client, db):
    r = await client.get("/api/v1/jurisdictions/%00")
    assert r.status_code == 422, r.text
    assert "UTF8" not in r.text
    assert "0x00" not in r.text
    assert [p["name"] for p in r.json()["invalid_params"]] == ["path"]
    recorded = await db.fetchval("select detail->>'path' from audit_event where request_id = $1",
                                 r.headers["x-request-id"])
    assert recorded == "/api/v1/jurisdictions/\\u0000"


async def test_an_integer_beyond_bigint_in_a_path_is_refused_without_the_drivers_text(client, as_client):
    r = await client.delete("/api/v1/calendar/days/99999999999999999999", headers=as_client("province-admin"))
    assert r.status_code == 422, r.text
    assert "int64" not in r.text
    assert "query argument" not in r.text


async def test_an_integer_beyond_bigint_in_a_filter_is_refused(client):
    r = await client.get("/api/v1/audit/proofs/inclusion?index=99999999999999999999&tree_size=1")
    assert r.status_code == 422, r.text
    assert [p["name"] for p in r.json()["invalid_params"]] == ["index"]


async def test_a_value_the_database_refuses_is_422_without_postgresqls_text(client, as_client):
    # a NUL inside a JSON string reaches PostgreSQL, which refuses it: the caller sees a generic detail
    r = await client.post("/api/v1/calendar/days", headers=as_client("province-admin"), json={
        "day": "2031-05-06", "kind": "holiday", "name": "假\u0000日", "county_code": "430121"})
    assert r.status_code == 422, r.text
    assert "UTF8" not in r.text
    assert "0x00" not in r.text


async def test_bad_filters_on_the_audit_routes_leave_no_transaction_open(client, as_client, caplog):
    caplog.set_level(logging.WARNING, logger="asyncio")
    headers = as_client("county-supervisor")
    for query in ("outcome=bad", "since=garbage", "subject_id=1", "actor_type=user&since=x") * 3:
        r = await client.get("/api/v1/audit/events?" + query, headers=headers)
        assert r.status_code in (400, 422), r.text
    # asyncpg's pool says so when a connection comes back inside a transaction (12 times here before)
    assert not [rec for rec in caplog.records if "active transaction" in rec.getMessage()]
    assert (await client.get("/api/v1/audit/events", headers=headers)).status_code == 200


async def test_an_invalid_date_in_a_page_query_answers_an_html_page_in_chinese(client, demo):
    await sign_in(client, "supervisor", demo.users["supervisor"])
    for url in ("/ui/audit?since=2026-02-30", "/ui/inbox?since=2026-02-30", "/ui/lists/430121?as_of=2026-13-45",
                "/ui/lists/430121?kind=bad", "/ui/audit/export.csv?until=2026-02-30"):
        r = await client.get(url)
        assert r.status_code == 422, (url, r.text[:300])
        assert r.headers["content-type"].startswith("text/html"), url
        assert '<html lang="zh-CN">' in r.text
        assert "<title>输入有误" in r.text
        assert 'href="/"' in r.text  # a way back


async def test_an_unknown_ui_address_answers_an_html_404_page(client, demo):
    for signed_in in (False, True):
        if signed_in:
            await sign_in(client, "supervisor", demo.users["supervisor"])
        r = await client.get("/ui/no-such-page")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert "<h1>未找到</h1>" in r.text
        assert "您要找的页面不存在" in r.text


def _requests_counted(metrics: str, path: str, status: int) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("matter_registry_requests_total{") and f'path="{path}"' in line
               and f'status_code="{status}"' in line)


async def test_the_access_log_and_metrics_record_the_401_actually_sent(client, caplog):
    caplog.set_level(logging.INFO, logger="matter_registry.access")
    before = _requests_counted((await client.get("/metrics")).text, "/api/v1/me", 401)
    r = await client.get("/api/v1/me", headers={"Authorization": "Bearer mr_no-such-token"})
    assert r.status_code == 401
    logged = [rec.status for rec in caplog.records if rec.name == "matter_registry.access"
              and getattr(rec, "request_id", None) == r.headers["x-request-id"]]
    assert logged == [401]
    after = _requests_counted((await client.get("/metrics")).text, "/api/v1/me", 401)
    assert after == before + 1
