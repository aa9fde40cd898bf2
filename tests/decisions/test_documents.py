"""Decisions as documents: numbered per county, series and year with no gap and no reuse, frozen at issue,
verified against the decision's audit event and its inclusion proof, read by whoever may read the request."""

from __future__ import annotations

import hashlib
import io
import re

import asyncpg
import msgspec
import pytest
from pypdf import PdfReader

from service.audit import merkle
from service.core.clock import today

YEAR = today().year
COUNTY = "430121"


async def _numbers(db, series: str, year: int = YEAR) -> list[int]:
    return [r["number"] for r in await db.fetch(
        "select number from decision_document where county_code = $1 and series = $2 and year = $3 order by number",
        COUNTY, series, year)]


async def _decide(client, as_client, request_id: int, body: dict) -> object:
    return await client.post(f"/api/v1/admission-requests/{request_id}/decision", json=body,
                             headers=as_client("county-reviewer-api"))


async def test_the_demo_decisions_are_numbered_from_one_in_the_countys_format(db):
    numbers = await _numbers(db, "admission")
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) >= 2
    shown = await db.fetchval("select document_number from decision_document where series = 'admission' "
                              "and county_code = $1 and number = 1 and year = $2", COUNTY, YEAR)
    assert shown == f"长社工准〔{YEAR}〕1号"
    # the organisation department's decisions are a series of their own, per year of the decision
    for year in {r["year"] for r in await db.fetch("select distinct year from decision_document "
                                                   "where series = 'secondment'")}:
        numbers = await _numbers(db, "secondment", year)
        assert numbers == list(range(1, len(numbers) + 1))
    assert await db.fetchval("select count(*) from decision_document where series = 'secondment' "
                             "and document_number like '长组借〔%〕%号'") >= 5


async def test_a_rejection_takes_the_next_number_and_its_audit_event_carries_number_and_digest(
        client, as_client, db, in_review):
    before = await _numbers(db, "admission")
    r = await _decide(client, as_client, in_review, {"outcome": "rejected", "reason": "该事项属于住建部门本职工作。"})
    assert r.status_code == 200, r.text
    doc = (await client.get(f"/api/v1/admission-requests/{in_review}/decision-document",
                            headers=as_client("county-reviewer-api"))).json()
    assert doc["kind"] == "admission_rejection"
    assert doc["title"] == "不予准入告知书"
    assert doc["document_number"] == f"长社工准〔{YEAR}〕{before[-1] + 1}号"
    assert doc["content"]["reasons"] == "该事项属于住建部门本职工作。"
    assert doc["content"]["request"]["title"] == "老旧小区改造居民意见征集"
    assert doc["content"]["county"]["name"] == "长沙县"
    assert doc["content_digest"] == hashlib.sha256(msgspec.json.encode(doc["content"], order="sorted")).hexdigest()
    event = await db.fetchrow("select action, subject_id, detail from audit_event where id = $1",
                              doc["audit_event_id"])
    assert (event["action"], event["subject_id"]) == ("admission.reject", str(in_review))
    assert event["detail"]["change"]["document"] == {"number": doc["document_number"], "kind": "admission_rejection",
                                                     "content_sha256": doc["content_digest"]}


async def test_a_refused_decision_leaves_no_gap(client, as_client, db, in_review):
    before = await _numbers(db, "admission")
    # the date of effect before the submission: refused, and its number goes back with the rollback
    r = await _decide(client, as_client, in_review, {"outcome": "approved", "reason": "同意",
                                                     "effective_from": "2001-01-01"})
    assert r.status_code == 422, r.text
    assert await _numbers(db, "admission") == before
    r = await _decide(client, as_client, in_review, {"outcome": "approved", "reason": "同意列入。"})
    assert r.status_code == 200, r.text
    assert await _numbers(db, "admission") == [*before, before[-1] + 1]
    # deciding twice is refused (409) and takes no number either
    r = await _decide(client, as_client, in_review, {"outcome": "rejected", "reason": "再次"})
    assert r.status_code == 409
    assert await _numbers(db, "admission") == [*before, before[-1] + 1]


async def test_the_database_refuses_a_number_without_its_document_and_a_number_given_twice(db):
    with pytest.raises(asyncpg.RaiseError, match="has no document"):
        async with db.transaction():
            await db.execute("update decision_number_counter set last_number = last_number + 1 "
                             "where county_code = $1 and series = 'admission' and year = $2", COUNTY, YEAR)
    row = await db.fetchrow("select * from decision_document where series = 'admission' and county_code = $1 "
                            "order by number limit 1", COUNTY)
    with pytest.raises(asyncpg.RaiseError, match="does not take the counter"):
        await db.execute(
            "insert into decision_document (county_code, series, year, number, document_number, kind, subject_type, "
            "subject_id, verify_token, content, content_digest, audit_event_id, issued_on) "
            "values ($1, 'admission', $2, $3, 'x', 'admission_approval', 'admission_request', 0, "
            "'aaaaaaaaaaaaaaaaaaaaaaaaaa', '{}', $4, $5, $6)",
            COUNTY, row["year"], row["number"], "0" * 64, row["audit_event_id"], row["issued_on"])


