"""The decision documents' pages: linked from the request a reviewer or department reads, printable, as PDF,
and closed to those who may not read the request."""

from __future__ import annotations

from tests.helpers.web import sign_in


async def _approved(db) -> int:
    return int(await db.fetchval("select id from admission_request where title = '困难群众临时救助线索报告'"))


async def test_the_request_page_links_its_document_which_prints_and_downloads(client, demo, db):
    request_id = await _approved(db)
    number = await db.fetchval("select document_number from decision_document where subject_type = "
                               "'admission_request' and subject_id = $1", request_id)
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get(f"/ui/admission/{request_id}")
    assert f'href="/ui/admission/{request_id}/document"' in page.text
    assert number in page.text
    doc = await client.get(f"/ui/admission/{request_id}/document")
    assert doc.status_code == 200
    assert '<html lang="zh-CN">' in doc.text
    assert "<h1 class=\"doc-title\">准予准入决定书</h1>" in doc.text
    assert number in doc.text
    assert "长沙县民政局" in doc.text
    assert "长沙县委社会工作部" in doc.text
    assert 'href="/static/decision.css"' in doc.text
    assert 'src="data:image/svg+xml' in doc.text
    css = await client.get("/static/decision.css")
    assert "@media print" in css.text
    assert ".noprint { display: none" in css.text
    pdf = await client.get(f"/ui/admission/{request_id}/document.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


async def test_a_request_without_a_decision_has_no_document_and_another_county_sees_nothing(client, demo, db):
    waiting = await db.fetchval("select id from admission_request where title = '社区高龄老人探访关爱服务'")
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get(f"/ui/admission/{waiting}")
    assert "/document" not in page.text
    r = await client.get(f"/ui/admission/{waiting}/document")
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    await sign_in(client, "reviewer-wc", demo.users["reviewer-wc"])
    other = await client.get(f"/ui/admission/{await _approved(db)}/document.pdf")
    assert other.status_code == 404
    assert not other.content.startswith(b"%PDF")


async def test_the_secondment_page_links_the_organisation_departments_decision(client, demo, db):
    rejected = await db.fetchval("select id from secondment_request where purpose = '街道文明创建迎检材料准备'")
    await sign_in(client, "orgdept", demo.users["orgdept"])
    page = await client.get(f"/ui/secondments/{rejected}")
    assert f'href="/ui/secondments/{rejected}/document"' in page.text
    assert "借调审批意见" in page.text
    doc = await client.get(f"/ui/secondments/{rejected}/document")
    assert "长沙县委组织部" in doc.text
    assert "不同意借调" in doc.text
    assert "陶公庙社区" in doc.text


async def test_an_unknown_verification_address_answers_with_a_page(client):
    r = await client.get("/documents/aaaaaaaaaaaaaaaaaaaaaaaaaa")
    assert r.status_code == 404
    assert "<h1>未找到</h1>" in r.text
