"""Automatic screening of an admission request, before any person sees it.

What the matter asks is judged by the policy engine (service/policy/, policies/prohibitions.toml, with
the county's own rules); this module adds the declared-category rules (policies/admission_screening.csv)
and the fixed checks of DOMAIN.md: duplicates, missing basis, resources, notice period, report fields.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path
from typing import Any, Literal

import msgspec

from service.admission.schemas import AdmissionSubmission, Finding, Screening
from service.calendar.workdays import Calendar
from service.counties.schemas import CountySettings
from service.policy import digital
from service.policy.apply import finding_dict, judge
from service.policy.digital import DigitalAsk
from service.policy.engine import Engine
from service.registry import report_fields

RULES_FILE = "admission_screening.csv"
# pg_trgm similarity at which a listed item is shown to the reviewer as a possible duplicate
DUPLICATE_SIMILARITY = 0.45
_SPACE = re.compile(r"\s+")


class Rule(msgspec.Struct, frozen=True):
    rule: str
    match_type: str
    pattern: str
    severity: str
    message: str
    county_code: str | None = None


def read_rules_file(policies_dir: Path) -> list[Rule]:
    text = (policies_dir / RULES_FILE).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [Rule(rule=r["rule"], match_type=r["match_type"], pattern=r["pattern"], severity=r["severity"],
                 message=r["message"]) for r in csv.DictReader(io.StringIO("\n".join(lines)))]


def _normal(text: str) -> str:
    return _SPACE.sub("", text)


def screened_fields(submission: AdmissionSubmission) -> dict[str, str | None]:
    """The fields whose words the engine reads (spans point into them), each digital need's too."""
    fields = {"title": submission.title, "content": submission.content, "policy_area": submission.policy_area,
              "resources.authority": submission.resources.authority, "data_needs": submission.data_needs,
              "time_limit": submission.time_limit}
    for i, need in enumerate(submission.digital_needs):
        fields[f"digital_needs[{i}].name"] = need.name
        fields[f"digital_needs[{i}].description"] = need.description
    return fields


def digital_asks(submission: AdmissionSubmission) -> list[DigitalAsk]:
    """The apps, accounts and groups a request would put on communities, as declared: each need, and a
    request of kind `digital` itself (described by its needs of the same kind; without one, by nothing but
    its title: an app with no filing number)."""
    asks = [DigitalAsk(kind=n.kind, name=n.name, field=f"digital_needs[{i}]", owner=n.owner,
                       owner_level=n.owner_level, filing_number=n.filing_number, demands=tuple(n.demands))
            for i, n in enumerate(submission.digital_needs)]
    if submission.kind == "digital" and not any(a.kind == submission.list for a in asks):
        asks.append(DigitalAsk(kind=submission.list, name=submission.title, field="digital"))
    return asks


def screen(
    submission: AdmissionSubmission, *, rules: list[Rule], settings: CountySettings, calendar: Calendar,
    today: datetime.date, similar: list[Any], listed_reports: list[Any], engine: Engine | None = None,
    lang: str = "zh", submitter_level: str | None = None,
) -> Screening:
    """`similar`: registry SimilarItem-like objects; `listed_reports`: ListedItem-like report forms."""
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def add(rule: str, severity: str, message: str, cited: dict[str, Any] | None = None) -> None:
        if (rule, message) not in seen:
            seen.add((rule, message))
            findings.append(Finding(rule=rule, severity=severity, message=message, cited=cited))  # type: ignore[arg-type]

    declared = f"{submission.kind}:{submission.list}"
    for rule in sorted(rules, key=lambda r: r.severity != "refuse"):
        if rule.match_type == "category" and rule.pattern in (declared, submission.list):
            add(rule.rule, rule.severity, rule.message, {"declared": declared})

    verdict = judge(screened_fields(submission), role=submission.community_role, engine=engine)
    # apps, accounts and groups: what is declared, by the rules of policies/digital.toml
    verdict = digital.combined(verdict, digital.findings(digital_asks(submission), submitter_level=submitter_level))
    for f in verdict.findings:
        cited = finding_dict(f, lang)
        findings.append(Finding(rule=f.family, severity=f.severity, message=cited.pop("message"),  # type: ignore[arg-type]
                                cited={"rule_id": cited["rule_id"], **({"county_code": f.county_code}
                                                                       if f.county_code else {})},
                                documents=cited["documents"], span=cited["span"]))

    for item in similar:
        if item.similarity >= DUPLICATE_SIMILARITY:
            add("admission.duplicate", "flag",
                f"与已列入清单的事项“{item.title}”（{item.scope} / {item.code}）相似，可能重复。",
                {"scope": item.scope, "code": item.code, "title": item.title, "list": item.list,
                 "similarity": item.similarity})

    if not (submission.basis and submission.basis.strip()):
        add("admission.missing-basis", "flag", "未填写法律或政策依据。")
    if submission.community_role == "assisting" and not submission.resources.any_given():
        add("admission.assisting-without-resources", "flag",
            "协助事项未随事项转移经费、人员或权限（权随责走、费随事转、人随事转）。")
    ahead = calendar.working_days_between(today, submission.start_date)
    if ahead < settings.notice_working_days:
        add("admission.notice-period", "flag",
            f"开始日期 {submission.start_date} 距今仅 {max(ahead, 0)} 个工作日，少于本县要求的提前 "
            f"{settings.notice_working_days} 个工作日。",
            {"working_days_ahead": ahead, "required": settings.notice_working_days})
    if submission.end_date is not None and submission.end_date < submission.start_date:
        add("admission.end-before-start", "flag", "结束日期早于开始日期。")

    if submission.report_form is not None:
        # fields by meaning, not spelling (service/registry/report_fields.py, policies/report_fields.csv)
        for form in report_fields.overlaps(submission.report_form.fields, listed_reports):
            pairs = "、".join(o.asked if o.asked == o.listed else f"{o.asked}（即“{o.listed}”）" for o in form.fields)
            add("admission.report-fields-collected", "flag",
                f"报表字段 {pairs} 已由清单内报表“{form.title}”（{form.code}）采集，应一次采集、多方利用，"
                "请从该报表取用。",
                {"scope": form.scope, "code": form.code, "title": form.title, "department": form.department,
                 "fields": sorted({o.listed for o in form.fields}), "overlaps": msgspec.to_builtins(form.fields)})

    outcome: Literal["clear", "flagged", "refused"] = (
        "refused" if any(f.severity == "refuse" for f in findings) else "flagged" if findings else "clear")
    return Screening(verdict=outcome, findings=findings)
