"""Who really borrows: the organ's level read from its name, disguised secondments to county-level organs,
the street office as the only borrower, and approvals that never write staffing history backwards."""

from __future__ import annotations

import pytest

from service.core.clock import today
from service.secondments.borrower import county_level_destination, infer_level, infer_type
from service.workers import service as workers
from tests.secondments.conftest import SONGYA, days

BASE = "/api/v1/secondment-requests"
PLACES = [("湖南省", "province"), ("长沙市", "city"), ("长沙县", "county"), ("星沙街道", "street")]


@pytest.mark.parametrize(("name", "level", "organ_type"), [
    ("星沙街道办事处", "street", "organ"),
    ("长沙县星沙街道办事处", "street", "organ"),
    ("长沙县住房和城乡建设局", "county", "organ"),
    ("长沙县城市建设投资集团有限公司", "county", "state_owned_enterprise"),
    ("长沙县政务服务中心", "county", "public_institution"),
    ("长沙县妇联", "county", "mass_organisation"),
    ("县住建局", "county", "organ"),
    ("区委办", "county", "organ"),
    ("长沙市城市管理局", "city", "organ"),
    ("望城区住房和城乡建设局", "county", "organ"),
    ("湖南省民政厅", "province", "organ"),
    ("社区服务中心", None, "public_institution"),
    ("某某物业管理有限公司", None, "other"),
])
def test_an_organs_level_and_type_are_read_from_its_name(name, level, organ_type):
    assert infer_level(name, PLACES) == level
    assert infer_type(name, level) == organ_type


@pytest.mark.parametrize(("purpose", "organ"), [
    ("借调至县住建局协助工作", "县住建局"),
    ("派驻县城投集团参与项目", "县城投集团"),
    ("到区委办跟班学习", "区委"),
    ("到长沙县民政局跟班学习", "长沙县民政局"),
])
def test_a_purpose_sending_the_worker_to_a_county_organ_is_found(purpose, organ):
    assert county_level_destination([purpose], PLACES) == (organ, "county")


@pytest.mark.parametrize("purpose", ["街道人口普查数据核对", "到星沙街道党工委协助整理档案", "在社区服务中心值班",
                                     "街道工作专班：老旧小区改造协调"])
def test_street_and_community_purposes_are_not_disguised_secondment(purpose):
    assert county_level_destination([purpose], PLACES) is None


@pytest.mark.parametrize("organ", [
    {"name": "长沙县城市建设投资集团有限公司", "level": "street"},
    {"name": "长沙县政务服务中心", "level": "other", "other_level": "street", "type": "public_institution"},
    {"name": "长沙县妇联", "level": "street"},
])
async def test_a_county_enterprise_institution_or_mass_organisation_is_refused_whatever_level_it_declares(
        client, street, body, organ):
    r = await client.post(BASE, headers=street, json=body(organ=organ, workers=["W21001001-04"]))
    assert r.status_code == 201, r.text
    refused = r.json()
    assert refused["status"] == "refused"
    assert refused["effective_level"] == "county"
    assert refused["organ"]["level_from_name"] == "county"
    assert refused["broken_rules"][0]["rule"] == "county_level_organ"
    assert "县级以上机关企事业单位不得借调社区工作者" in refused["broken_rules"][0]["text"]


@pytest.mark.parametrize(("field", "text"), [
    ("purpose", "借调至县住建局协助城市更新"),
    ("purpose", "派驻县城投集团参与征收工作"),
    ("purpose", "到区委办跟班学习"),
    ("destination", "长沙县住房和城乡建设局"),
])
async def test_a_street_request_sending_the_worker_to_a_county_organ_is_refused_as_disguised_secondment(
        client, street, body, db, field, text):
    r = await client.post(BASE, headers=street, json=body(workers=["W21001001-04"], **{field: text}))
    assert r.status_code == 201, r.text
    refused = r.json()
    assert refused["status"] == "refused"
    rule = refused["broken_rules"][0]
    assert (rule["rule"], rule["field"]) == ("disguised_secondment", field)
    assert "视同县级以上机关企事业单位借调" in rule["text"]
    assert "关于加强社区工作者队伍建设的意见" in rule["text"]
    event = await db.fetchrow("select detail from audit_event where action = 'secondment.refuse' "
                              "and subject_id = $1", str(refused["id"]))
    assert event["detail"]["rule_key"] == "disguised_secondment"


async def test_a_street_request_must_name_that_street_office_as_the_borrower(client, street, body, db):
    before = await db.fetchval("select count(*) from secondment_request")
    r = await client.post(BASE, headers=street, json=body(
        organ={"name": "星沙物业管理有限公司", "level": "street"}, workers=["W21001001-04"]))
    assert r.status_code == 422, r.text
    problem = r.json()["invalid_params"][0]
    assert problem["name"] == "organ.name"
    assert "借用单位须为本街道（乡镇）自身" in problem["rule"]
    assert await db.fetchval("select count(*) from secondment_request") == before
    r = await client.post(BASE, headers=street, json=body(organ={"name": "长沙县星沙街道办事处", "level": "street"},
                                                          workers=["W21001001-04"],
                                                          purpose="到星沙街道党工委协助整理档案"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending_approval"
    assert r.json()["organ"]["type"] == "organ"


async def test_an_approval_after_the_start_starts_it_on_the_approval_date_and_leaves_the_past_alone(
        client, street, orgdept, body, db):
    r = await client.post(BASE, headers=street, json=body(workers=["W21001001-04"],
                                                          start_date=days(-5).isoformat(),
                                                          end_date=days(60).isoformat()))
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    before = (await workers.community_staffing(db, community_code=SONGYA, on=days(-3))).present
    r = await client.post(f"{BASE}/{request_id}/decision", headers=orgdept,
                          json={"outcome": "approve", "reasons": "同意"})
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "active"
    assert approved["start_date"] == today().isoformat()
    assert approved["requested_start_date"] == days(-5).isoformat()
    # three days ago the worker was at the community, and the record still says so
    assert (await workers.community_staffing(db, community_code=SONGYA, on=days(-3))).present == before
    assert (await workers.community_staffing(db, community_code=SONGYA, on=today())).present == before - 1
    detail = await db.fetchval("select detail from audit_event where action = 'secondment.approve' "
                               "and subject_id = $1", str(request_id))
    assert detail["start_moved"]["requested"] == days(-5).isoformat()


async def test_an_approval_after_the_end_is_refused_and_the_request_waits(client, street, orgdept, body, db):
    r = await client.post(BASE, headers=street, json=body(workers=["W21001001-04"],
                                                          start_date=days(-30).isoformat(),
                                                          end_date=days(-2).isoformat()))
    request_id = r.json()["id"]
    r = await client.post(f"{BASE}/{request_id}/decision", headers=orgdept,
                          json={"outcome": "approve", "reasons": "同意"})
    assert r.status_code == 422, r.text
    assert r.json()["invalid_params"][0]["name"] == "end_date"
    assert await db.fetchval("select status from secondment_request where id = $1", request_id) == "pending_approval"
