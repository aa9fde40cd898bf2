"""Plaques: the county's limit on exterior boards (default 2), counted from the lists and from the text, refused
with the 2024 opinion's item 17 cited, in the registry and in admission screening; inside or outside by the
words; mechanisms (leading groups, posts) named, and reviewed on their own list."""

from __future__ import annotations

import asyncio

import pytest

from service.core.clock import today
from service.policy.plaques import count_in_text, mechanisms_in_text, placement
from tests.admission.conftest import submission

COUNTY = "430121"
OPINION = "关于加强社区工作者队伍建设的意见"


@pytest.mark.parametrize(("text", "boards"), [
    ("在社区加挂平安创建、文明实践、网格服务牌子各一块", 3),
    ("加挂禁毒、普法牌子各两块", 4),
    ("社区门口统一悬挂8块牌子", 8),
    ("加挂十二块牌子", 12),
    ("要求社区加挂“平安社区”牌子", 1),
    ("协助开展普法宣传", None),
])
def test_boards_are_counted_from_the_text(text, boards):
    assert count_in_text(text) == boards


def plaque(code: str, title: str) -> dict:
    return {"kind": "plaque", "list": "exterior", "code": code, "title": title, "content": "外挂牌子"}


async def add(client, headers, item):
    return await client.post(f"/api/v1/registry/scopes/{COUNTY}/items", headers=headers,
                             json={"item": item, "effective_from": today().isoformat(), "reason": "部门要求挂牌"})


async def test_a_third_exterior_plaque_is_refused_citing_item_17(client, as_client, db):
    before = await db.fetchval("select count(*) from registry_entry")
    r = await add(client, as_client("county-reviewer-api"), plaque("430121-PL-E-03", "平安社区牌子"))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["rule"] == "plaque.exterior-max"
    assert OPINION in problem["detail"]
    assert "第17项" in problem["detail"]
    assert await db.fetchval("select count(*) from registry_entry") == before
    # the check does not admit what was never listed
    r = await client.post("/api/v1/checks/", headers=as_client("civil-affairs"), json={
        "community_code": "430121001001", "matter": {"title": "平安社区牌子"}, "role": "assisting"})
    assert r.json()["allowed"] is False


async def test_a_county_that_allows_more_boards_may_add_up_to_its_setting(client, as_client, demo):
    admin = as_client("province-admin")
    r = await client.patch(f"/api/v1/counties/{COUNTY}/settings", headers=admin, json={"exterior_plaques_max": 3})
    assert r.status_code == 200, r.text
    reviewer = as_client("county-reviewer-api")
    assert (await add(client, reviewer, plaque("430121-PL-E-03", "平安社区牌子"))).status_code == 201
    r = await add(client, reviewer, plaque("430121-PL-E-04", "文明实践牌子"))
    assert r.status_code == 422, r.text


async def test_an_admission_request_hanging_boards_outside_is_refused_at_once(client, as_client):
    r = await client.post("/api/v1/admission-requests", headers=as_client("civil-affairs"), json=submission(
        kind="plaque", list="exterior", title="在社区加挂平安创建、文明实践牌子各一块",
        content="统一制作并悬挂。"))
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["status"] == "refused"
    finding = next(f for f in answer["screening"]["findings"] if f["rule"] == "plaque.exterior-max")
    assert finding["cited"]["adding"] == 2
    assert finding["cited"]["existing"] == 2
    assert OPINION in finding["message"]
    # eight boards asked for inside a task's text are eight boards, however the request is labelled
    r = await client.post("/api/v1/admission-requests", headers=as_client("civil-affairs"), json=submission(
        title="社区创建示范点挂牌", content="在社区外墙悬挂8块牌子。"))
    assert r.json()["status"] == "refused"


async def test_moving_an_interior_plaque_outside_counts_as_a_new_board(client, as_client):
    reviewer = as_client("county-reviewer-api")
    r = await client.post(f"/api/v1/registry/scopes/{COUNTY}/items/PL-I-01/amend", headers=reviewer,
                          json={"changes": {"list": "exterior"}, "effective_from": today().isoformat(),
                                "reason": "改为外挂"})
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "plaque.exterior-max"


# ---- inside or outside, and mechanisms ----

