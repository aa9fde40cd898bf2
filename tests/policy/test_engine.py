"""The policy engine on its own: who is asked to do what, negation and scope, spans, rules as data."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.policy.engine import PolicyError, default_engine, load


def verdict(content: str, title: str = "", role: str = "assisting"):
    return default_engine().evaluate({"title": title, "content": content}, role=role)


def families(content: str, title: str = "", role: str = "assisting") -> dict[str, str]:
    return {f.family: f.severity for f in verdict(content, title, role).findings}


@pytest.mark.parametrize("content", [
    "不以截图留痕考核社区工作。",
    "不得要求社区签订责任书，不得对社区实行一票否决。",
    "发现违法建设及时劝导并报告街道，由执法部门依法查处。",
    "燃气安全检查由县住房和城乡建设局负责，社区协助通知居民。",
    "社区不承担招商引资、协税护税任务。",
    "社区无需拍照上传，不要求在工作群打卡。",
    "对占道经营的处罚由城管执法部门依法作出，社区不参与处罚。",
])
def test_a_negated_or_scoped_sentence_does_not_count_against_the_request(content):
    assert verdict(content).verdict == "clear", verdict(content).findings


@pytest.mark.parametrize(("content", "family"), [
    ("社区作为辖区安全生产第一责任人，负责小作坊日常检查。", "responsible.work_safety"),
    ("社区对辖区燃气用户开展入户检查，对拒不整改的处以罚款。", "power.enforcement"),
    ("各社区落实辖区河道保洁主体责任，出现问题追究社区责任。", "responsible.environment"),
    ("由社区负责辖区流动摊贩管控，确保主干道无占道经营。", "responsible.urban_management"),
    ("社区牵头负责辖区房屋征收拆迁工作，包保到户。", "responsible.demolition"),
    ("请各社区于年底前完成党报党刊征订任务80份。", "economic.target"),
    ("社区书记与街道签订禁烧军令状。", "pledge"),
    ("对未完成任务的社区实行一票否决。", "veto"),
    ("网格员每日在工作群打卡并上传巡查照片，街道按打卡次数排名通报。", "paper_trail"),
])
def test_a_prohibited_ask_in_disguise_is_refused_under_its_rule(content, family):
    found = families(content)
    assert found.get(family) == "refuse", found


def test_what_a_department_asks_of_itself_is_not_the_communitys():
    assert verdict("县城管局负责辖区占道经营执法，对违规商户依法罚款。").verdict == "clear"
    # the same words asked of the community
    assert families("社区负责辖区占道经营执法，对违规商户依法罚款。")["power.enforcement"] == "refuse"


def test_assisting_on_a_prohibited_topic_passes_and_the_declared_role_decides():
    text = "社区协助应急管理部门开展安全生产月宣传，发放宣传资料。"
    assert verdict(text).verdict == "clear"
    assert verdict("开展辖区小作坊安全检查。", role="assisting").verdict == "clear"
    assert families("开展辖区小作坊安全检查。", role="responsible") == {"responsible.work_safety": "refuse"}


def test_a_finding_carries_the_document_the_span_and_both_messages():
    content = "各社区要 完成 招商引资 目标，并签订责 任 书。"
    found = {f.family: f for f in verdict(content).findings}
    economic, pledge = found["economic.target"], found["pledge"]
    assert content[economic.span.start:economic.span.end] == economic.span.text
    assert "招商引资" in economic.span.text
    assert pledge.span.text == "责 任 书"  # spaces between the characters do not hide it
    assert economic.documents[0].number == "民发〔2015〕136号"
    assert economic.documents[0].date == "2015-07-13"
    opinion = found.get("pledge").documents[0]
    assert opinion.title == "整治形式主义为基层减负若干规定"
    assert opinion.number is None
    assert not any(ch.isascii() and ch.isalpha() for ch in economic.message)  # Chinese only
    assert economic.message_in("en").startswith("Economic targets")
    work_safety = next(f for f in verdict("社区是辖区安全生产第一责任人。").findings)
    opinion = work_safety.documents[0]
    assert (opinion.title, opinion.issuer, opinion.date, opinion.number) == (
        "关于加强社区工作者队伍建设的意见", "中共中央办公厅、国务院办公厅", "2024-03-28", None)
    assert "第十七条" in opinion.clause


def test_a_rule_whose_examples_fail_is_refused_at_load_naming_it(tmp_path: Path):
    source = Path(default_engine.__code__.co_filename).parents[2] / "policies" / "prohibitions.toml"
    text = source.read_text(encoding="utf-8")
    broken = text.replace('examples.no_match = ["不得对社区实行一票否决。"',
                          'examples.no_match = ["对社区实行一票否决。"', 1)
    assert broken != text
    path = tmp_path / "prohibitions.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load(path)
    assert refused.value.rule == "veto"
    assert refused.value.example == "对社区实行一票否决。"
    assert "veto" in str(refused.value)
    path.write_text(text.replace("[lexicon]", "[lexicon]\nbad = 3", 1), encoding="utf-8")
    with pytest.raises(PolicyError):
        load(path)


def test_the_first_look_at_a_listed_item_never_misses_what_the_engine_would_find():
    """The check judges every listed item at load; most are cleared by one pass of the automaton."""
    from service.policy.evaluate import read_cases

    engine = default_engine()
    corpus = Path(__file__).resolve().parents[1] / "data" / "policy_corpus.jsonl"
    for case in read_cases(corpus):
        fields = {"title": case.title, "content": case.content}
        for role in ("assisting", "responsible"):
            if engine.evaluate(fields, role=role).findings:
                assert engine.possible(fields), case.line
    assert not engine.possible({"title": "协助开展第7项社区工作", "content": "县第7项准入事项的工作内容说明"})
    assert engine.possible({"title": "", "content": "各社区办理惠民卡800张"})


# ---- the reading that generalises (issue 13: requests worded the way departments word them) ----

@pytest.mark.parametrize(("content", "family"), [
    # the role in other words: 落实/压实/扛起…属地责任, 组织开展/具体实施 the department's own act
    ("各社区压实辖区楼道堆物整治的属地职责，发现一处清理一处。", "responsible.work_safety"),
    ("沿街门店燃气软管的入户检查由属地社区具体实施。", "responsible.work_safety"),
    ("社区组织开展辖区出租屋消防安全检查，每月形成检查台账。", "responsible.work_safety"),
    ("各社区落实辖区违建管控属地责任，新增违建限期拆除到位。", "responsible.demolition"),
    # a quota in numbers is a target however the ask is worded (协助, 推广)
    ("请社区协助推广意外伤害保险，每个社区投保不少于300人。", "economic.target"),
    ("各社区年内新增个体工商户不少于15户。", "economic.target"),
    ("社区代收辖区居民的垃圾处理费。", "economic.target"),
    ("社区协助催缴辖区商铺拖欠的房产税。", "economic.target"),
    # pledges and paper trails under other names
    ("社区与街道签订综治工作目标管理书。", "pledge"),
    ("街道按各社区公众号文章的点赞数量排名。", "paper_trail"),
])
def test_the_role_and_the_ask_in_other_words_are_refused(content, family):
    found = families(content)
    assert found.get(family) == "refuse", found


def test_an_assisting_clause_does_not_excuse_the_clause_that_hands_over_the_responsibility():
    # 协助 in the first clause, the responsibility in the second: refused
    mixed = "社区协助街道宣传垃圾不落地，由社区牵头负责辖区背街小巷保洁，保洁不到位的追究社区责任。"
    assert families(mixed)["responsible.environment"] == "refuse"
    # the area met only in a clause that reports a lead: no finding
    assert verdict("网格员负责日常走访，发现消防安全隐患及时上报消防救援站。").verdict == "clear"
    # a word inside a longer word is not an assisting word (乱张贴 holds 张贴)
    assert families("社区为辖区乱张贴问题整治的直接责任单位。")["responsible.urban_management"] == "refuse"


@pytest.mark.parametrize(("content", "title"), [
    # reducing verbs before a formalism word regulate it, they do not ask for it
    ("各部门不得以照片数量考核社区。", "县委社会工作部关于规范社区考核评比的通知"),
    ("除党中央和省委规定外，涉及社区的一票否决事项一律取消。", "县委社会工作部关于精简涉及社区一票否决事项的通知"),
    # 一律取消 cancels a list of targets: not a veto
    ("原下达至社区的协税护税指标一律取消。", ""),
    # institutions named after the community are not the community
    ("孕产妇建档随访由社区卫生服务中心负责实施，社区协助通知。", ""),
    ("辖区治安检查由社区民警负责，社区协助提供线索。", ""),
    # a listed hand-over: 由A、B依法实施
    ("检查、责令改正和处罚由县市场监管局、属地市场监管所依法实施，社区发现问题及时报告。", ""),
    # the responsible party named as a department
    ("城市管理、安全生产等事项的责任主体为相关职能部门，社区只承担协助职责。", ""),
    # a department or a policy named after what it does
    ("请社区协助张贴县招商引资优惠政策，发现投资意向转告县投资促进局。", "县投资促进局招商政策宣传"),
    ("社区协助税务部门宣传个人所得税汇算清缴政策。", ""),
    # 确保…不发生 is a target, the 不 does not negate; here the community only publicises
    ("社区协助宣传防火知识，提醒居民确保家中不发生火灾。", ""),
])
def test_regulating_reporting_and_other_actors_are_not_counted_against_the_request(content, title):
    v = verdict(content, title)
    assert v.verdict == "clear", v.findings


def test_a_target_of_nothing_happening_is_still_the_communitys_responsibility():
    assert families("社区要确保辖区不发生重大火灾事故。").get("responsible.work_safety") == "refuse"
    assert families("社区做好秸秆禁烧工作，确保辖区火点为零。").get("responsible.environment") == "refuse"


def test_a_flag_in_the_title_does_not_hide_a_refusal_in_the_content():
    v = verdict("社区协助推广城市定制型商业保险，每个社区参保不少于500人。", title="商业保险推广")
    assert v.verdict == "refuse", v.findings


def test_a_table_written_as_prose_is_read_by_its_responsible_unit():
    """附件 tables pasted as text: a requirement after the responsible unit's row is that unit's, not the
    community's; where the community is the responsible unit, or is itself told to punish, it is refused."""
    row = "附件：占道经营整治责任分解表 路段：解放路 责任单位：{lead} 配合单位：{helper} 整治要求：依法查处占道经营"
    assert verdict(row.format(lead="县城管执法局一中队", helper="解放路社区（协助宣传劝导）")).verdict != "refuse"
    assert verdict(row.format(lead="解放路社区", helper="县城管执法局一中队")).verdict == "refuse"
    assert verdict("责任单位：县城管执法局 配合单位：各社区 整治要求：社区负责查处并处以罚款").verdict == "refuse"
    # rows separated by 。； and the task's row before the responsible unit's: the table's unit still owns it
    assert verdict("任务：查处无证经营；责任单位：县市场监管局；配合单位：各社区（协助摸排）").verdict != "refuse"
    assert verdict("任务：查处无证经营；牵头单位：各社区；配合单位：县市场监管局").verdict == "refuse"
