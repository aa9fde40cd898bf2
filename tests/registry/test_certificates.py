"""Certificates: the national list of 民发〔2020〕20号 as published, residents' wording, no cancelled
certificate retained under any name, and query strings sent as raw UTF-8."""

from __future__ import annotations

import json

import pytest

from service.registry.certificates import NATIONAL_CANCELLED
from service.registry.service import today
from tests.admission.conftest import into_review, submission

COUNTY = "430121"
COMMUNITY = "430121001001"
ASK = f"/api/v1/registry/communities/{COMMUNITY}/certificates"
NUMBER = "民发〔2020〕20号"
OFFICIAL = ["亲属关系证明", "居民身份信息证明", "户口登记项目内容变更申请证明", "居民养犬证明", "无犯罪记录证明",
            "社区戒毒社区康复人员情况证明", "人员失踪证明", "婚姻状况证明", "出生证明", "健在证明", "死亡证明",
            "疾病状况证明", "残疾状况证明", "婚育状况证明", "居民就业状况证明", "居民个人档案证明", "居民财产证明",
            "遗产继承权证明", "市场主体住所证明", "证件遗失证明"]


async def ask(client, q: str) -> dict:
    r = await client.get(ASK, params={"q": q})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_national_list_is_the_twenty_official_names_of_the_document():
    assert sorted(c.name for c in NATIONAL_CANCELLED) == sorted(OFFICIAL)
    assert len({c.code for c in NATIONAL_CANCELLED}) == 20


@pytest.mark.parametrize("name", OFFICIAL)
async def test_every_official_name_is_found_as_itself_cancelled_under_the_2020_document(client, name):
    body = await ask(client, name)
    assert body["found"]
    assert not body["may_issue"]
    assert (body["list"], body["title"], body["matched_name"]) == ("cancelled", name, name)
    assert (body["match"], body["confidence"]) == ("exact", 1.0)
    assert body["basis_number"] == NUMBER
    assert NUMBER in body["document"]
    assert "不予出具" in body["answer"]


@pytest.mark.parametrize(("words", "official", "match"), [
    ("开具无犯罪证明", "无犯罪记录证明", "near_name"),
    ("我要开个良民证", "无犯罪记录证明", "near_name"),
    ("帮我开一张没有犯罪记录的证明", "无犯罪记录证明", "near_name"),
    ("無犯罪記錄證明", "无犯罪记录证明", "exact"),
    ("證明一下我還活著", "健在证明", "near_name"),
    ("能不能开个生存证明？", "健在证明", "near_name"),
    ("办单身证明", "婚姻状况证明", "near_name"),
    ("去世证明", "死亡证明", "near_name"),
    ("出生医学证明", "出生证明", "near_name"),
    ("经营场所证明", "市场主体住所证明", "near_name"),
    ("居民无犯罪记录证明", "无犯罪记录证明", "partial"),
])
async def test_residents_wording_finds_the_official_name_and_says_how_sure(client, words, official, match):
    body = await ask(client, words)
    assert body["found"]
    assert not body["may_issue"]
    assert body["matched_name"] == official
    assert body["match"] == match
    assert 0.7 <= body["confidence"] < 1.0 or match == "exact"


async def test_marriage_and_childbearing_is_not_read_as_marital_status(client):
    assert (await ask(client, "婚育状况证明"))["title"] == "婚育状况证明"
    assert (await ask(client, "婚姻状况证明"))["title"] == "婚姻状况证明"


@pytest.mark.parametrize(("name", "instead"), [
    ("无犯罪记录证明", "公安机关"), ("出生证明", "助产医疗机构"), ("死亡证明", "医疗卫生机构"),
    ("死亡证明", "公安机关"), ("残疾状况证明", "残疾人联合会"), ("亲属关系证明", "负责该事项的主管部门"),
])
async def test_the_answer_says_who_issues_instead(client, name, instead):
    body = await ask(client, name)
    assert instead in body["issued_instead_by"]
    assert instead in body["answer"]


async def test_retained_certificates_may_still_be_issued_in_residents_words(client):
    for words in ("居住证明", "开个居住证明", "我要开居住证明"):
        body = await ask(client, words)
        assert body["may_issue"] is True, words
        assert body["title"] == "居住证明"


async def test_nothing_matching_says_no_legal_basis_no_certificate_and_who_usually_issues(client):
    body = await ask(client, "开个收入证明")
    assert not body["found"]
    assert not body["may_issue"]
    assert "不予出具" in body["answer"]
    assert body["usually_issued_by"] == "用人单位"
    assert "用人单位" in body["answer"]
    assert NUMBER in body["document"]
    other = await ask(client, "宠物美容证明")
    assert other["usually_issued_by"] == "负责该事项的主管部门"


# ---- no cancelled certificate retained under any name ----

def certificate(code: str, title: str, list_name: str = "retained") -> dict:
    return {"kind": "certificate", "list": list_name, "code": code, "title": title, "content": "社区出具"}


async def add(client, headers, item, scope=COUNTY):
    return await client.post(f"/api/v1/registry/scopes/{scope}/items", headers=headers,
                             json={"item": item, "effective_from": today().isoformat(), "reason": "县里要求保留"})


