"""一次采集、多方利用: a new report form's fields are matched to the listed forms' by meaning, not spelling."""

from __future__ import annotations

from service.registry import report_fields
from tests.admission.conftest import submit

REPORT = {"kind": "report", "list": "report_form", "title": "社区养老服务需求季报", "content": "季度报送养老服务需求。"}


def collected(answer):
    return [f for f in answer["screening"]["findings"] if f["rule"] == "admission.report-fields-collected"]


async def test_fields_worded_differently_are_found_in_the_listed_form_that_already_collects_them(client, as_client):
    answer = await submit(client, as_client("civil-affairs"), **REPORT, report_form={
        "name": "养老需求季报", "fields": ["常住人口数", "家庭户数", "社工人数", "独居老人数", "手机号码"],
        "frequency": "quarterly"})
    found = collected(answer)
    assert len(found) == 1, answer["screening"]
    cited = found[0]["cited"]
    assert (cited["code"], cited["title"]) == ("430121-R-001", "社区基本情况统计表")
    assert cited["department"] == "长沙县民政局"
    assert {(o["asked"], o["listed"], o["field"]) for o in cited["overlaps"]} == {
        ("常住人口数", "常住人口", "常住人口"), ("家庭户数", "户数", "户数"),
        ("社工人数", "社区工作者人数", "社区工作者人数")}
    assert cited["fields"] == sorted(["常住人口", "户数", "社区工作者人数"])
    # the reviewer reads which field is which and where to take it from
    assert "常住人口数（即“常住人口”）" in found[0]["message"]
    assert "社区基本情况统计表" in found[0]["message"]


async def test_fields_the_listed_forms_do_not_collect_are_clear(client, as_client):
    answer = await submit(client, as_client("civil-affairs"), **REPORT, report_form={
        "name": "养老需求季报", "fields": ["独居老人数", "助餐需求人数", "联系电话"], "frequency": "quarterly"})
    assert collected(answer) == []


def test_units_traditional_characters_and_counting_endings_do_not_hide_a_field():
    assert report_fields.normalised("常住人口（人）") == "常住人口"
    assert report_fields.normalised("住戶數") == "户数"
    assert report_fields.normalised("党员数量") == report_fields.normalised("党员人数")
    # a field on no table still meets itself however its count is worded
    assert report_fields.normalised("楼层数量") == report_fields.normalised("楼层数")
    assert report_fields.normalised("手机号码") == report_fields.normalised("联系电话")
    assert report_fields.normalised("户籍人口") != report_fields.normalised("常住人口")


def test_the_synonym_table_is_data_every_line_of_the_policy_file_is_read():
    table = report_fields.synonyms()
    lines = [line for line in report_fields.TABLE_FILE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")][1:]
    assert len(table) == len(lines)
    assert table["家庭户数"] == "户数"
