"""The community-worker roster and staffing against the standard."""

from __future__ import annotations

from datetime import date

from tests.secondments.conftest import BANCANG, SONGYA

ADMIN = "province-admin"


async def test_roster_refuses_anything_that_looks_like_a_national_id_number(client, as_client, db):
    r = await client.post("/api/v1/community-workers", headers=as_client(ADMIN), json={
        "worker_ref": "43012119900101123X", "display_name": "张三 430121199001011234",
        "community_code": SONGYA, "post": "community_staff", "start_date": "2024-01-01"})
    assert r.status_code == 422, r.text
    assert {p["name"] for p in r.json()["invalid_params"]} == {"worker_ref", "display_name"}
    assert await db.fetchval("select count(*) from community_worker where worker_ref like '4301%'") == 0


async def test_worker_added_and_changed_is_audited(client, as_client, db):
    admin = as_client(ADMIN)
    r = await client.post("/api/v1/community-workers", headers=admin, json={
        "worker_ref": "NEW-001", "display_name": "新同事", "community_code": SONGYA,
        "post": "residents_committee", "start_date": "2025-09-01"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_post"
    r = await client.patch("/api/v1/community-workers/NEW-001", headers=admin,
                           json={"status": "left", "left_date": "2026-01-31"})
    assert r.status_code == 200, r.text
    assert r.json()["left_date"] == "2026-01-31"
    actions = [a for (a,) in await db.fetch(
        "select action from audit_event where subject_type = 'community_worker' and "
        "(subject_id = 'NEW-001' or detail->'change'->>'worker_ref' = 'NEW-001') order by id")]
    assert actions == ["community_worker.create", "community_worker.update"]
    # the community reads its roster but may not change it
    r = await client.patch("/api/v1/community-workers/NEW-001", headers=as_client("songya-community"),
                           json={"display_name": "x"})
    assert r.status_code == 403


async def test_csv_import_is_all_or_nothing_with_a_report_per_row_unless_partial(client, as_client, db):
    csv_text = "\n".join([
        "worker_ref,display_name,community_code,post,start_date",
        f"IMP-001,赵一,{SONGYA},community_staff,2025-03-01",
        f"430121199001011234,钱二,{SONGYA},community_staff,2025-03-01",
        "IMP-003,孙三,430121999999,community_staff,2025-03-01",
        f"IMP-004,李四,{SONGYA},cleaner,2025-13-01",
    ])
    headers = {**as_client(ADMIN), "Content-Type": "text/csv"}
    r = await client.post("/api/v1/community-workers/import", headers=headers, content=csv_text.encode())
    assert r.status_code == 422, r.text
    rejected = r.json()["extra"]["rejected"]
    assert [row["line"] for row in rejected] == [3, 4, 5]
    assert "身份证" in rejected[0]["reason"]
    assert "post" in rejected[2]["reason"]
    assert "start_date" in rejected[2]["reason"]
    assert await db.fetchval("select count(*) from community_worker where worker_ref like 'IMP-%'") == 0
    r = await client.post("/api/v1/community-workers/import?partial=true", headers=headers,
                          content=csv_text.encode())
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["committed"], len(report["rejected"])) == (1, True, 3)
    assert await db.fetchval("select count(*) from community_worker where worker_ref like 'IMP-%'") == 1


async def test_export_then_import_updates_only_what_changed(client, as_client, db):
    r = await client.get(f"/api/v1/community-workers/export?jurisdiction={BANCANG}", headers=as_client(ADMIN))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().split("\n")
    assert lines[0] == "worker_ref,display_name,community_code,post,start_date,status,left_date"
    assert len(lines) - 1 == await db.fetchval("select count(*) from community_worker where community_code = $1",
                                               BANCANG)
    fields = lines[1].split(",")
    fields[3] = "residents_committee" if fields[3] != "residents_committee" else "community_staff"
    lines[1] = ",".join(fields)
    r = await client.post("/api/v1/community-workers/import", headers={**as_client(ADMIN), "Content-Type": "text/csv"},
                          content="\n".join(lines).encode())
    assert r.status_code == 200, r.text
    assert (r.json()["updated"], r.json()["unchanged"], r.json()["created"]) == (1, len(lines) - 2, 0)
    assert await db.fetchval("select post from community_worker where worker_ref = $1", fields[0]) == fields[3]


async def test_staffing_counts_workers_present_against_the_county_standard(client, as_client, db):
    r = await client.get("/api/v1/staffing?jurisdiction=430121", headers=as_client("county-supervisor"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert len(report["communities"]) == 12
    by_code = {c["community_code"]: c for c in report["communities"]}
    bancang = by_code[BANCANG]
    assert bancang["required"] == 16  # 18 × 8,420 / 10,000 = 15.2, rounded up
    assert bancang["below_standard"]
    assert bancang["shortfall"] == 16 - bancang["present"]
    songya = by_code[SONGYA]
    assert songya["seconded"] == 1
    assert songya["present"] == songya["in_post"] - 1
    assert report["communities_below_standard"] >= 4
    # the county raises its standard: the shortfall follows
    await db.execute("insert into county_setting (county_code, settings, updated_by) values "
                     "('430121', '{\"workers_per_10k_residents\": 20}', 'test')")
    r = await client.get(f"/api/v1/staffing?jurisdiction={BANCANG}", headers=as_client("county-supervisor"))
    assert r.json()["communities"][0]["required"] == 17


async def test_staffing_history_is_derived_from_roster_and_secondment_dates(client, as_client, db):
    start = await db.fetchval("select start_date from secondment_request where status = 'active' and "
                              "home_community_code = $1", SONGYA)
    first = date(start.year - 1, start.month, 1)
    r = await client.get(f"/api/v1/staffing/{SONGYA}/history?from={first}", headers=as_client("songya-community"))
    assert r.status_code == 200, r.text
    history = r.json()
    assert history["method"].startswith("derived")
    points = history["points"]
    assert points[0]["seconded"] == 0
    assert points[-1]["seconded"] == 1
    assert all(p["present"] == p["in_post"] - p["seconded"] for p in points)
    r = await client.get(f"/api/v1/staffing/{BANCANG}/history", headers=as_client("songya-community"))
    assert r.status_code == 403