@pytest.mark.parametrize(("text", "where"), [
    ("在社区外墙加挂平安社区牌子", "exterior"),
    ("在社区大门口悬挂", "exterior"),
    ("在社区室内悬挂禁毒工作站牌子", "interior"),
    ("可在室内标识，不在外部挂牌", "interior"),
    ("协助开展普法宣传", None),
])
def test_the_words_say_whether_a_board_hangs_outside_or_inside(text, where):
    assert placement(text) == where


@pytest.mark.parametrize(("text", "names"), [
    ("各社区成立禁毒工作领导小组，设立专职禁毒专岗。", ["禁毒工作领导小组", "专职禁毒专岗"]),
    ("在社区组建防汛工作专班", ["防汛工作专班"]),
    ("不得要求社区另行成立工作专班。", []),
    ("协助县政务服务中心开展政策宣传", []),
])
def test_the_mechanisms_a_text_sets_up_are_named(text, names):
    assert mechanisms_in_text(text) == names


async def test_an_interior_plaque_is_not_counted_outside_unless_its_words_put_it_there(client, as_client, db):
    reviewer = as_client("county-reviewer-api")
    inside = {"kind": "plaque", "list": "interior", "code": "430121-PL-I-10", "title": "禁毒工作站",
              "content": "在社区室内标识"}
    assert (await add(client, reviewer, inside)).status_code == 201
    outside = {"kind": "plaque", "list": "interior", "code": "430121-PL-I-11", "title": "普法工作站",
               "content": "在社区大门外墙悬挂普法工作站牌子一块"}
    r = await add(client, reviewer, outside)
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == "plaque.exterior-max"
    # an admission request for an inside board passes the exterior rule; one that hangs it outside does not
    department = as_client("civil-affairs")
    r = await client.post("/api/v1/admission-requests", headers=department, json=submission(
        kind="plaque", list="interior", title="在社区室内悬挂退役军人之家牌子", content="室内标识，不对外挂牌。"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "submitted"
    assert "plaque.exterior-max" not in {f["rule"] for f in r.json()["screening"]["findings"]}
    r = await client.post("/api/v1/admission-requests", headers=department, json=submission(
        kind="plaque", list="interior", title="退役军人之家", content="在社区门口加挂退役军人之家牌子。"))
    assert r.json()["status"] == "refused"


async def test_a_mechanism_asked_as_a_task_is_shown_as_one_and_reviewed_on_the_mechanism_list(client, as_client):
    department, reviewer = as_client("civil-affairs"), as_client("county-reviewer-api")
    r = await client.post("/api/v1/admission-requests", headers=department, json=submission(
        title="社区禁毒工作", content="各社区成立禁毒工作领导小组，设立专职禁毒专岗。"))
    answer = r.json()
    flag = next(f for f in answer["screening"]["findings"] if f["rule"] == "plaque.mechanism")
    assert flag["severity"] == "flag"
    assert flag["cited"]["mechanisms"] == ["禁毒工作领导小组", "专职禁毒专岗"]
    assert OPINION in flag["message"]
    # declared as what it is, it goes through the same review and onto the mechanism list
    r = await client.post("/api/v1/admission-requests", headers=department, json=submission(
        kind="plaque", list="mechanism", title="社区禁毒工作领导小组", content="各社区成立禁毒工作领导小组。",
        item_code="430121-M-01"))
    answer = r.json()
    assert answer["status"] == "submitted", answer
    assert "plaque.mechanism" not in {f["rule"] for f in answer["screening"]["findings"]}
    check = {"community_code": "430121001001", "matter": {"title": "社区禁毒工作领导小组"}, "role": "assisting"}
    r = await client.post("/api/v1/checks", headers=department, json=check)
    assert r.json()["allowed"] is False  # not admitted until it is reviewed
    await client.post(f"/api/v1/admission-requests/{answer['id']}/start-review", headers=reviewer)
    r = await client.post(f"/api/v1/admission-requests/{answer['id']}/decision", headers=reviewer,
                          json={"outcome": "approved", "reason": "同意设立"})
    assert r.status_code == 200, r.text
    item = (await client.get(f"/api/v1/registry/scopes/{COUNTY}/items/430121-M-01")).json()
    assert (item["kind"], item["list"]) == ("plaque", "mechanism")
    for _ in range(60):
        r = await client.post("/api/v1/checks", headers=department, json=check)
        if r.json()["allowed"]:
            break
        await asyncio.sleep(0.05)
    assert r.json()["allowed"] is True
    assert r.json()["citation"]["list"] == "mechanism"
