"""The whole labelled corpus (tests/data/policy_corpus.jsonl) against the figures of issue 13."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.policy.evaluate import evaluate, read_cases, render

CORPUS = Path(__file__).resolve().parents[1] / "data" / "policy_corpus.jsonl"


def test_the_corpus_meets_the_figures():
    cases = read_cases(CORPUS)
    assert len(cases) >= 400
    report = evaluate(cases)
    rates = report.rates()
    summary = render(report)
    assert rates["caught"] >= 0.97, summary
    assert rates["refused"] >= 0.85, summary
    assert report.legitimate_refused == 0, summary
    assert rates["legitimate_flagged"] <= 0.08, summary


def test_every_rule_family_is_in_the_corpus_and_caught():
    report = evaluate(read_cases(CORPUS)).as_dict()
    for family in ("responsible.enforcement", "responsible.demolition", "responsible.environment",
                   "responsible.urban_management", "responsible.work_safety", "power.enforcement", "economic.target",
                   "pledge", "veto", "paper_trail"):
        row = report["per_rule"][family]
        assert row["cases"] >= 15, family
        assert row["recall"] >= 0.85, (family, row)


def test_cases_written_apart_from_the_corpus_meet_the_figures_too():
    """tests/policy/extra_cases.jsonl: 76 cases written by the engine's author after the rules, as a check
    that the rules read the policy rather than the corpus's wording."""
    report = evaluate(read_cases(Path(__file__).with_name("extra_cases.jsonl")))
    summary = render(report)
    assert report.legitimate_refused == 0, summary
    assert report.rates()["caught"] >= 0.97, summary


@pytest.mark.parametrize("name", ["heldout_c.jsonl", "heldout_d.jsonl", "heldout_e.jsonl"])
def test_the_later_held_out_sets_stay_at_the_figures_they_were_brought_to(name):
    """tests/policy/heldout_c.jsonl (126 cases), heldout_d.jsonl (124: chat messages, tables as prose,
    euphemisms) and heldout_e.jsonl (117: scored assessment rules, numbered task lists, ledgers): each
    written in full before the engine was run on it (docs/policy.md, Figures). Measured
    once as held out, then the rules were corrected on its disagreements: kept here so that a later change
    of the rules cannot undo that."""
    report = evaluate(read_cases(Path(__file__).with_name(name)))
    summary = render(report)
    assert report.legitimate_refused == 0, summary
    assert report.rates()["caught"] >= 0.97, summary
    assert report.rates()["refused"] >= 0.85, summary
