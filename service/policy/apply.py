"""How the other areas ask the engine: one verdict for a matter's fields, the same everywhere.

- `judge(fields, role, engine)`: the engine's verdict, after checking the text is text (no NUL,
  control characters, lone surrogates; at most MAX_FIELD characters), a 422 naming the field otherwise.
- `refusal(verdict, ...)`: the 422 a county reviewer, an approval or an import row gets, with the
  rule, the document and the span.
- `county_engine(conn, county)`: the national engine with the county's own rules (screening_rule rows
  of match_type 'policy' or 'phrase'), kept per process and cleared by the `screening_rules` topic.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

import asyncpg

from service.core.errors import InvalidParam, ValidationFailed
from service.policy import queries
from service.policy.engine import Engine, Finding, PolicyError, Verdict, default_engine, engine_for

MAX_FIELD = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
COUNTY_TTL_S = 60.0


def language(accept_language: str | None) -> str:
    return "en" if accept_language and accept_language.strip().lower().startswith("en") else "zh"


def check_text(name: str, value: str | None) -> None:
    """A field the engine reads must be text: a 422 naming it otherwise (never a 500)."""
    if not value:
        return
    if len(value) > MAX_FIELD:
        raise ValidationFailed.field(name, f"字段 {name} 过长（{len(value)} 字，至多 {MAX_FIELD} 字）",
                                     rule="policy.text-too-long")
    bad = _CONTROL.search(value)
    if bad is not None:
        raise ValidationFailed.field(name, f"字段 {name} 含有控制字符或无效字符（第 {bad.start() + 1} 个字符，"
                                     f"U+{ord(bad.group()):04X}）", rule="policy.text-invalid")


def judge(fields: Mapping[str, str | None], *, role: str | None, engine: Engine | None = None) -> Verdict:
    for name, value in fields.items():
        check_text(name, value)
    return (engine or default_engine()).evaluate(fields, role=role)


def documents_of(rule: str) -> list[dict[str, Any]] | None:
    """The national rules' documents for a rule id or family, as a finding carries them (None: not a policy rule)."""
    docs = default_engine().documents_of(rule)
    if not docs and rule.startswith("digital."):  # a declared app, account or group (policies/digital.toml)
        from service.policy.digital import rules as digital_rules

        docs = digital_rules().documents_of(rule)
    return [d.as_dict() for d in docs] or None


def finding_dict(f: Finding, lang: str = "zh") -> dict[str, Any]:
    out = {"rule": f.family, "rule_id": f.rule, "severity": f.severity, "message": f.message_in(lang),
           **f.citation()}
    if f.county_code:
        out["county_code"] = f.county_code
    return out


def refusal(verdict: Verdict, *, prefix: str = "", lang: str = "zh") -> ValidationFailed | None:
    """The 422 for a matter the engine refuses: the rule (family) as the problem's rule, the documents
    and spans in `extra`, one invalid param per refused field."""
    refused = verdict.refused
    if not refused:
        return None
    first = refused[0]
    docs = "；".join(" ".join(x for x in (d.title, d.number, d.clause and f"（{d.clause}）") if x)
                    for d in first.documents)
    detail = f"{first.message_in(lang)}" + (f" 依据：{docs}" if docs and lang != "en" else
                                           (f" Basis: {docs}" if docs else ""))
    params = [InvalidParam(name=f"{prefix}{f.span.field}", reason=f.message_in(lang), rule=f.family) for f in refused]
    error = ValidationFailed(detail, invalid_params=params, rule=first.family,
                             extra={"findings": [finding_dict(f, lang) for f in refused]})
    return error


# ---- a county's own rules ----

class CountyRules:
    def __init__(self) -> None:
        self._held: dict[str, tuple[float, Engine]] = {}

    def clear(self) -> None:
        self._held.clear()

    async def on_change(self, _pool: asyncpg.Pool) -> None:
        self.clear()

    def held(self, county_code: str) -> Engine | None:
        """The county's engine if this process holds it fresh (no database trip)."""
        held = self._held.get(county_code)
        return held[1] if held is not None and held[0] > time.monotonic() else None

    async def engine(self, conn: asyncpg.Connection, county_code: str | None, *, ttl_s: float = COUNTY_TTL_S) -> Engine:
        if not county_code or len(county_code) != 6:
            return default_engine()
        now = time.monotonic()
        held = self._held.get(county_code)
        if held is not None and held[0] > now:
            return held[1]
        rows = await conn.fetch(queries.COUNTY_RULES, county_code)
        engine = engine_for([(county_code, rule_definition(r)) for r in rows])
        if ttl_s > 0:
            self._held[county_code] = (now + ttl_s, engine)
        return engine


COUNTY_RULES = CountyRules()


def rule_definition(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored county rule as the engine's form: a 'policy' row carries it; a 'phrase' row is one word."""
    definition = row.get("definition")
    if definition:
        return dict(definition)
    if row["match_type"] == "responsible_area":
        return {"id": row["rule"], "when_role": "responsible", "scope": "clause", "all": [[row["pattern"]]],
                "severity": row["severity"], "message": row["message"], "examples": {"match": [row["pattern"]]}}
    return {"id": row["rule"], "all": [[row["pattern"]]], "severity": row["severity"], "message": row["message"],
            "examples": {"match": [row["pattern"]]}}


MAX_EXAMPLES = 50


def _strings(value: Any, path: str) -> None:
    """Every string of a rule's definition must be text (it is stored as JSON)."""
    if isinstance(value, str):
        check_text(path, value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _strings(k, path)
            _strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _strings(v, f"{path}[{i}]")


def validate_county_rule(raw: Mapping[str, Any], *, county_code: str) -> None:
    """Raises a 422 naming the rule and the failing example when a county rule does not hold."""
    from service.policy.engine import county_rule

    _strings(dict(raw), "definition")
    examples = raw.get("examples")
    if isinstance(examples, Mapping) and sum(len(v) for v in examples.values() if isinstance(v, list)) > MAX_EXAMPLES:
        raise ValidationFailed.field("definition.examples", f"示例过多（至多 {MAX_EXAMPLES} 个）",
                                     rule="policy.rule-invalid")
    try:
        county_rule(raw, county_code=county_code)
    except PolicyError as exc:
        name = "definition.examples" if exc.example is not None else "definition"
        error = ValidationFailed.field(name, str(exc), rule="policy.rule-invalid")
        error.rule = "policy.rule-invalid"
        error.extra = {"rule": exc.rule, "example": exc.example}
        raise error from exc
