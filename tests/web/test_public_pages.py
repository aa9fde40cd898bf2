"""The residents' pages without a browser: the duty page, the certificate question, a complaint filed and
followed with its number and code, a refused check's receipt as a letter."""

from __future__ import annotations

import re

from tests.helpers.web import csrf_of

SONGYA = "430121001001"


async def _file(client, **fields):
    form = await client.get(f"/complaints?community={SONGYA}")
    data = {"community_code": SONGYA, "department": "长沙县某局", "subject_kind": "app", "matter": "要求居民下载某应用",
            "description": "要求社区每天截图上报下载人数。", "contact": "", "_csrf_token": csrf_of(form.text), **fields}
    return await client.post("/complaints", data=data, follow_redirects=False)


async def test_the_duty_page_names_its_sections_and_keeps_codes_in_the_basis(client):
    r = await client.get(f"/duty/{SONGYA}")
    assert r.status_code == 200
    text = r.text
    for anchor, heading in (("duty", "本社区依法履行的职责"), ("assisting", "协助政府的工作"),
                            ("prohibited", "不得交由社区承担的事项"), ("cancelled", "社区不再出具的证明")):
        assert f'href="#{anchor}"' in text
        assert heading in text
    assert 'id="cancelled"' in text
    assert 'href="#cancelled"' in text
    # the entry number and code only inside the basis detail
    main_view = re.sub(r"<details>.*?</details>", "", text, flags=re.S)
    assert "T-D-001" not in main_view
    assert "#1" not in main_view
    assert "T-D-001" in text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text)
    assert "2015-07-01" not in text
    assert f'href="/duty/{SONGYA}/certificates"' in text
    assert f'href="/complaints?community={SONGYA}"' in text
    assert "<script" not in text


async def test_the_duty_page_finds_a_certificate_by_a_residents_words(client):
    r = await client.get(f"/duty/{SONGYA}", params={"q": "调解"})
    assert "调解民间纠纷" in r.text
    assert "召集居民会议" not in r.text
    # the resident's own words are read as the listed certificate by the certificate lookup
    cert = await client.get(f"/duty/{SONGYA}", params={"q": "无犯罪记录证明"})
    assert cert.status_code == 200
    assert "犯罪记录证明" in cert.text
    assert "公安机关" in cert.text


async def test_a_resident_asks_whether_the_community_may_issue_a_certificate(client):
    empty = await client.get(f"/duty/{SONGYA}/certificates")
    assert empty.status_code == 200
    assert "社区能开这个证明吗？" in empty.text
    no = await client.get(f"/duty/{SONGYA}/certificates", params={"q": "无犯罪记录证明"})
    assert "不予出具" in no.text
    assert "公安机关" in no.text
    assert "民发〔2020〕20号" in no.text
    assert "民政部" in no.text
    assert "民发〔2020〕27号" not in no.text
    yes = await client.get(f"/duty/{SONGYA}/certificates", params={"q": "居住证明"})
    assert "可以出具" in yes.text
    unknown = await client.get(f"/duty/{SONGYA}/certificates", params={"q": "宠物美容资格证明"})
    assert "不在清单中" in unknown.text


async def test_the_certificate_page_of_an_unknown_community_is_a_chinese_404_page(client):
    r = await client.get("/duty/430121009999/certificates", params={"q": "出生证明"})
    assert r.status_code == 404
    assert "<h1>未找到</h1>" in r.text


