"""The lists: adjustment with effective dates, the append-only log, releases, differences, import/export."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io

import asyncpg
import msgspec
import pytest

from service.core.clock import today

COUNTY = "430121"
COMMUNITY = "430121001001"
ITEM = {"kind": "task", "list": "assisting", "code": "430121-A-100", "title": "协助开展老年人助餐服务登记",
        "content": "协助县民政局登记有助餐需求的老年人", "basis": "《长沙县老年助餐服务实施方案》",
        "department": "长沙县民政局", "department_level": "county", "funding_yuan": 50000,
        "funding_source": "县财政", "frequency": "monthly"}


def days(n: int) -> str:
    return (today() + datetime.timedelta(days=n)).isoformat()


async def add(client, headers, item=ITEM, when=None, scope=COUNTY):
    return await client.post(f"/api/v1/registry/scopes/{scope}/items", headers=headers,
                             json={"item": item, "effective_from": when or days(0), "reason": "经准入审核同意"})


def codes(response) -> set[str]:
    return {i["code"] for i in response.json()["items"]}


async def test_community_list_is_national_template_plus_county_additions(client):
    r = await client.get(f"/api/v1/registry/communities/{COMMUNITY}/items")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["county_code"] == COUNTY
    found = codes(r)
    assert {"T-D-001", "C-X-04", "P-001", "PL-E-01", "430121-A-001"} <= found
    assert sum(1 for i in body["items"] if i["list"] == "cancelled") == 20
    assert body["release"]["name"] == "2025年版"
    # another county does not see Changsha County's own items
    other = await client.get("/api/v1/registry/communities/430112001001/items")
    assert "430121-A-001" not in codes(other)
    assert "T-D-001" in codes(other)


async def test_search_by_kind_list_and_text(client):
    r = await client.get(f"/api/v1/registry/communities/{COMMUNITY}/items",
                         params={"kind": "certificate", "list": "cancelled", "q": "犯罪"})
    assert [i["code"] for i in r.json()["items"]] == ["C-X-04"]


async def test_reviewer_adds_item_and_every_change_is_a_dense_signed_entry(client, as_client, db):
    before = await db.fetchval("select last_number from registry_entry_counter")
    r = await add(client, as_client("county-reviewer-api"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active"
    # a refused change takes no entry number
    bad = await add(client, as_client("county-reviewer-api"))
    assert bad.status_code == 409
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-100/amend",
                          headers=as_client("county-reviewer-api"),
                          json={"changes": {"funding_yuan": 80000}, "effective_from": days(0), "reason": "增加经费"})
    assert r.status_code == 201, r.text
    numbers = [r["entry_number"] for r in await db.fetch("select entry_number from registry_entry order by 1")]
    assert numbers == list(range(1, before + 3))
    row = await db.fetchrow("select * from registry_entry where entry_number = $1", before + 2)
    leaf = bytes(row["leaf"])
    assert hashlib.sha256(leaf).digest() == bytes(row["item_digest"])
    decoded = msgspec.json.decode(leaf)
    assert leaf == msgspec.json.encode(decoded, order="sorted")
    assert decoded["entry-number"] == before + 2
    assert decoded["type"] == "amend"
    assert decoded["item"]["funding_yuan"] == 80000
    audit = await db.fetch("select action from audit_event where subject_id = $1 order by id",
                           f"{COUNTY}/430121-A-100")
    assert [a["action"] for a in audit][:2] == ["registry.add", "registry.amend"]


async def test_the_entry_log_cannot_be_rewritten(db):
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db.execute("update registry_entry set reason = 'x' where entry_number = 1")
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db.execute("delete from registry_entry where entry_number = 1")


async def test_replaying_the_entry_log_rebuilds_every_record(client, db):
    entries = []
    start = 1
    while start:
        page = (await client.get("/api/v1/registry/entries", params={"start": start, "limit": 50})).json()
        entries += page["entries"]
        start = page["next_start"]
    assert [e["entry_number"] for e in entries] == list(range(1, len(entries) + 1))
    rebuilt = {}
    for e in entries:
        assert hashlib.sha256(e["leaf"].encode()).hexdigest() == e["item_digest"]
        rebuilt[(e["scope"], e["code"])] = (e["status"], e["item"])
    records = {(r["scope"], r["code"]): (r["status"], r["item"])
               for r in await db.fetch("select scope, code, status, item from registry_item")}
    assert rebuilt == records


async def test_future_dated_change_takes_effect_on_its_date_by_itself(client, as_client):
    r = await add(client, as_client("county-reviewer-api"), when=days(10))
    assert r.status_code == 201
    now = await client.get(f"/api/v1/registry/counties/{COUNTY}/items")
    later = await client.get(f"/api/v1/registry/counties/{COUNTY}/items", params={"as_of": days(10)})
    assert "430121-A-100" not in codes(now)
    assert "430121-A-100" in codes(later)
    # the demo work group is retired from 2027-01-01 on
    assert "430121-G-001" in codes(await client.get(f"/api/v1/registry/counties/{COUNTY}/items",
                                                    params={"as_of": "2026-12-31"}))
    assert "430121-G-001" not in codes(await client.get(f"/api/v1/registry/counties/{COUNTY}/items",
                                                        params={"as_of": "2027-01-01"}))


async def test_county_excludes_a_template_item_for_itself_only(client, as_client):
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/T-A-005/retire",
                          headers=as_client("county-reviewer-api"),
                          json={"effective_from": days(0), "reason": "由物业服务企业承担"})
    assert r.status_code == 201, r.text
    assert "T-A-005" not in codes(await client.get(f"/api/v1/registry/counties/{COUNTY}/items"))
    assert "T-A-005" in codes(await client.get("/api/v1/registry/counties/430112/items"))


async def test_bad_adjustments_are_422_citing_the_rule_and_write_nothing(client, as_client, db):
    reviewer = as_client("county-reviewer-api")
    before = await db.fetchval("select last_number from registry_entry_counter")
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-001/suspend", headers=reviewer,
                          json={"effective_from": "2020-01-01", "reason": "x"})
    assert r.status_code == 422
    assert r.json()["rule"] == "registry.effective-after-creation"
    r = await add(client, reviewer, item={**ITEM, "expires_on": days(-1)})
    assert r.status_code == 422
    assert r.json()["rule"] == "registry.expiry-after-start"
    retire = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-002/retire", headers=reviewer,
                               json={"effective_from": days(0), "reason": "完成"})
    assert retire.status_code == 201
    after_retire = await db.fetchval("select last_number from registry_entry_counter")
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-002/amend", headers=reviewer,
                          json={"changes": {"title": "新名称"}, "effective_from": days(1), "reason": "x"})
    assert r.status_code == 422
    assert r.json()["rule"] == "registry.retired-is-final"
    # a county may not add what the policy prohibits (whatever its list), nor undo a template prohibition
    r = await add(client, reviewer, item={**ITEM, "code": "430121-X-1", "title": "招商引资任务"})
    assert r.status_code == 422
    assert r.json()["rule"] == "economic.target"
    assert r.json()["invalid_params"][0]["name"] == "item.title"
    assert r.json()["extra"]["findings"][0]["documents"][0]["number"] == "民发〔2015〕136号"
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/P-001/retire", headers=reviewer,
                          json={"effective_from": days(0), "reason": "x"})
    assert r.status_code == 422
    assert r.json()["rule"] == "registry.template-prohibits"
    assert await db.fetchval("select last_number from registry_entry_counter") == after_retire == before + 1
    assert await db.fetchval("select count(*) from registry_entry") == after_retire


async def test_unknown_scope_item_or_community_is_404_naming_it(client, as_client):
    r = await client.get("/api/v1/registry/communities/430121009009/items")
    assert r.status_code == 404
    assert "430121009009" in r.json()["detail"]
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/NOPE-1/suspend",
                          headers=as_client("county-reviewer-api"), json={"effective_from": days(0), "reason": "x"})
    assert r.status_code == 404
    assert "NOPE-1" in r.json()["detail"]


async def test_reviewer_adjusts_only_its_county_and_the_public_only_reads(client, as_client):
    r = await add(client, as_client("county-reviewer-api"), scope="430112")
    assert r.status_code == 403
    r = await add(client, as_client("county-reviewer-api"), scope="national")
    assert r.status_code == 403
    r = await add(client, {}, scope=COUNTY)
    assert r.status_code == 401


async def test_release_is_read_back_exactly_and_differences_are_listed(client, as_client):
    reviewer = as_client("county-reviewer-api")
    assert (await add(client, reviewer)).status_code == 201
    await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-001/amend", headers=reviewer,
                      json={"changes": {"funding_yuan": 25000}, "effective_from": days(0), "reason": "调整经费"})
    r = await client.post(f"/api/v1/registry/counties/{COUNTY}/releases", headers=reviewer, json={
        "name": "2026年版", "release_date": days(0), "issuing_body": "中共长沙县委社会工作部",
        "document_number": "长社工发〔2026〕3号", "approving_government": "长沙县人民政府"})
    assert r.status_code == 201, r.text
    # a change after the release does not alter the release
    await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-100/suspend", headers=reviewer,
                      json={"effective_from": days(0), "reason": "暂停"})
    fixed = await client.get(f"/api/v1/registry/counties/{COUNTY}/items", params={"release": "2026年版"})
    assert "430121-A-100" in codes(fixed)
    old = await client.get(f"/api/v1/registry/counties/{COUNTY}/items", params={"release": "2025年版"})
    assert "430121-A-003" not in codes(old)
    diff = (await client.get(f"/api/v1/registry/counties/{COUNTY}/diff",
                             params={"from_release": "2025年版", "to_release": "2026年版"})).json()
    by_code = {d["code"]: d for d in diff["differences"]}
    assert by_code["430121-A-100"]["change"] == "added"
    assert by_code["430121-A-003"]["change"] == "added"
    assert by_code["430121-A-001"]["fields"] == [{"field": "funding_yuan", "before": 20000, "after": 25000}]
    # dates work as well as releases
    diff = (await client.get(f"/api/v1/registry/counties/{COUNTY}/diff",
                             params={"from_date": days(0), "to_date": "2027-01-01"})).json()
    assert {"code": "430121-G-001", "title": "长沙县社区工作联络群", "change": "removed",
            "fields": []} in diff["differences"]


async def test_import_all_or_nothing_with_line_numbers_and_export_round_trip(client, as_client, db):
    reviewer = as_client("county-reviewer-api")
    good = "kind,list,code,title,basis,applies_to,effective_from,reason\n" \
        f"task,assisting,430121-A-201,协助开展消防安全宣传,《消防法》,urban_community|village,{days(0)},导入\n"
    bad = good + f"task,duty,430121-A-202,,x,,{days(0)},导入\n" + \
        f"task,assisting,430121-A-203,推销商业保险,x,,{days(0)},导入\n"
    before = await db.fetchval("select count(*) from registry_entry")
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/import", headers=reviewer, content=bad.encode())
    assert r.status_code == 422
    rejected = r.json()["extra"]["rejected"]
    assert [x["line"] for x in rejected] == [3, 4]
    assert rejected[1]["rule"] == "economic.target"
    assert "民发〔2015〕136号" in rejected[1]["reason"]
    assert rejected[1]["findings"][0]["span"]["field"] == "item.title"
    assert await db.fetchval("select count(*) from registry_entry") == before
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/import", headers=reviewer, content=bad.encode(),
                          params={"partial": "true"})
    assert r.status_code == 200, r.text
    assert r.json()["loaded"] == 1
    assert len(r.json()["rejected"]) == 2
    exported = await client.get(f"/api/v1/registry/counties/{COUNTY}/export", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    row = next(r for r in rows if r["code"] == "430121-A-201")
    assert row["applies_to"] == "urban_community|village"
    # the export loads again unchanged: nothing new is written
    count = await db.fetchval("select count(*) from registry_entry")
    own = "\n".join([exported.text.splitlines()[0], *[line for line in exported.text.splitlines()
                                                      if line.startswith(COUNTY)]])
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/import", headers=reviewer, content=own.encode())
    assert r.status_code == 200, r.text
    assert r.json()["loaded"] == 0
    assert await db.fetchval("select count(*) from registry_entry") == count
    as_json = await client.get(f"/api/v1/registry/counties/{COUNTY}/export", params={"format": "json"})
    assert "430121-A-201" in {i["code"] for i in as_json.json()["items"]}


async def test_can_my_community_issue_this_certificate(client):
    r = await client.get(f"/api/v1/registry/communities/{COMMUNITY}/certificates", params={"q": "无犯罪记录证明"})
    body = r.json()
    assert body["found"]
    assert not body["may_issue"]
    assert body["list"] == "cancelled"
    assert body["issued_instead_by"] == "公安机关"
    assert body["basis_number"] == "民发〔2020〕20号"
    r = await client.get(f"/api/v1/registry/communities/{COMMUNITY}/certificates", params={"q": "居住证明"})
    assert r.json()["may_issue"] is True


async def test_duty_page_is_public_chinese_and_searchable(client):
    r = await client.get(f"/duty/{COMMUNITY}", params={"q": "调解"})
    assert r.status_code == 200
    assert "松雅社区" in r.text
    assert "调解民间纠纷" in r.text
    assert "2025年版" in r.text
    assert "召集居民会议" not in r.text
    assert "<script" not in r.text
    assert "style=" not in r.text
    en = await client.get(f"/duty/{COMMUNITY}", headers={"Accept-Language": "en"})
    assert "Community duty list" in en.text


async def test_admission_functions_add_retire_and_find_similar_items(db):
    from service.core.audit import SYSTEM
    from service.core.errors import ValidationFailed
    from service.registry import service
    from service.registry.schemas import ItemCreate

    async with db.transaction():
        admitted = await service.admit_item(
            db, actor=SYSTEM, county_code=COUNTY, item=ItemCreate(**ITEM), effective_from=today(),
            reason="准入申请已批准", source_ref="admission_request:42")
        assert admitted.status == "active"
        entry = await db.fetchrow("select entry_type, source_ref from registry_entry where entry_number = $1",
                                  admitted.entry_number)
        assert tuple(entry) == ("add", "admission_request:42")
        with pytest.raises(ValidationFailed) as refused:
            await service.admit_item(db, actor=SYSTEM, county_code=COUNTY, item=ItemCreate(
                kind="task", list="assisting", code="430121-Z-1", title="推销商业保险"), effective_from=today(),
                reason="x", source_ref="admission_request:43")
        assert refused.value.rule == "economic.target"
        similar = await service.similar_items(db, county_code=COUNTY, title="老年人助餐服务登记", content="")
        assert similar[0].code == "430121-A-100"
        assert 0 < similar[0].similarity <= 1
        retired = await service.retire_item(db, actor=SYSTEM, county_code=COUNTY, code="430121-A-100",
                                            effective_from=today(), reason="居民普遍反对",
                                            source_ref="admission_request:42")
        assert retired.status == "retired"


async def test_the_duplicate_search_in_memory_gives_what_postgresql_gives(db):
    """service/registry/similar.py against the SQL reference, on every demo county and many texts.

    They may differ only where pg_trgm itself is inexact: it stores a trigram of multibyte characters
    as a 24-bit CRC, so two different Chinese trigrams now and then count as one shared."""
    from service.registry import service
    from service.registry.similar import SimilarItems, trigrams

    shared_in_pg = "select cardinality(array(select unnest(show_trgm($1)) intersect select unnest(show_trgm($2))))"
    counties = [r["code"] for r in await db.fetch("select code from jurisdiction where level = 'county'")]
    rows = await db.fetch("select title, content from registry_item where content <> '' order by scope, code")
    asked = [(r["title"], r["content"]) for r in rows[::3]] + [
        (r["title"][: len(r["title"]) // 2] + "社区协助", "") for r in rows[::11]] + [
        ("社区协助开展防汛应急演练 Flood-drill 2026", "每年汛期前协助应急管理部门组织居民开展防汛应急演练。"),
        ("（）", ""), ("", "")]
    finder = SimilarItems()
    compared = explained = 0
    for county in counties:
        scopes = service.template_scopes(county)
        for title, content in asked:
            expected = {(i.scope, i.code): i.similarity for i in
                        await service.similar_items(db, county_code=county, title=title, content=content, limit=999)}
            found = {(i.scope, i.code): i.similarity for i in
                     await finder.find(db, scopes=scopes, title=title, content=content, limit=999)}
            compared += len(expected)
            for scope, code in expected.keys() | found.keys():
                if expected.get((scope, code)) == found.get((scope, code)):
                    continue
                item = await db.fetchrow("select title, content from registry_item where scope = $1 and code = $2",
                                         scope, code)
                pairs = [(item["title"], title), (item["content"], content or title)]
                in_pg = [await db.fetchval(shared_in_pg, a, b) for a, b in pairs]
                exact = [len(trigrams(a) & trigrams(b)) for a, b in pairs]
                assert all(p >= e for p, e in zip(in_pg, exact, strict=True)), (county, title, code)
                assert in_pg != exact, (county, title, code)
                explained += 1
    assert compared > 500
    assert explained <= compared // 100


async def test_a_template_list_is_read_and_exported_on_its_own(client):
    r = await client.get("/api/v1/registry/scopes/national/items", params={"list": "cancelled"})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 20
    exported = await client.get("/api/v1/registry/scopes/national/export", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert {"P-001", "C-X-20", "PL-E-01", "T-D-001"} <= {row["code"] for row in rows}
    own = await client.get(f"/api/v1/registry/scopes/{COUNTY}/items")
    assert all(i["scope"] == COUNTY for i in own.json()["items"])
    assert (await client.get("/api/v1/registry/scopes/99/items")).status_code == 404


async def test_concurrent_changes_get_dense_entry_numbers(client, as_client, db):
    import asyncio

    reviewer = as_client("county-reviewer-api")
    before = await db.fetchval("select last_number from registry_entry_counter")
    items = [{**ITEM, "code": f"430121-C-{n:02d}", "title": f"并发测试事项{n}号"} for n in range(12)]
    # two of them collide on a code: one is refused (409) and must leave no gap
    items.append({**ITEM, "code": "430121-C-00", "title": "并发测试事项重复"})
    answers = await asyncio.gather(*[add(client, reviewer, item=i) for i in items])
    assert sorted(r.status_code for r in answers) == [201] * 12 + [409]
    numbers = [r["entry_number"] for r in await db.fetch(
        "select entry_number from registry_entry where entry_number > $1 order by 1", before)]
    assert numbers == list(range(before + 1, before + 13))
