"""CSV exports cannot carry a formula into a spreadsheet; the client address is the proxy's word only
when the proxy is trusted; an anonymous complainant's address is kept only as a keyed hash."""

from __future__ import annotations

import csv
import io

from service.core.audit import SYSTEM, record
from service.core.exports import safe_cell
from service.core.network import parse_networks, resolve
from tests.conftest import make_settings

BANCANG = "430121001003"
COMPLAINT = {"jurisdiction_code": "430121002001", "department": "长沙县商务局", "subject_kind": "task",
             "matter": "招商引资任务", "description": "要求社区每季度完成招商引资签约额。"}


def test_cells_that_start_a_formula_are_written_as_text():
    for raw in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(raw) == "'" + raw
    assert safe_cell("星沙街道") == "星沙街道"
    assert safe_cell(-5) == -5


async def test_the_roster_export_neutralises_a_formula_in_a_name(client, as_client, db):
    await db.execute("update community_worker set display_name = '=HYPERLINK(\"http://x\")' "
                     "where id = (select min(id) from community_worker where community_code = $1)", BANCANG)
    r = await client.get(f"/api/v1/community-workers/export?jurisdiction={BANCANG}",
                         headers=as_client("province-admin"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    names = [row["display_name"] for row in csv.DictReader(io.StringIO(r.text))]
    assert "'=HYPERLINK(\"http://x\")" in names
    assert not any(n.startswith("=") for n in names)


async def test_the_audit_csv_export_neutralises_a_formula_in_a_cell(client, as_client, db):
    # a subject id is whatever a caller typed (a username, a reference): it may start a formula
    await record(db, actor=SYSTEM, action="test.formula", subject_type="web_user", subject_id="=cmd|'/c calc'!A1",
                 jurisdiction="430121")
    r = await client.get("/api/v1/audit/export?format=csv&action=test.formula", headers=as_client("county-supervisor"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    subjects = [row["subject_id"] for row in rows]
    assert "'=cmd|'/c calc'!A1" in subjects
    assert not any(s.startswith("=") for s in subjects)


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    trusted = parse_networks(("10.0.0.0/8",))
    assert resolve("10.0.0.5", ["203.0.113.9"], trusted) == "203.0.113.9"
    # the client's own forged first hop is skipped: the right-most untrusted hop is the client
    assert resolve("10.0.0.5", ["1.2.3.4, 203.0.113.9"], trusted) == "203.0.113.9"
    assert resolve("10.0.0.5", ["203.0.113.9, 10.0.0.7"], trusted) == "203.0.113.9"
    # anyone else's header is ignored
    assert resolve("198.51.100.1", ["203.0.113.9"], trusted) == "198.51.100.1"
    assert resolve("198.51.100.1", ["203.0.113.9"], ()) == "198.51.100.1"


def test_trusted_proxies_are_read_from_the_environment_and_checked(tmp_path):
    import pytest

    env_settings = make_settings(None, tmp_path)
    assert env_settings.trusted_proxies == ()
    from service.core.settings import load_settings
    base = {"MR_DATA_DIR": str(tmp_path), "MR_SECRET_KEY": "s", "MR_TOKEN_PEPPER": "p"}
    assert load_settings({**base, "MR_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}).trusted_proxies == (
        "10.0.0.0/8", "127.0.0.1")
    with pytest.raises(ValueError, match="MR_TRUSTED_PROXIES"):
        load_settings({**base, "MR_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"})


async def test_a_forged_forwarded_for_does_not_change_the_audited_address(client, db):
    r = await client.get("/api/v1/me", headers={"Authorization": "Bearer mr_nope", "X-Forwarded-For": "203.0.113.77"})
    assert r.status_code == 401
    addr = await db.fetchval("select client_addr from audit_event where request_id = $1", r.headers["x-request-id"])
    assert addr is not None
    assert addr != "203.0.113.77"


async def test_a_refused_anonymous_complaint_is_audited_with_the_keyed_hash_only(client, db):
    from service.complaints.service import COMPLAINTS_PER_HOUR

    for _ in range(COMPLAINTS_PER_HOUR):
        assert (await client.post("/api/v1/complaints", json=COMPLAINT)).status_code == 201
    r = await client.post("/api/v1/complaints", json=COMPLAINT)
    assert r.status_code == 429
    addr = await db.fetchval("select client_addr from audit_event where request_id = $1", r.headers["x-request-id"])
    assert addr is not None
    assert addr.startswith("hmac:")
    assert "testclient" not in addr
    assert "127.0.0.1" not in addr
    assert await db.fetchval("select count(*) from audit_event where client_addr in ('testclient', '127.0.0.1') "
                             "and action like '%omplaint%'") == 0