async def test_a_resident_files_an_anonymous_complaint_and_follows_it_with_number_and_code(client, db):
    r = await _file(client)
    assert r.status_code == 303
    assert r.headers["location"] == "/complaints/filed"
    filed = await client.get("/complaints/filed")
    assert filed.status_code == 200
    assert filed.headers["cache-control"] == "no-store"
    number = re.search(r"回执编号</dt><dd><strong>(\d+)</strong>", filed.text).group(1)
    code = re.search(r'class="code">([A-Z0-9-]+)<', filed.text).group(1)
    row = await db.fetchrow("select * from complaint where id = $1", int(number))
    assert row["filed_by"] is None
    assert row["contact"] is None
    assert row["follow_code_hash"] is not None
    assert code.encode() not in bytes(row["follow_code_hash"])
    assert row["department"] == "长沙县某局"
    assert row["subject_kind"] == "app"
    # the code is shown once only
    again = await client.get("/complaints/filed", follow_redirects=False)
    assert again.status_code == 303
    follow = await client.get(f"/complaints/follow?number={number}")
    shown = await client.post("/complaints/follow", data={"number": number, "code": code.lower().replace("-", " "),
                                                          "_csrf_token": csrf_of(follow.text)})
    assert shown.status_code == 200
    assert "已受理" in shown.text
    assert "要求居民下载某应用" in shown.text
    await db.execute("update complaint set status = 'substantiated', finding = '情况属实，已责令整改。' where id = $1",
                     int(number))
    later = await client.post("/complaints/follow", data={"number": number, "code": code,
                                                          "_csrf_token": csrf_of(follow.text)})
    assert "属实" in later.text
    assert "已责令整改" in later.text


async def test_a_wrong_follow_up_code_shows_nothing_of_the_complaint(client):
    await _file(client)
    filed = await client.get("/complaints/filed")
    number = re.search(r"回执编号</dt><dd><strong>(\d+)</strong>", filed.text).group(1)
    follow = await client.get("/complaints/follow")
    r = await client.post("/complaints/follow", data={"number": number, "code": "AAAA-BBBB-CCCC",
                                                      "_csrf_token": csrf_of(follow.text)})
    assert r.status_code == 404
    assert "回执编号或查询码不正确" in r.text
    assert "要求居民下载某应用" not in r.text


async def test_a_complaint_with_missing_fields_is_shown_again_with_each_field_named(client, db):
    before = await db.fetchval("select count(*) from complaint")
    r = await _file(client, department="", matter="", description="")
    assert r.status_code == 422
    assert "请填写交办的部门" in r.text
    assert "请填写事项名称" in r.text
    assert "请简要说明情况" in r.text
    assert 'aria-invalid="true"' in r.text
    assert await db.fetchval("select count(*) from complaint") == before


async def test_a_complaint_without_the_csrf_token_is_refused(client, db):
    before = await db.fetchval("select count(*) from complaint")
    r = await client.post("/complaints", data={"community_code": SONGYA, "department": "x", "subject_kind": "task",
                                               "matter": "x", "description": "x"})
    assert r.status_code == 403
    assert await db.fetchval("select count(*) from complaint") == before


async def test_complaints_beyond_the_hourly_limit_are_refused_on_the_form(client):
    from service.complaints.service import COMPLAINTS_PER_HOUR

    for _ in range(COMPLAINTS_PER_HOUR):
        assert (await _file(client)).status_code == 303
    r = await _file(client)
    assert r.status_code == 429
    assert "每小时最多受理" in r.text
    assert "too many" not in r.text


async def test_a_contact_given_is_kept_for_the_supervisor(client, db):
    await _file(client, contact="13800000000")
    assert await db.fetchval("select contact from complaint order by id desc limit 1") == "13800000000"


async def test_the_complaint_api_returns_a_follow_up_code_that_the_follow_operation_accepts(client):
    r = await client.post("/api/v1/complaints", json={
        "jurisdiction_code": SONGYA, "department": "某局", "subject_kind": "plaque", "matter": "挂牌",
        "description": "要求挂牌"})
    assert r.status_code == 201
    body = r.json()
    ok = await client.post("/api/v1/complaints/follow", json={"id": body["id"], "code": body["follow_code"]})
    assert ok.status_code == 200
    assert ok.json()["status"] == "received"
    assert "contact" not in ok.json()
    bad = await client.post("/api/v1/complaints/follow", json={"id": body["id"], "code": "WRONG"})
    assert bad.status_code == 404


