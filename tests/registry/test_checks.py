"""The enforcement check: answers with citations, from memory, kept current across processes, all recorded."""

from __future__ import annotations

import asyncio
import datetime

from service.app import create_app
from service.core.clock import today
from tests.helpers.app import running

COUNTY = "430121"
COMMUNITY = "430121001001"


def days(n: int) -> str:
    return (today() + datetime.timedelta(days=n)).isoformat()


async def ask(client, headers, *, code=None, title=None, description=None, role="assisting", department=None,
              community=COMMUNITY):
    matter = {k: v for k, v in (("code", code), ("title", title), ("description", description)) if v}
    body = {"community_code": community, "matter": matter, "role": role}
    if department:
        body["department"] = department
    return await client.post("/api/v1/checks", headers=headers, json=body)


async def test_admitted_matter_is_allowed_citing_list_release_and_entry(client, as_client, db):
    r = await ask(client, as_client("civil-affairs"), code="430121-A-001")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["allowed"] is True
    assert body["receipt_url"] is None
    citation = body["citation"]
    entry = await db.fetchval("select entry_number from registry_item where scope = $1 and code = $2",
                              COUNTY, "430121-A-001")
    assert citation == {"rule": "registry.admitted", "list": "assisting", "scope": COUNTY, "code": "430121-A-001",
                        "title": "协助开展城乡居民医保参保登记", "entry_number": entry, "release": "2025年版",
                        "document_number": "长社工发〔2024〕12号", "basis": "《湖南省城乡居民基本医疗保险实施办法》",
                        "documents": None, "span": None}
    # a national duty, asked for by a street office
    r = await ask(client, as_client("xingsha-office"), code="T-D-001", role="responsible")
    assert r.json()["allowed"] is True
    assert r.json()["citation"]["scope"] == "national"


async def test_prohibited_matter_is_denied_with_a_public_refusal_receipt(client, as_client):
    r = await ask(client, as_client("housing-bureau"), code="P-005")
    body = r.json()
    assert body["allowed"] is False
    assert body["citation"]["rule"] == "registry.prohibited"
    assert body["citation"]["code"] == "P-005"
    receipt_id = body["id"]
    assert body["receipt_url"] == f"/checks/{receipt_id}"
    for _ in range(40):  # written in the next batch
        receipt = await client.get(f"/api/v1/checks/receipts/{receipt_id}")
        if receipt.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert receipt.status_code == 200
    assert receipt.json()["allowed"] is False
    assert receipt.json()["citation"]["code"] == "P-005"
    page = await client.get(body["receipt_url"])
    assert page.status_code == 200
    assert "不予准入" in page.text
    assert "报刊征订" in page.text or "P-005" in page.text
    assert (await client.get("/api/v1/checks/receipts/00000000-0000-4000-8000-000000000000")).status_code == 404


async def test_matter_without_code_is_judged_by_what_it_says(client, as_client):
    headers = as_client("housing-bureau")
    r = await ask(client, headers, title="年度招商引资任务分解", description="请各社区完成招商引资目标")
    assert r.json()["citation"]["rule"] == "economic.target"
    assert r.json()["citation"]["document_number"] == "民发〔2015〕136号"
    assert r.json()["citation"]["documents"][0]["title"] == "关于进一步开展社区减负工作的通知"
    r = await ask(client, headers, title="违法建设整治", description="由社区负责辖区内违建拆除", role="responsible")
    assert r.json()["allowed"] is False
    assert r.json()["citation"]["rule"] == "responsible.demolition"
    assert "(" not in r.json()["reason"]  # Chinese only
    # the same words, assisting: the text itself makes the community responsible
    r = await ask(client, headers, title="违法建设整治", description="由社区负责辖区内违建拆除")
    assert r.json()["citation"]["rule"] == "responsible.demolition"
    r = await client.post("/api/v1/checks", headers={**headers, "Accept-Language": "en"}, json={
        "community_code": COMMUNITY, "role": "assisting",
        "matter": {"title": "燃气安全检查", "description": "社区对未安装报警器的餐饮商户处以罚款"}})
    assert r.json()["citation"]["rule"] == "power.enforcement"
    assert r.json()["reason"].startswith("Enforcement powers")
    # the legitimate neighbour: reporting a lead to the department that acts
    r = await ask(client, headers, title="违法建设线索报告",
                  description="发现违法建设及时劝导并报告街道，由执法部门依法查处")
    assert r.json()["citation"]["rule"] == "not-admitted"
    r = await ask(client, headers, title="小区楼道杂物清理专项行动", description="请社区组织清理")
    assert r.json()["allowed"] is False
    assert r.json()["citation"]["rule"] == "not-admitted"
    assert "有权拒绝" in r.json()["reason"]
    # the exact title of a listed item finds the item
    r = await ask(client, headers, title="调解民间纠纷", role="responsible")
    assert r.json()["allowed"] is True
    assert r.json()["citation"]["code"] == "T-D-001"


async def test_department_without_the_right_to_assign_is_denied(client, as_client):
    # the community itself asks whether a department of another county may assign this to it
    r = await ask(client, as_client("songya-community"), code="430121-A-001", department="wangcheng-civil")
    assert r.json()["citation"]["rule"] == "department.no-right"
    r = await ask(client, as_client("songya-community"), code="430121-A-001", department="civil-affairs")
    assert r.json()["allowed"] is True