@pytest.mark.parametrize("title", ["无犯罪记录证明", "无犯罪证明", "良民证", "無犯罪記錄證明", "生存证明", "单身证明"])
async def test_a_county_cannot_retain_a_cancelled_certificate_under_its_name_or_a_near_name(
        client, as_client, db, title):
    before = await db.fetchval("select count(*) from registry_entry")
    r = await add(client, as_client("county-reviewer-api"), certificate("430121-C-900", title))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["rule"] == "certificate.cancelled-not-retained"
    assert NUMBER in problem["detail"]
    assert problem["invalid_params"][0]["name"] == "item.title"
    assert await db.fetchval("select count(*) from registry_entry") == before
    # the public answer for it stays "cancelled"
    assert (await ask(client, title))["may_issue"] is False


async def test_a_province_cannot_retain_one_either_and_a_county_still_adds_real_retained_ones(client, as_client):
    admin = as_client("province-admin")
    r = await add(client, admin, certificate("43-C-900", "无犯罪记录证明"), scope="43")
    assert r.status_code in (403, 422), r.text
    if r.status_code == 422:
        assert r.json()["rule"] == "certificate.cancelled-not-retained"
    r = await add(client, as_client("county-reviewer-api"), certificate("430121-C-901", "困难群众生活状况证明"))
    assert r.status_code == 201, r.text


async def test_amending_a_retained_certificate_into_a_cancelled_one_is_refused(client, as_client):
    reviewer = as_client("county-reviewer-api")
    r = await add(client, reviewer, certificate("430121-C-902", "困难群众生活状况证明"))
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-C-902/amend", headers=reviewer,
                          json={"changes": {"title": "良民证"}, "effective_from": today().isoformat(),
                                "reason": "改名"})
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "certificate.cancelled-not-retained"


async def test_a_cancelled_template_certificate_cannot_come_back_retained_by_the_county_under_a_new_code(
        client, as_client, db):
    """The national template's own cancelled items are read by title too, not only the built-in list."""
    reviewer = as_client("county-reviewer-api")
    await db.execute("update registry_item set title = '测试专用取消证明' where scope = 'national' and code = 'C-X-01'")
    r = await add(client, reviewer, certificate("430121-C-903", "测试专用取消证明"))
    assert r.status_code == 422, r.text
    assert "C-X-01" in r.json()["detail"]


async def test_an_import_cannot_retain_a_cancelled_certificate(client, as_client):
    rows = "kind,list,code,title,effective_from,reason\n" \
        f"certificate,retained,430121-C-904,无犯罪证明,{today().isoformat()},导入\n"
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/import", headers=as_client("county-reviewer-api"),
                          content=rows.encode())
    assert r.status_code == 422, r.text
    assert "certificate.cancelled-not-retained" in r.json()["extra"]["rejected"][0]["reason"]


async def test_an_approval_cannot_write_a_cancelled_certificate_as_retained(client, as_client, db):
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    r = await client.post("/api/v1/admission-requests", headers=department, json=submission(
        kind="certificate", list="retained", title="开具无犯罪证明", content="请社区为居民出具无犯罪证明"))
    assert r.status_code == 201, r.text
    answer = r.json()
    if answer["status"] == "refused":  # screening may already refuse it: then nothing can be approved
        return
    await into_review(client, reviewer, answer["id"])
    r = await client.post(f"/api/v1/admission-requests/{answer['id']}/decision", headers=reviewer,
                          json={"outcome": "approved"})
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "certificate.cancelled-not-retained"
    assert await db.fetchval("select status from admission_request where id = $1", answer["id"]) == "in_review"
    assert await db.fetchval("select count(*) from registry_item where title = '开具无犯罪证明'") == 0


# ---- raw UTF-8 in the query string ----

async def raw_get(client, path: str, query: bytes) -> tuple[int, bytes]:
    """One request straight to the ASGI app, its query string as the bytes a curl command sends
    (httpx would percent-encode them), in this event loop, where the app runs (tests/helpers/app.py)."""
    return await _raw_get(client.app, path, query)


async def _raw_get(app, path: str, query: bytes) -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
             "headers": [(b"host", b"testserver.local")], "client": ("127.0.0.1", 5000),
             "server": ("testserver.local", 80), "state": {}}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def test_a_query_string_sent_as_raw_utf8_bytes_is_read_as_utf8(client):
    status, body = await raw_get(client, ASK, "q=无犯罪记录证明".encode())
    assert status == 200, body
    answer = json.loads(body)
    assert answer["query"] == "无犯罪记录证明"
    assert answer["found"]
    assert answer["title"] == "无犯罪记录证明"
    # percent-encoded queries mean the same as before, and so do raw bytes on the other public reads
    status, body = await raw_get(client, ASK, b"q=%E6%97%A0%E7%8A%AF%E7%BD%AA%E8%AE%B0%E5%BD%95%E8%AF%81%E6%98%8E")
    assert json.loads(body)["title"] == "无犯罪记录证明"
    status, body = await raw_get(client, f"/api/v1/registry/communities/{COMMUNITY}/items",
                                 "kind=certificate&q=犯罪".encode())
    assert status == 200, body
    assert {i["code"] for i in json.loads(body)["items"]} == {"C-X-04"}
