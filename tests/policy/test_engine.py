"""The policy engine on its own: who is asked to do what, negation and scope, spans, rules as data."""

from __future__ import annotations

import statistics
import time
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


def test_judging_a_submission_takes_under_two_milliseconds_at_p95():
    engine = default_engine()
    title = "关于做好辖区燃气安全隐患排查整治工作的通知"
    content = ("为切实做好辖区燃气安全工作，请各社区协助县住房和城乡建设局开展瓶装液化气用户安全宣传，"
               "发现隐患及时报告燃气主管部门，由其依法处理；不以拍照上传、工作群打卡等方式考核社区。")
    rounds = []
    for _ in range(3):  # the machine is shared: the best of three rounds
        times = []
        for _ in range(200):
            started = time.perf_counter()
            engine.evaluate({"title": title, "content": content}, role="assisting")
            times.append(time.perf_counter() - started)
        rounds.append(statistics.quantiles(times, n=20)[-1])
    assert min(rounds) < 0.002, rounds


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