async def test_role_status_and_dates_are_enforced(client, as_client):
    headers = as_client("civil-affairs")
    r = await ask(client, headers, code="T-A-001", role="responsible")
    assert r.json()["citation"]["rule"] == "registry.assisting-only"
    reviewer = as_client("county-reviewer-api")
    await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-001/suspend", headers=reviewer,
                      json={"effective_from": days(0), "reason": "暂停"})
    item = {"kind": "task", "list": "assisting", "code": "430121-A-300", "title": "协助开展独居老人探访登记"}
    await client.post(f"/api/v1/registry/scopes/{COUNTY}/items", headers=reviewer,
                      json={"item": item, "effective_from": days(5), "reason": "经准入审核同意"})
    for _ in range(40):  # the change reaches the checker through the `registry` notification
        r = await ask(client, headers, code="430121-A-001")
        if r.json()["citation"]["rule"] != "registry.admitted":
            break
        await asyncio.sleep(0.05)
    assert r.json()["citation"]["rule"] == "registry.suspended"
    for _ in range(40):
        r = await ask(client, headers, code="430121-A-300")
        if r.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert r.json()["citation"]["rule"] == "registry.not-yet-effective"


async def test_unknown_code_community_or_department_is_404_naming_it(client, as_client):
    headers = as_client("civil-affairs")
    r = await ask(client, headers, code="NO-SUCH-ITEM")
    assert r.status_code == 404
    assert "NO-SUCH-ITEM" in r.json()["detail"]
    r = await ask(client, headers, code="T-D-001", community="430121009009")
    assert r.status_code == 404
    # an unknown department: the answer is about the matter, the department noted as unknown
    r = await ask(client, headers, code="T-D-001", department="no-such-bureau")
    assert r.status_code == 200
    assert r.json()["department_unknown"] is True
    assert "no-such-bureau" in r.json()["reason"]


async def test_who_may_ask(client, as_client):
    assert (await ask(client, {}, code="T-D-001")).status_code == 401
    # a department of another county may not ask about this community
    assert (await ask(client, as_client("wangcheng-civil"), code="T-D-001")).status_code == 403
    for name in ("county-supervisor", "county-reviewer-api", "songya-community", "province-admin"):
        assert (await ask(client, as_client(name), code="T-D-001")).status_code == 200, name


async def test_change_through_one_process_reaches_the_other_within_a_second(settings, as_client):
    app_a, app_b = create_app(settings), create_app(settings)
    async with running(app_a) as a, running(app_b) as b:
        headers = as_client("civil-affairs")
        assert (await ask(b, headers, code="430121-A-002")).json()["allowed"] is True
        r = await a.post(f"/api/v1/registry/scopes/{COUNTY}/items/430121-A-002/retire",
                         headers=as_client("county-reviewer-api"),
                         json={"effective_from": days(0), "reason": "工作完成"})
        assert r.status_code == 201
        started = asyncio.get_running_loop().time()
        while True:
            answer = (await ask(b, headers, code="430121-A-002")).json()
            if not answer["allowed"] or asyncio.get_running_loop().time() - started > 1.0:
                break
            await asyncio.sleep(0.02)
        assert answer["citation"]["rule"] == "registry.retired"


async def test_every_check_is_recorded_and_none_lost_on_graceful_shutdown(settings, as_client, db):
    app = create_app(settings)
    async with running(app) as c:
        answers = await asyncio.gather(*[ask(c, as_client("civil-affairs"), code=code)
                                         for code in ["T-D-001", "P-001", "C-X-04", "430121-A-001"] * 25])
    ids = [r.json()["id"] for r in answers]
    rows = await db.fetch("select allowed, rule, asker, cited_code from check_record where id::text = any($1)", ids)
    assert len(rows) == 100
    by_code = {r["cited_code"]: r for r in rows}
    assert by_code["P-001"]["allowed"] is False
    assert by_code["C-X-04"]["rule"] == "registry.cancelled"
    assert by_code["T-D-001"]["asker"].endswith("civil-affairs")


async def test_revoked_role_stops_the_department_asking_and_assigning_within_a_second(client, as_client, db):
    headers = as_client("civil-affairs")
    assert (await ask(client, headers, code="T-D-001")).json()["allowed"] is True
    assignment = await db.fetchval(
        "select r.id from role_assignment r join api_client c on c.id = r.principal_id "
        "where r.principal_type = 'client' and c.name = 'civil-affairs'")
    # another caller asks on the department's behalf: the answer changes too
    assert (await ask(client, as_client("songya-community"), code="T-D-001",
                      department="civil-affairs")).json()["allowed"] is True
    r = await client.post(f"/api/v1/role-assignments/{assignment}/revoke", headers=as_client("province-admin"))
    assert r.status_code == 200, r.text
    for _ in range(50):
        r = await ask(client, headers, code="T-D-001")
        if r.status_code == 403:
            break
        await asyncio.sleep(0.02)
    assert r.status_code == 403
    refusal = await db.fetchrow("select outcome, action from audit_event where request_id = $1",
                                r.headers["x-request-id"])
    assert tuple(refusal) == ("denied", "check.ask")
    answer = (await ask(client, as_client("songya-community"), code="T-D-001", department="civil-affairs")).json()
    assert answer["citation"]["rule"] == "department.no-right"