async def test_the_countys_own_format_and_abbreviation_number_its_documents(client, as_client, db, in_review):
    admin = as_client("province-admin")
    bad = await client.patch(f"/api/v1/counties/{COUNTY}/settings", headers=admin,
                             json={"admission_document_format": "{abbr}社准〔{year}〕号"})
    assert bad.status_code == 422, bad.text  # no {n}: every document would have the same number
    r = await client.patch(f"/api/v1/counties/{COUNTY}/settings", headers=admin,
                           json={"admission_document_format": "{abbr}准字〔{year}〕第{n}号",
                                 "document_abbreviation": "长县", "reviewing_body": "县社区工作准入联席会议"})
    assert r.status_code == 200, r.text
    n = (await _numbers(db, "admission"))[-1] + 1
    assert (await _decide(client, as_client, in_review, {"outcome": "returned", "reason": "请补充经费来源。"})
            ).status_code == 200
    doc = (await client.get(f"/api/v1/admission-requests/{in_review}/decision-document",
                            headers=as_client("county-reviewer-api"))).json()
    assert doc["document_number"] == f"长县准字〔{YEAR}〕第{n}号"
    assert doc["title"] == "退回补正通知"


async def test_the_pdf_says_the_number_the_county_the_department_and_the_reasons(client, as_client, db):
    approved = await db.fetchval("select id from admission_request where title = '困难群众临时救助线索报告'")
    r = await client.get(f"/api/v1/admission-requests/{approved}/decision-document.pdf",
                         headers=as_client("civil-affairs"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    doc = (await client.get(f"/api/v1/admission-requests/{approved}/decision-document",
                            headers=as_client("civil-affairs"))).json()
    reader = PdfReader(io.BytesIO(r.content))
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    for words in (doc["document_number"], "准予准入决定书", "长沙县委社会工作部", "长沙县民政局",
                  "困难群众临时救助线索报告", "依据充分，经费随事转移，同意列入协助事项清单。", "星沙街道",
                  doc["content_digest"], doc["verify_path"]):
        assert words in text, words
    # the Chinese font is embedded, so any viewer shows the same glyphs
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    chinese = [f for f in fonts if f["/Subtype"] == "/TrueType"]
    assert chinese
    assert all("/FontFile2" in f["/FontDescriptor"].get_object() for f in chinese)


async def test_only_those_who_may_read_the_request_get_its_document(client, as_client, db):
    approved = await db.fetchval("select id from admission_request where title = '困难群众临时救助线索报告'")
    path = f"/api/v1/admission-requests/{approved}/decision-document"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=as_client("civil-affairs"))).status_code == 200  # its own request
    assert (await client.get(path, headers=as_client("county-reviewer-api"))).status_code == 200
    assert (await client.get(path, headers=as_client("housing-bureau"))).status_code == 404  # not its own
    assert (await client.get(path, headers=as_client("wangcheng-civil"))).status_code == 404  # another county
    waiting = await db.fetchval("select id from admission_request where title = '社区高龄老人探访关爱服务'")
    r = await client.get(f"/api/v1/admission-requests/{waiting}/decision-document",
                         headers=as_client("civil-affairs"))
    assert r.status_code == 404
    assert "尚无决定文书" in r.json()["detail"]
    secondment = await db.fetchval("select subject_id from decision_document where series = 'secondment' "
                                   "and content->>'outcome' = 'reject'")
    spath = f"/api/v1/secondment-requests/{secondment}/decision-document.pdf"
    assert (await client.get(spath, headers=as_client("county-orgdept-api"))).status_code == 200
    assert (await client.get(spath, headers=as_client("wangcheng-civil"))).status_code in (403, 404)


async def test_a_printed_document_verifies_against_the_audit_log_and_a_changed_one_does_not(
        client, as_client, db, sequencer):
    approved = await db.fetchval("select id from admission_request where title = '困难群众临时救助线索报告'")
    doc = (await client.get(f"/api/v1/admission-requests/{approved}/decision-document",
                            headers=as_client("civil-affairs"))).json()
    token = doc["verify_path"].rsplit("/", 1)[1]
    checked = (await client.get(f"/api/v1/decision-documents/{token}")).json()  # no sign-in
    assert checked["content_digest_matches"]
    assert checked["audit_event_matches"]
    assert checked["document_number"] == doc["document_number"]
    await sequencer.checkpoint_now()
    proof = (await client.get(doc["proof_path"])).json()
    leaf = proof["leaf"].encode()
    assert doc["document_number"] in proof["leaf"]
    assert doc["content_digest"] in proof["leaf"]
    assert hashlib.sha256(b"\x00" + leaf).hexdigest() == proof["leaf_hash"]
    assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["leaf_index"], proof["tree_size"],
                                   [bytes.fromhex(h) for h in proof["audit_path"]], bytes.fromhex(proof["root_hash"]))
    page = await client.get(doc["verify_path"])
    assert page.status_code == 200
    assert "本文书与审计日志中的决定记录一致" in page.text
    # someone edits the stored text: the digest no longer matches, and the page says so
    await db.execute("alter table decision_document disable trigger user")
    await db.execute("update decision_document set content = jsonb_set(content, '{reasons}', '\"不同意\"') "
                     "where verify_token = $1", token)
    checked = (await client.get(f"/api/v1/decision-documents/{token}")).json()
    assert checked["content_digest_matches"] is False
    assert "不一致" in (await client.get(doc["verify_path"])).text
    assert (await client.get("/api/v1/decision-documents/aaaaaaaaaaaaaaaaaaaaaaaaaa")).status_code == 404
