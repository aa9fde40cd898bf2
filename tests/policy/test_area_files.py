"""Area rule files (policies/digital.toml) join the one engine: their rules are read like the main file's, a
broken area file stops the load naming it, and the declared-field checks of the digital file are proved."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from service.policy import digital
from service.policy.engine import PolicyError, default_engine, load

POLICIES = Path(default_engine.__code__.co_filename).parents[2] / "policies"


def test_the_digital_rules_are_in_the_default_engine_with_their_documents():
    engine = default_engine()
    ids = {r.id for r in engine.rules}
    assert {"digital.group-round-the-clock", "digital.group-reply-minutes"} <= ids
    verdict = engine.evaluate({"content": "各社区工作人员须在工作群内24小时在线。"}, role="assisting")
    assert verdict.verdict == "refuse"
    assert verdict.refused[0].family == "digital.group-round-the-clock"
    assert verdict.refused[0].documents[0].title == "关于加强社区工作者队伍建设的意见"
    assert engine.evaluate({"content": "不得要求社区工作者在工作群内24小时在线。"}, role="assisting").verdict == "clear"


def test_an_area_file_that_redefines_a_document_or_breaks_an_example_stops_the_load(tmp_path: Path):
    shutil.copy(POLICIES / "prohibitions.toml", tmp_path / "prohibitions.toml")
    text = (POLICIES / "digital.toml").read_text(encoding="utf-8")
    (tmp_path / "digital.toml").write_text(text + '\n[documents.apps-2026]\ntitle = "别的文件"\nissuer = "x"\n'
                                           'date = "2026-01-01"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"documents\.apps-2026"):
        load(tmp_path / "prohibitions.toml")
    broken = text.replace('"社区在微信群发布通知。"', '"社区工作者须在工作群内24小时在线。"', 1)
    assert broken != text
    (tmp_path / "digital.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load(tmp_path / "prohibitions.toml")
    assert refused.value.rule == "digital.group-round-the-clock"
    # without the area file beside it, the main file loads alone
    (tmp_path / "digital.toml").unlink()
    assert not any(r.id.startswith("digital.") for r in load(tmp_path / "prohibitions.toml").rules)


def test_every_demand_the_api_accepts_has_a_check_and_a_check_needs_its_documents():
    data = tomllib.loads((POLICIES / "digital.toml").read_text(encoding="utf-8"))
    documents = {**tomllib.loads((POLICIES / "prohibitions.toml").read_text(encoding="utf-8"))["documents"],
                 **data["documents"]}
    held = digital.parse(data, documents=documents)
    assert {c.when for c in held.checks} >= {f"demand:{d}" for d in digital.DEMANDS}
    without = {**data, "checks": [c for c in data["checks"] if c["when"] != "demand:online_time"]}
    with pytest.raises(PolicyError, match="online_time"):
        digital.parse(without, documents=documents)
    undocumented = {**data, "checks": [{**data["checks"][0], "documents": ["no-such-document"]}]}
    with pytest.raises(PolicyError, match="no-such-document"):
        digital.parse(undocumented, documents=documents)


@pytest.mark.parametrize(("owner", "declared", "level"), [
    ("星沙街道办事处", "county", "street"),  # the name says lower: it wins
    ("松雅社区居民委员会", None, "community"),
    ("湖南省人民政府办公厅", "province", "province"),
    (None, None, "street"),  # nothing said: the submitter's level
])
def test_an_apps_owner_is_placed_by_the_lower_of_its_declared_level_and_its_name(owner, declared, level):
    ask = digital.DigitalAsk(kind="app", name="某应用", field="digital_needs[0]", owner=owner, owner_level=declared)
    assert digital.owner_level(ask, submitter_level="street") == level
