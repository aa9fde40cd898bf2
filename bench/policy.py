"""The policy engine's figures: `matter-registry policy evaluate` on the labelled corpus, and the time to
screen one submission in process at a county list of 360 items (target: p95 <= 2 ms).

    .venv/bin/python -m bench.policy [--corpus tests/data/policy_corpus.jsonl] [--runs 2000] [--json]

The timing covers what screening does in memory: the engine on the matter's fields (with the county's
rules), the duplicate search over 360 listed items (the in-memory trigram index of
service/registry/similar.py) and the fixed checks of service/admission/screening.py. The corpus's
submissions are screened in turn, so the texts vary as they would.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from service.admission.schemas import AdmissionSubmission
from service.admission.screening import screen
from service.calendar.workdays import Calendar
from service.core.settings import PROJECT_ROOT
from service.counties.schemas import CountySettings
from service.policy.engine import default_engine
from service.policy.evaluate import evaluate, read_cases
from service.registry.schemas import SimilarItem
from service.registry.similar import ScopeIndex, trigrams

MATTERS = ["城乡居民医保参保登记", "独居老人探访", "困难群众临时救助线索报告", "防汛应急演练", "消防安全宣传",
           "人口普查入户登记", "退役军人信息采集", "垃圾分类宣传", "文明养犬宣传", "反诈宣传", "残疾人证办理",
           "就业困难人员登记", "适龄儿童入学摸底", "燃气泄漏线索报告", "违建线索报告", "禁毒宣传"]


def county_list(n: int = 360) -> ScopeIndex:
    rng = random.Random(13)
    rows = []
    for i in range(n):
        matter = MATTERS[i % len(MATTERS)]
        rows.append({"scope": "national" if i < 120 else "430121", "code": f"B-{i:04d}", "kind": "task",
                     "list": rng.choice(["duty", "assisting"]), "title": f"协助开展{matter}（第{i}项）",
                     "content": f"社区协助有关部门开展{matter}，发现情况及时报告，第{i}项工作说明。"})
    return ScopeIndex(rows)  # type: ignore[arg-type]


def timing(corpus: Path, runs: int) -> dict[str, Any]:
    engine = default_engine()
    index = county_list()
    cases = read_cases(corpus)
    today = datetime.date(2026, 12, 3)
    calendar = Calendar(holidays=frozenset(), workdays=frozenset())
    settings = CountySettings()
    submissions = [AdmissionSubmission(
        kind="task", list="assisting", title=c.title[:200] or "事项", content=c.content[:4000], targets=["430121"],
        community_role=c.role if c.role in ("responsible", "assisting") else "assisting", basis="《某某办法》",
        start_date=today + datetime.timedelta(days=90), justification="基准测试") for c in cases]
    times = []
    verdicts: dict[str, int] = {}
    for n in range(runs):
        sub = submissions[n % len(submissions)]
        started = time.perf_counter()
        scores = index.scores(trigrams(sub.title), trigrams(sub.content or sub.title))
        best = sorted(scores.items(), key=lambda x: -x[1])[:5]
        similar = [SimilarItem(scope=index.items[i][0], code=index.items[i][1], title=index.items[i][2],
                               list=index.items[i][3], kind=index.items[i][4], similarity=round(s, 4))
                   for i, s in best]
        result = screen(sub, rules=[], settings=settings, calendar=calendar, today=today, similar=similar,
                        listed_reports=[], engine=engine)
        times.append(time.perf_counter() - started)
        verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
    q = statistics.quantiles(times, n=100)
    return {"county_list_items": len(index.items), "runs": runs, "p50_ms": round(q[49] * 1000, 3),
            "p95_ms": round(q[94] * 1000, 3), "p99_ms": round(q[98] * 1000, 3), "target_p95_ms": 2.0,
            "meets_target": q[94] * 1000 <= 2.0, "verdicts": verdicts}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.policy")
    p.add_argument("--corpus", default=str(PROJECT_ROOT / "tests" / "data" / "policy_corpus.jsonl"))
    p.add_argument("--runs", type=int, default=2000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    corpus = Path(args.corpus)
    report = evaluate(read_cases(corpus)).as_dict()
    out = {"corpus": str(corpus.relative_to(PROJECT_ROOT)) if corpus.is_relative_to(PROJECT_ROOT) else str(corpus),
           "cases": report["cases"], "prohibited": report["prohibited"], "allowed": report["allowed"],
           "rates": report["rates"], "meets_targets": report["meets_targets"],
           "per_rule": {k: {x: v[x] for x in ("cases", "precision", "recall")} for k, v in report["per_rule"].items()},
           "disagreements": len(report["disagreements"]), "screening": timing(corpus, args.runs)}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        r, t = out["rates"], out["screening"]
        print(f"policy corpus {out['cases']} cases: caught {r['caught']:.1%}, refused {r['refused']:.1%}, "
              f"legitimate refused {r['legitimate_refused']:.1%}, legitimate flagged {r['legitimate_flagged']:.1%}, "
              f"precision {r['precision']:.1%}; disagreements {out['disagreements']}")
        print(f"screening one submission at {t['county_list_items']} listed items: p50 {t['p50_ms']} ms, "
              f"p95 {t['p95_ms']} ms, p99 {t['p99_ms']} ms ({t['runs']} runs)")
    return 0 if out["meets_targets"] and out["screening"]["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
