"""`matter-registry policy evaluate FILE.jsonl`: the engine against a labelled corpus.

Each line: {"title", "content", "role": "responsible"|"assisting", "expect": "prohibited"|"allowed",
"rule": <rule family or null>, "also": [other families it legitimately hits]}. A prohibited case is
caught when the engine refuses or flags it; per rule family, a case is predicted positive when a
finding of that family is among the engine's findings (a family named in the case's `also` is not
counted as a false positive).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.policy.engine import FAMILIES, Engine, default_engine

TARGETS = {"caught": 0.97, "refused": 0.85, "legitimate_refused": 0, "legitimate_flagged": 0.08}


@dataclass
class Case:
    line: int
    title: str
    content: str
    role: str
    expect: str
    rule: str | None
    also: tuple[str, ...] = ()


@dataclass
class Report:
    cases: int = 0
    prohibited: int = 0
    allowed: int = 0
    caught: int = 0
    refused: int = 0
    legitimate_refused: int = 0
    legitimate_flagged: int = 0
    per_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def rates(self) -> dict[str, float]:
        p, a = max(self.prohibited, 1), max(self.allowed, 1)
        caught_total = self.caught + self.legitimate_refused + self.legitimate_flagged
        return {
            "caught": self.caught / p, "refused": self.refused / p,
            "legitimate_refused": self.legitimate_refused / a, "legitimate_flagged": self.legitimate_flagged / a,
            "precision": self.caught / caught_total if caught_total else 1.0,
        }

    def meets_targets(self) -> bool:
        r = self.rates()
        return (r["caught"] >= TARGETS["caught"] and r["refused"] >= TARGETS["refused"]
                and self.legitimate_refused == 0 and r["legitimate_flagged"] <= TARGETS["legitimate_flagged"])

    def as_dict(self) -> dict[str, Any]:
        per_rule = {}
        for rule, c in sorted(self.per_rule.items()):
            tp, fp, fn = c["tp"], c["fp"], c["fn"]
            per_rule[rule] = {"cases": c["cases"], "tp": tp, "fp": fp, "fn": fn,
                              "precision": round(tp / (tp + fp), 4) if tp + fp else None,
                              "recall": round(tp / (tp + fn), 4) if tp + fn else None}
        return {"cases": self.cases, "prohibited": self.prohibited, "allowed": self.allowed,
                "rates": {k: round(v, 4) for k, v in self.rates().items()}, "targets": TARGETS,
                "meets_targets": self.meets_targets(), "per_rule": per_rule,
                "disagreements": self.disagreements, "ms_per_case": round(1000 * self.seconds / max(self.cases, 1), 3)}


def read_cases(path: Path) -> list[Case]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: not JSON: {exc}") from exc
        if raw.get("expect") not in ("prohibited", "allowed"):
            raise ValueError(f"{path}:{n}: expect must be prohibited or allowed")
        cases.append(Case(line=n, title=str(raw.get("title") or ""), content=str(raw.get("content") or ""),
                          role=str(raw.get("role") or "assisting"), expect=raw["expect"], rule=raw.get("rule"),
                          also=tuple(raw.get("also") or ())))
    return cases


def evaluate(cases: Iterable[Case], engine: Engine | None = None) -> Report:
    engine = engine or default_engine()
    report = Report()
    families = set(FAMILIES)
    for case in cases:
        if case.rule:
            families.add(case.rule)
    for f in families:
        report.per_rule[f] = {"cases": 0, "tp": 0, "fp": 0, "fn": 0}
    started = time.perf_counter()
    for case in cases:
        verdict = engine.evaluate({"title": case.title, "content": case.content}, role=case.role)
        found = {f.family for f in verdict.findings}
        report.cases += 1
        entry = {"line": case.line, "title": case.title, "content": case.content, "role": case.role,
                 "expect": case.expect, "rule": case.rule, "verdict": verdict.verdict,
                 "found": [f"{f.rule}:{f.severity}:{f.span.field}[{f.span.start}:{f.span.end}]"
                           for f in verdict.findings]}
        if case.expect == "prohibited":
            report.prohibited += 1
            if verdict.verdict != "clear":
                report.caught += 1
            if verdict.verdict == "refuse":
                report.refused += 1
            if verdict.verdict != "refuse":
                why = "missed" if verdict.verdict == "clear" else "flagged only"
                report.disagreements.append({**entry, "why": why})
            elif case.rule and case.rule not in found and not found & set(case.also):
                report.disagreements.append({**entry, "why": "refused under another rule"})
        else:
            report.allowed += 1
            if verdict.verdict == "refuse":
                report.legitimate_refused += 1
                report.disagreements.append({**entry, "why": "legitimate refused"})
            elif verdict.verdict == "flag":
                report.legitimate_flagged += 1
                report.disagreements.append({**entry, "why": "legitimate flagged"})
        actual = case.rule if case.expect == "prohibited" else None
        if actual:
            report.per_rule[actual]["cases"] += 1
        for f in families:
            predicted = f in found
            if predicted and actual == f:
                report.per_rule[f]["tp"] += 1
            elif predicted and f not in case.also:
                report.per_rule[f]["fp"] += 1
            elif actual == f:
                report.per_rule[f]["fn"] += 1
    report.seconds = time.perf_counter() - started
    return report


def render(report: Report) -> str:
    d = report.as_dict()
    r = d["rates"]
    lines = [
        f"cases {d['cases']}: {d['prohibited']} prohibited, {d['allowed']} allowed",
        f"prohibited caught (refused or flagged): {r['caught']:.1%}   (target >= 97%)",
        f"prohibited refused outright:            {r['refused']:.1%}   (target >= 85%)",
        f"legitimate refused: {report.legitimate_refused} ({r['legitimate_refused']:.1%})   (target 0)",
        f"legitimate flagged: {report.legitimate_flagged} ({r['legitimate_flagged']:.1%})   (target <= 8%)",
        f"overall precision (prohibited among caught): {r['precision']:.1%}",
        f"meets the targets: {'yes' if d['meets_targets'] else 'NO'}   ({d['ms_per_case']} ms per case)",
        "",
        f"{'rule':32} {'cases':>5} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}",
    ]
    for rule, c in d["per_rule"].items():
        p = "-" if c["precision"] is None else f"{c['precision']:.1%}"
        rc = "-" if c["recall"] is None else f"{c['recall']:.1%}"
        lines.append(f"{rule:32} {c['cases']:>5} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} {p:>9} {rc:>7}")
    lines.append("")
    lines.append(f"disagreements: {len(d['disagreements'])}")
    for x in d["disagreements"]:
        lines.append(f"  line {x['line']} [{x['why']}] expect {x['expect']} {x['rule'] or ''} role {x['role']} -> "
                     f"{x['verdict']} {', '.join(x['found']) or '-'}")
        lines.append(f"      {x['title']} | {x['content']}")
    return "\n".join(lines)