async def test_a_refused_checks_receipt_reads_as_a_letter_in_beijing_time(client, as_client):
    import asyncio

    r = await client.post("/api/v1/checks", headers=as_client("civil-affairs"), json={
        "community_code": SONGYA, "matter": {"code": "P-005"}, "role": "assisting"})
    url = r.json()["receipt_url"]
    for _ in range(50):
        page = await client.get(url)
        if page.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert page.status_code == 200
    text = page.text
    assert "长沙县民政局" in text
    assert "报刊征订" in text
    assert "社区依法拒绝承接" in text
    assert "北京时间" in text
    assert "UTC" not in text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", text)
    assert "民发〔2015〕136号" in text
    assert f"/checks/{r.json()['id']}" in text
    main_view = re.sub(r"<details>.*?</details>", "", text, flags=re.S)
    assert "P-005" not in main_view
    assert "(on the" not in main_view


async def test_a_resident_finds_a_community_by_name(client):
    r = await client.get("/communities", params={"q": "松雅"})
    assert r.status_code == 200
    assert f'href="/duty/{SONGYA}"' in r.text
    assert "星沙街道" in r.text


async def test_the_residents_pages_have_english_by_the_switch(client):
    r = await client.get(f"/duty/{SONGYA}/certificates", params={"q": "居住证明"},
                         headers={"Accept-Language": "en"})
    assert "Can the community issue this certificate?" in r.text


async def _refused_receipt(client, as_client) -> str:
    import asyncio

    r = await client.post("/api/v1/checks", headers=as_client("civil-affairs"), json={
        "community_code": SONGYA, "matter": {"code": "P-005"}, "role": "assisting"})
    for _ in range(50):
        if (await client.get(r.json()["receipt_url"])).status_code == 200:
            break
        await asyncio.sleep(0.1)
    return r.json()["id"]


async def test_the_community_records_a_refusal_from_the_receipt_in_one_click(client, as_client, demo, db):
    from tests.helpers.web import sign_in

    receipt_id = await _refused_receipt(client, as_client)
    anonymous = await client.get(f"/checks/{receipt_id}")
    assert "登记拒绝" not in anonymous.text
    await sign_in(client, "community", demo.users["community"])
    page = await client.get(f"/checks/{receipt_id}")
    assert "登记拒绝" in page.text
    done = await client.post("/ui/community/refusals", data={"receipt_id": receipt_id,
                                                             "_csrf_token": csrf_of(page.text)},
                             follow_redirects=False)
    assert done.status_code == 303
    row = await db.fetchrow("select * from matter_refusal where receipt_id = $1", receipt_id)
    assert row["department"] == "长沙县民政局"
    assert row["matter_title"] == "报刊征订"
    assert row["community_code"] == SONGYA
    assert await db.fetchval("select count(*) from audit_event where action = 'refusal.record'") >= 1
    # a second click records nothing more
    again = await client.post("/ui/community/refusals", data={"receipt_id": receipt_id,
                                                              "_csrf_token": csrf_of(page.text)},
                              follow_redirects=False)
    assert again.headers["location"].endswith("recorded=again")
    assert await db.fetchval("select count(*) from matter_refusal where receipt_id = $1", receipt_id) == 1
    overview = await client.get("/ui/community")
    assert overview.status_code == 200
    assert "报刊征订" in overview.text
    assert "社区工作者配备" in overview.text
    assert "本社区依法履行的职责" in overview.text
    assert "没有可显示的统计" not in overview.text


async def test_only_the_communitys_role_records_a_refusal_from_the_receipt(client, as_client, demo, db):
    from tests.helpers.web import sign_in

    receipt_id = await _refused_receipt(client, as_client)
    await sign_in(client, "street", demo.users["street"])
    page = await client.get(f"/checks/{receipt_id}")
    assert "登记拒绝" not in page.text
    r = await client.post("/ui/community/refusals", data={"receipt_id": receipt_id,
                                                          "_csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 403
    assert await db.fetchval("select count(*) from matter_refusal where receipt_id = $1", receipt_id) == 0
