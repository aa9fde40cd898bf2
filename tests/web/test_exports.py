"""The pages' Excel exports: the page's filters, headers in the page's language, dates as dates, names not
codes, every row."""

from __future__ import annotations

import datetime
import io

from openpyxl import load_workbook

from tests.helpers.web import sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _sheet(client, path: str) -> tuple[list[str], list[dict[str, object]]]:
    r = await client.get(path)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith(XLSX)
    assert "attachment" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


async def test_the_inbox_export_has_the_pages_filters_chinese_headers_and_dates(client, demo, db):
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get("/ui/inbox")
    assert 'href="/ui/inbox/export.xlsx"' in page.text
    header, rows = await _sheet(client, "/ui/inbox/export.xlsx?kind=admission")
    assert header[:4] == ["类别", "编号", "事项", "状态"]
    assert rows
    assert {r["类别"] for r in rows} == {"准入申请"}
    titles = {r["事项"] for r in rows}
    assert "社区高龄老人探访关爱服务" in titles
    assert "困难群众临时救助线索报告" not in titles  # decided: not open, as on the page
    waiting = next(r for r in rows if r["事项"] == "社区高龄老人探访关爱服务")
    assert isinstance(waiting["提交时间（北京时间）"], datetime.datetime)
    assert isinstance(waiting["办理期限"], datetime.datetime | datetime.date)
    assert waiting["状态"] in ("已提交", "审核中")
    # where it goes, by name: the streets the request names
    assert waiting["地点"] == "星沙街道、湘龙街道"
    assert isinstance(waiting["剩余工作日"], int)
    assert waiting["申请单位"] == "长沙县民政局"
    assert waiting["已逾期"] in ("是", "否")
    assert str(waiting["链接"]).endswith(f"/ui/admission/{waiting['编号']}")
    # the same filter on the page and in the file: every open admission request of the county
    expected = await db.fetchval("select count(*) from admission_request where county_code = '430121' "
                                 "and status in ('submitted', 'in_review')")
    assert len(rows) == expected
    _, all_rows = await _sheet(client, "/ui/inbox/export.xlsx?kind=admission&state=all")
    assert "困难群众临时救助线索报告" in {r["事项"] for r in all_rows}


async def test_the_inbox_export_speaks_english_on_an_english_page_and_refuses_a_bad_date(client, demo):
    await sign_in(client, "reviewer", demo.users["reviewer"])
    client.cookies.set("mr_lang", "en")
    header, rows = await _sheet(client, "/ui/inbox/export.xlsx")
    assert header[:3] == ["Kind", "Number", "Matter"]
    assert {r["Kind"] for r in rows} <= {"Admission request", "Secondment request", "Complaint"}
    client.cookies.set("mr_lang", "zh-CN")
    bad = await client.get("/ui/inbox/export.xlsx?since=2026-02-30")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("text/html")
    assert "提交日期起" in bad.text


async def test_the_secondment_export_names_forms_states_and_people(client, demo, db):
    await sign_in(client, "orgdept", demo.users["orgdept"])
    header, rows = await _sheet(client, "/ui/secondments/export.xlsx")
    assert header[:5] == ["编号", "借调单位", "单位层级", "形式", "所在社区"]
    assert len(rows) == await db.fetchval("select count(*) from secondment_request")
    overdue = next(r for r in rows if r["事由"] == "街道征地拆迁档案整理")
    assert overdue["形式"] == "抽调"
    assert overdue["状态"] == "逾期未返岗"
    assert overdue["所在社区"] == "龙塘社区"
    assert isinstance(overdue["开始日期"], datetime.datetime)
    assert isinstance(overdue["逾期起始日"], datetime.datetime)
    assert all("_" not in str(r["形式"]) and "_" not in str(r["状态"]) for r in rows)  # words, not codes
    _, active = await _sheet(client, "/ui/secondments/export.xlsx?state=active")
    assert active
    assert {r["状态"] for r in active} <= {"借调中"}
    assert len(active) < len(rows)


async def test_the_complaint_export_lists_the_supervised_countys_complaints(client, demo):
    await sign_in(client, "supervisor", demo.users["supervisor"])
    header, rows = await _sheet(client, "/ui/complaints/export.xlsx")
    assert "被投诉单位" in header
    assert "投诉内容" in header
    complaint = next(r for r in rows if r["事项"] == "要求社区代收保险费")
    assert complaint["状态"] == "已受理"
    assert complaint["类别"] == "工作事项"
    assert complaint["地点"] == "松雅社区"
    assert isinstance(complaint["提交时间（北京时间）"], datetime.datetime)
    _, none = await _sheet(client, "/ui/complaints/export.xlsx?status=unfounded")
    assert none == []


async def test_the_list_export_follows_the_date_and_the_list_chosen(client, demo):
    await sign_in(client, "reviewer", demo.users["reviewer"])
    page = await client.get("/ui/lists/430121?list=assisting")
    assert 'href="/ui/lists/430121/export.xlsx?list=assisting"' in page.text
    header, rows = await _sheet(client, "/ui/lists/430121/export.xlsx?list=assisting")
    assert header[:3] == ["清单", "编号", "名称"]
    assert rows
    assert {r["清单"] for r in rows} == {"依法协助政府工作事项"}
    assert "ADM-DEMO-1" in {r["编号"] for r in rows}  # approved today, in force today
    assert all(isinstance(r["生效日期"], datetime.datetime) for r in rows)
    _, past = await _sheet(client, "/ui/lists/430121/export.xlsx?list=assisting&as_of=2021-01-01")
    assert "ADM-DEMO-1" not in {r["编号"] for r in past}


async def test_the_audit_export_has_the_searchs_events_with_times_and_words(client, demo, db):
    await sign_in(client, "supervisor", demo.users["supervisor"])
    header, rows = await _sheet(client, "/ui/audit/export.xlsx?action=admission.approve")
    assert header[0] == "时间（北京时间）"
    assert "操作代码" in header
    assert rows
    assert {r["操作代码"] for r in rows} == {"admission.approve"}
    assert all(isinstance(r["时间（北京时间）"], datetime.datetime) for r in rows)
    assert rows[0]["操作"] != "admission.approve"  # the action in words
    assert len(rows) == await db.fetchval("select count(*) from audit_event where action = 'admission.approve' "
                                          "and jurisdiction_code like '430121%'")
