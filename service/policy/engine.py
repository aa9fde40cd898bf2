"""The policy engine: what a matter asks the community to do, in which role, with which power, in which area.

Every prohibition is written once, in policies/prohibitions.toml (a county's own rules take the same
form through POST /api/v1/screening-rules). A rule is a set of word groups (each may be a named
lexicon, `@name`); it matches a stretch of text (a clause, or a sentence) when a word of every group
occurs there in a clause that asks the community itself to act and is not negated. How a clause is
read:

- the text is split into sentences (。；;！？ and line ends) and clauses (，,：:);
- a clause's actor is the community unless its subject (the words before its first predicate) names
  another actor (a bureau, a department, the street office, residents...), or it hands the matter on
  ("由城管部门依法查处", "报告执法部门处理": the words after the hand-over belong to that actor); a
  clause without a subject keeps the actor of the clause before it in the same sentence;
- a prohibitive cue (不得, 严禁, 不以, 不要求, 无需, ...) negates what follows it in the clause; a bare
  不/未 negates what follows unless a 的 intervenes (对未签订责任书的社区 is still about pledges); a cue
  after a word (…一律取消) negates it too; words that only look negative (不低于, 不定期) are not cues;
- `unless` words (publicity, reporting a lead, assisting) in the same stretch lower a rule's severity
  to its `unless_severity`, or drop it; `when_role = "responsible"` rules are read only when the
  declared role is responsible; `topic` groups may be met anywhere in the matter (its title).

Loaded once per process (`default_engine()`); each rule's examples are run at load and a rule whose
examples fail is refused with an error naming it (PolicyError).
"""

from __future__ import annotations

import bisect
import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick

from service.policy.text import Clause, Normalised, clauses, normalise

POLICY_FILE = "prohibitions.toml"
FAMILIES = ("responsible.enforcement", "responsible.demolition", "responsible.environment",
            "responsible.urban_management", "responsible.work_safety", "power.enforcement", "economic.target",
            "pledge", "veto", "paper_trail")
SEVERITIES = ("refuse", "flag")
GENERAL_AREA = "responsible.enforcement"
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
MAX_TERM = 50
MAX_TERMS = 400
_SEVERITY_RANK = {"refuse": 2, "flag": 1}


class PolicyError(ValueError):
    """A rule that does not parse or whose examples fail; names the rule and the example."""

    def __init__(self, message: str, *, rule: str | None = None, example: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.example = example


@dataclass(frozen=True, slots=True)
class Document:
    key: str
    title: str
    issuer: str
    date: str
    number: str | None = None
    clause: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"title": self.title, "issuer": self.issuer, "date": self.date, "number": self.number,
               "clause": self.clause}
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Span:
    field: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    family: str
    severity: str
    message: str
    message_en: str
    documents: tuple[Document, ...]
    span: Span
    county_code: str | None = None

    def message_in(self, lang: str) -> str:
        return self.message_en if lang == "en" and self.message_en else self.message

    def citation(self) -> dict[str, Any]:
        return {"documents": [d.as_dict() for d in self.documents],
                "span": {"field": self.span.field, "start": self.span.start, "end": self.span.end,
                         "text": self.span.text}}


@dataclass(frozen=True, slots=True)
class Verdict:
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> str:
        if any(f.severity == "refuse" for f in self.findings):
            return "refuse"
        return "flag" if self.findings else "clear"

    @property
    def refused(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "refuse")

    def first(self) -> Finding | None:
        return self.refused[0] if self.refused else (self.findings[0] if self.findings else None)


@dataclass(slots=True)
class Group:
    terms: tuple[str, ...]
    regexes: tuple[re.Pattern[str], ...] = ()
    topic: bool = False


@dataclass(slots=True)
class Rule:
    id: str
    family: str
    severity: str
    groups: list[Group]
    message: str
    message_en: str
    documents: tuple[Document, ...]
    scope: str = "sentence"
    unless: Group | None = None
    unless_severity: str | None = None
    unless_scope: str = "sentence"
    when_role: str | None = None
    actor: str = "community"
    examples_match: list[dict[str, str]] = field(default_factory=list)
    examples_no_match: list[dict[str, str]] = field(default_factory=list)
    county_code: str | None = None
    source: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Hit:
    start: int
    end: int
    term: str
    clause: int = -1


@dataclass(slots=True)
class _Field:
    name: str
    norm: Normalised
    clauses: list[Clause]
    starts: list[int]
    hits: list[_Hit]
    live: list[bool]  # per hit: in a community clause, not negated, not handed to another actor
    free: list[bool]  # per hit: not negated
    inner: list[bool] = field(default_factory=list)  # per hit: inside a longer word (张贴 in 乱张贴)


# ---- loading ----

_CLASS = re.compile(r"\[(\^?)((?:\\.|[^\]\\])*)\]")


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A rule's regular expression, read against the normalised text: a character class written with full-width
    punctuation ([^，。；]) also holds its NFKC form ([^，,。；;]), as the text it reads has been folded."""
    def fold(m: re.Match[str]) -> str:
        body = m.group(2)
        extra = "".join(sorted({f for ch in body if (f := unicodedata.normalize("NFKC", ch)) != ch
                                and len(f) == 1 and f not in body and f not in "\\]^-"}))
        return f"[{m.group(1)}{body}{re.escape(extra) if extra else ''}]"
    return re.compile(_CLASS.sub(fold, pattern))


def _as_list(value: Any, what: str, rule: str | None) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"规则 {rule}：{what} 须为字符串或字符串数组", rule=rule)
    return list(value)


class Config:
    """The reading machinery shared by every rule: lexicons, negation cues, actors, shields."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.lexicon: dict[str, list[str]] = {k: _as_list(v, f"lexicon.{k}", None)
                                              for k, v in (data.get("lexicon") or {}).items()}
        reading = data.get("reading") or {}
        self.prohibitive = _as_list(reading.get("prohibitive", []), "reading.prohibitive", None)
        self.relative = _as_list(reading.get("relative", []), "reading.relative", None)
        self.post = _as_list(reading.get("post", []), "reading.post", None)
        self.not_negation = _as_list(reading.get("not_negation", []), "reading.not_negation", None)
        self.shields = _as_list(reading.get("shields", []), "reading.shields", None)
        self.community = _as_list(reading.get("community", []), "reading.community", None)
        self.not_community = _as_list(reading.get("not_community", []), "reading.not_community", None)
        self.reduce = _as_list(reading.get("reduce", []), "reading.reduce", None)
        self.reduce_families = _as_list(reading.get("reduce_families", []), "reading.reduce_families", None)
        self.reduce_reach = int(reading.get("reduce_reach", 10))
        self.others = _as_list(reading.get("others", []), "reading.others", None)
        self.predicates = _as_list(reading.get("predicates", []), "reading.predicates", None)
        handover = _as_list(reading.get("handover", []), "reading.handover", None)
        try:
            self.handover = [compile_pattern(p) for p in handover]
        except re.error as exc:
            raise PolicyError(f"reading.handover 的正则表达式无法解析：{exc}") from exc
        self.strip_lead = _as_list(reading.get("strip_lead", []), "reading.strip_lead", None)
        try:
            self.to_community = [compile_pattern(p) for p in _as_list(reading.get("to_community", []),
                                                                 "reading.to_community", None)]
        except re.error as exc:
            raise PolicyError(f"reading.to_community 的正则表达式无法解析：{exc}") from exc
        self.documents: dict[str, Document] = {}
        for key, d in (data.get("documents") or {}).items():
            try:
                self.documents[key] = Document(key=key, title=d["title"], issuer=d["issuer"], date=str(d["date"]),
                                               number=d.get("number"), clause=d.get("clause"))
            except (KeyError, TypeError) as exc:
                raise PolicyError(f"文件 documents.{key} 缺少 title、issuer 或 date") from exc

    def expand(self, values: Iterable[str], rule: str) -> tuple[list[str], list[re.Pattern[str]]]:
        terms: list[str] = []
        regexes: list[re.Pattern[str]] = []
        for v in values:
            if v.startswith("@"):
                if v[1:] not in self.lexicon:
                    raise PolicyError(f"规则 {rule}：未定义的词表 {v}", rule=rule)
                more_terms, more_regexes = self.expand(self.lexicon[v[1:]], rule)
                terms.extend(more_terms)
                regexes.extend(more_regexes)
                continue
            elif v.startswith("re:"):
                try:
                    regexes.append(compile_pattern(v[3:]))
                except re.error as exc:
                    raise PolicyError(f"规则 {rule}：正则表达式 {v[3:]} 无法解析：{exc}", rule=rule) from exc
            else:
                terms.append(v)
        out = []
        for t in terms:
            n = normalise(t).text if not t.startswith("\x00") else t
            if not n or len(n) > MAX_TERM:
                raise PolicyError(f"规则 {rule}：词语“{t}”为空或超过 {MAX_TERM} 字", rule=rule)
            out.append(n)
        return out, regexes


def _example(value: Any, rule: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"title": "", "content": value}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()) and (
            set(value) <= {"title", "content", "role"}):
        return {"title": value.get("title", ""), "content": value.get("content", ""), **(
            {"role": value["role"]} if "role" in value else {})}
    raise PolicyError(f"规则 {rule}：示例须为字符串或 {{title, content, role}}", rule=rule)


def parse_rule(raw: Mapping[str, Any], config: Config, *, county_code: str | None = None,
               allow_regex: bool = True) -> Rule:
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise PolicyError(f"规则编号 {rule_id!r} 无效（小写字母、数字、点、下划线、连字符，3 至 80 字）",
                          rule=str(rule_id))
    known = {"id", "family", "severity", "all", "topic", "scope", "unless", "unless_severity", "unless_scope",
             "when_role", "actor",
             "message", "message_en", "documents", "examples"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise PolicyError(f"规则 {rule_id}：未知的字段 {', '.join(unknown)}", rule=rule_id)
    family = raw.get("family", rule_id)
    if not isinstance(family, str) or not RULE_ID.match(family):
        raise PolicyError(f"规则 {rule_id}：family 无效", rule=rule_id)
    severity = raw.get("severity", "refuse")
    if severity not in SEVERITIES:
        raise PolicyError(f"规则 {rule_id}：severity 须为 refuse 或 flag", rule=rule_id)
    groups_raw = raw.get("all")
    if not isinstance(groups_raw, list) or not groups_raw:
        raise PolicyError(f"规则 {rule_id}：all 须为非空的词组数组", rule=rule_id)
    topic = raw.get("topic", [])
    if not isinstance(topic, list) or not all(isinstance(i, int) and 0 <= i < len(groups_raw) for i in topic):
        raise PolicyError(f"规则 {rule_id}：topic 须为 all 中词组的序号", rule=rule_id)
    groups: list[Group] = []
    count = 0
    for i, g in enumerate(groups_raw):
        values = _as_list(g, f"all[{i}]", rule_id)
        if not allow_regex and any(v.startswith("re:") for v in values):
            raise PolicyError(f"规则 {rule_id}：县级规则不接受正则表达式（re:），请写出词语", rule=rule_id)
        terms, regexes = config.expand(values, rule_id)
        if not terms and not regexes:
            raise PolicyError(f"规则 {rule_id}：all[{i}] 没有词语", rule=rule_id)
        count += len(terms)
        groups.append(Group(terms=tuple(terms), regexes=tuple(regexes), topic=i in topic))
    unless = None
    if raw.get("unless"):
        values = _as_list(raw["unless"], "unless", rule_id)
        if not allow_regex and any(v.startswith("re:") for v in values):
            raise PolicyError(f"规则 {rule_id}：县级规则不接受正则表达式（re:）", rule=rule_id)
        terms, regexes = config.expand(values, rule_id)
        count += len(terms)
        unless = Group(terms=tuple(terms), regexes=tuple(regexes))
    if count > MAX_TERMS:
        raise PolicyError(f"规则 {rule_id}：词语过多（{count} 个，至多 {MAX_TERMS} 个）", rule=rule_id)
    unless_severity = raw.get("unless_severity")
    if unless_severity not in (None, *SEVERITIES):
        raise PolicyError(f"规则 {rule_id}：unless_severity 须为 flag 或 refuse", rule=rule_id)
    scope = raw.get("scope", "sentence")
    if scope not in ("clause", "sentence"):
        raise PolicyError(f"规则 {rule_id}：scope 须为 clause 或 sentence", rule=rule_id)
    unless_scope = raw.get("unless_scope", scope)
    if unless_scope not in ("clause", "sentence"):
        raise PolicyError(f"规则 {rule_id}：unless_scope 须为 clause 或 sentence", rule=rule_id)
    when_role = raw.get("when_role")
    if when_role not in (None, "responsible"):
        raise PolicyError(f"规则 {rule_id}：when_role 只能为 responsible", rule=rule_id)
    actor = raw.get("actor", "community")
    if actor not in ("community", "any"):
        raise PolicyError(f"规则 {rule_id}：actor 须为 community 或 any", rule=rule_id)
    message = raw.get("message")
    if not isinstance(message, str) or not message.strip() or len(message) > 500:
        raise PolicyError(f"规则 {rule_id}：message（中文说明）必填，至多 500 字", rule=rule_id)
    message_en = raw.get("message_en", "")
    if not isinstance(message_en, str) or len(message_en) > 500:
        raise PolicyError(f"规则 {rule_id}：message_en 须为字符串", rule=rule_id)
    docs = []
    for key in _as_list(raw.get("documents", []), "documents", rule_id):
        if key not in config.documents:
            raise PolicyError(f"规则 {rule_id}：未定义的文件 {key}", rule=rule_id)
        docs.append(config.documents[key])
    examples = raw.get("examples") or {}
    if not isinstance(examples, dict) or set(examples) - {"match", "no_match"}:
        raise PolicyError(f"规则 {rule_id}：examples 须为 {{match = [...], no_match = [...]}}", rule=rule_id)
    match = [_example(e, rule_id) for e in examples.get("match", [])]
    no_match = [_example(e, rule_id) for e in examples.get("no_match", [])]
    if not match:
        raise PolicyError(f"规则 {rule_id}：至少须有一个应当命中的示例（examples.match）", rule=rule_id)
    return Rule(id=rule_id, family=family, severity=severity, groups=groups, message=message.strip(),
                message_en=message_en.strip(), documents=tuple(docs), scope=scope, unless=unless,
                unless_severity=unless_severity, unless_scope=unless_scope, when_role=when_role, actor=actor,
                examples_match=match,
                examples_no_match=no_match, county_code=county_code, source=dict(raw))


# ---- the engine ----

_NEG, _REL, _POST, _NOT, _SHIELD, _RED = "\x01neg", "\x01rel", "\x01post", "\x01not", "\x01shield", "\x01red"


class Engine:
    def __init__(self, config: Config, rules: Sequence[Rule]) -> None:
        self.config = config
        self.rules = list(rules)
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, set[str]] = {}

        def put(term: str, kind: str) -> None:
            entries.setdefault(term, set()).add(kind)

        for t in config.prohibitive:
            put(normalise(t).text, _NEG)
        for t in config.relative:
            put(normalise(t).text, _REL)
        for t in config.post:
            put(normalise(t).text, _POST)
        for t in config.not_negation:
            put(normalise(t).text, _NOT)
        for t in config.shields:
            put(normalise(t).text, _SHIELD)
        for t in config.reduce:
            put(normalise(t).text, _RED)
        self._regexes: dict[str, re.Pattern[str]] = {}
        for rule in self.rules:
            for group in [*rule.groups, *([rule.unless] if rule.unless else [])]:
                for t in group.terms:
                    put(t, "term")
                for r in group.regexes:
                    self._regexes["re:" + r.pattern] = r
        for term, kinds in entries.items():
            self._automaton.add_word(term, (term, frozenset(kinds)))
        if entries:
            self._automaton.make_automaton()
        self._empty = not entries
        self._group_keys = [[frozenset(g.terms) | {"re:" + r.pattern for r in g.regexes} for g in rule.groups]
                            for rule in self.rules]
        self._unless_keys = [(frozenset(rule.unless.terms) | {"re:" + r.pattern for r in rule.unless.regexes})
                             if rule.unless else frozenset() for rule in self.rules]
        # per rule: the groups of words alone (checked first), then those with regular expressions
        self._quick = [([k for k, g in zip(keys, rule.groups, strict=True) if not g.regexes],
                        [(k, g.regexes) for k, g in zip(keys, rule.groups, strict=True) if g.regexes])
                       for keys, rule in zip(self._group_keys, self.rules, strict=True)]
        self._community = [normalise(w).text for w in config.community]
        # 社区卫生服务中心, 社区民警…: institutions whose names begin with 社区 are not the community
        self._not_community = []
        for w in sorted((normalise(w).text for w in config.not_community), key=len, reverse=True):
            masked = w
            for c in sorted(self._community, key=len, reverse=True):
                masked = masked.replace(c, "\x02" * len(c))
            self._not_community.append((w, masked))
        # the words of the formalism families that a reducing verb (规范, 精简, 压减…) before them takes away
        reduce_families = set(config.reduce_families)
        self._reduce_terms = frozenset().union(*(keys for rule, rule_keys in zip(self.rules, self._group_keys,
                                                                                  strict=True)
                                                 if rule.family in reduce_families or any(
                                                     rule.family.startswith(f + ".") for f in reduce_families)
                                                 for keys in rule_keys))
        self._others = [normalise(w).text for w in config.others]
        self._predicates = [normalise(w).text for w in config.predicates]
        self._strip = sorted((normalise(w).text for w in config.strip_lead), key=len, reverse=True)
        ordered = sorted(self._predicates, key=len, reverse=True)
        self._predicate_re = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    # -- reading one field --

    def _mask(self, text: str) -> str:
        """The text with the community's name blanked inside institutions named after it (社区民警 -> ＿＿民警),
        the same length, so that offsets hold."""
        for w, masked in self._not_community:
            if w in text:
                text = text.replace(w, masked)
        return text

    def _actor(self, text: str, previous: str) -> tuple[str, int | None]:
        """The clause's actor, and the offset after which its words are handed to another actor."""
        text = self._mask(text)
        if _BY_COMMUNITY.match(text) or any(p.search(text) for p in self.config.to_community):
            return "community", None  # 向各社区下达…, 要求社区…: the community is asked, whoever asks
        cut = None
        for pattern in self.config.handover:
            for m in pattern.finditer(text):
                who = m.group("who") if "who" in pattern.groupindex else m.group(0)
                if not any(c in who for c in self._community):
                    # "X由Y负责": the whole clause is Y's; "报告Y处理": what follows is Y's
                    at = 0 if "whole" in pattern.groupindex and m.group("whole") else m.start()
                    cut = at if cut is None else min(cut, at)
                    break
        m = self._predicate_re.search(text) if self._predicate_re is not None else None
        subject = text[:m.start()] if m is not None else text
        for lead in self._strip:
            if subject.startswith(lead):
                subject = subject[len(lead):]
                break
        if subject:
            if any(c in subject for c in self._community):
                return "community", (cut if cut is not None and cut > 0 else None)
            if any(subject.endswith(o) for o in self._others) or "\x02" in subject:
                return "other", cut
        if cut == 0:
            return "other", None
        return previous, cut

    def _lead_of(self, value: str) -> str | None:
        """Who a table's responsible-unit cell names: the community, another actor, or neither."""
        named = next(iter(value.split()), "")
        if any(w in named for w in self._community):
            return "community"
        return "other" if any(named.endswith(o) for o in self._others) else None

    def _table_lead(self, s: str, cls: list[Any]) -> str | None:
        """The one actor the text's responsible-unit cells (责任单位：…) name, if they name exactly one."""
        found = set()
        for i, c in enumerate(cls):
            if i and c.start > 0 and s[c.start - 1] in "：:":
                before = s[cls[i - 1].start:cls[i - 1].end].split()
                if before and before[-1].endswith(_LEAD_LABELS):
                    found.add(self._lead_of(s[c.start:c.end]))
        found.discard(None)
        return found.pop() if len(found) == 1 else None

    def read(self, name: str, text: str) -> _Field:
        norm = normalise(text)
        s = norm.text
        cls = clauses(s)
        starts = [c.start for c in cls]
        raw: list[tuple[int, int, str, frozenset[str]]] = []
        if not self._empty and s:
            for end, (term, kinds) in self._automaton.iter(s):
                raw.append((end - len(term) + 1, end + 1, term, kinds))
        masked = self._mask(s)
        for key, pattern in self._regexes.items():
            for m in pattern.finditer(masked):
                if m.end() > m.start():
                    raw.append((m.start(), m.end(), key, frozenset({"term"})))
        shields = [(a, b) for a, b, _, k in raw if _SHIELD in k]
        nots = [(a, b) for a, b, _, k in raw if _NOT in k]

        def inside(a: int, b: int, spans: list[tuple[int, int]]) -> bool:
            return any(x <= a and b <= y and (x, y) != (a, b) for x, y in spans)

        negs: list[tuple[int, int, str]] = []
        hits: list[_Hit] = []
        for a, b, term, kinds in raw:
            if (_NEG in kinds or _REL in kinds or _POST in kinds) and not any(x <= a and b <= y and (y - x) > (b - a)
                                                                              for x, y in nots):
                kind = _NEG if _NEG in kinds else (_REL if _REL in kinds else _POST)
                negs.append((a, b, kind))
            if _RED in kinds:
                negs.append((a, b, _RED))
            if "term" in kinds and not inside(a, b, shields):
                hits.append(_Hit(start=a, end=b, term=term))
        actor = "community"
        sentence = -1
        table = self._table_lead(s, cls)
        lead: str | None = None  # a table written as prose: the actor its 责任单位 names
        cuts: list[int | None] = []
        for i, c in enumerate(cls):
            label = ""
            if c.sentence != sentence:
                # a row of a table ("任务：查处无证经营；责任单位：县市场监管局") belongs to the table's
                # responsible unit, even a row written before the unit's
                row = c.end < len(s) and s[c.end] in "：:" and c.end - c.start <= _LABEL_MAX
                sentence, actor, lead = c.sentence, "community", table if row else None
            elif c.start > 0 and s[c.start - 1] in "：:":
                # what follows a colon ("县某局：各社区…") is asked of the community, unless the line is a
                # row of a table whose responsible unit is another ("责任单位：县城管执法局 整治要求：依法查处")
                before = s[cls[i - 1].start:cls[i - 1].end].split()
                label = before[-1] if before else ""
                actor = "other" if lead == "other" and not label.endswith(_LEAD_LABELS) else "community"
            actor, cut = self._actor(s[c.start:c.end], actor)
            if label.endswith(_LEAD_LABELS):
                lead = self._lead_of(s[c.start:c.end])
                actor = lead or actor
            c.actor = actor
            cuts.append(None if cut is None else c.start + cut)
        live: list[bool] = []
        free: list[bool] = []  # not negated, whoever the actor
        for h in hits:
            i = bisect.bisect_right(starts, h.start) - 1
            h.clause = i
            if i < 0 or h.end > cls[i].end:
                live.append(False)
                free.append(False)
                continue
            c = cls[i]
            ours = c.actor == "community" and not (cuts[i] is not None and h.start >= cuts[i])
            negated = False
            for a, b, kind in negs:
                if not (c.start <= a and b <= c.end) or (a <= h.start < b) or (h.start <= a < h.end):
                    continue
                before = b <= h.start
                if kind in (_NEG, _REL) and _SANCTION.search(s, c.start, a):
                    continue  # 未上传照片的不计入考核: a sanction, not a negation
                if kind == _RED:
                    # 关于规范社区责任书签订, 精简考核: a reducing verb takes away a formalism word shortly after it
                    if before and h.term in self._reduce_terms and h.start - b <= self.config.reduce_reach:
                        negated = True
                        break
                    continue
                if ((kind == _NEG and before)
                        or (kind == _REL and before and not _relative_clause(s, c.start, a, b, c.end, h.start))
                        or (kind == _POST and a >= h.end)):
                    negated = True
                    break
            live.append(ours and not negated)
            free.append(not negated)
        words = [(h.start, h.end) for h in hits if not h.term.startswith("re:")]
        inner = _inner([(h.start, h.end) for h in hits], words)
        return _Field(name=name, norm=norm, clauses=cls, starts=starts, hits=hits, live=live, free=free, inner=inner)

    # -- a cheap first look --

    def possible(self, fields: Mapping[str, str | None]) -> bool:
        """False when no rule can match these texts (some group of every rule has none of its words):
        one pass of the automaton, no reading of clauses. Used to judge many listed items cheaply."""
        text = "\n".join(t for t in fields.values() if t).translate(_QUICK_DROP).lower()
        if not text or self._empty:
            return False
        hits = {term for _, (term, kinds) in self._automaton.iter(text) if "term" in kinds}
        searched: dict[str, bool] = {}
        for plain, mixed in self._quick:
            if any(keys.isdisjoint(hits) for keys in plain):
                continue
            ok = True
            for keys, regexes in mixed:
                if not keys.isdisjoint(hits):
                    continue
                found = False
                for r in regexes:
                    if r.pattern not in searched:
                        searched[r.pattern] = r.search(text) is not None
                    if searched[r.pattern]:
                        found = True
                        break
                if not found:
                    ok = False
                    break
            if ok:
                return True
        return False

    # -- judging --

    def evaluate(self, fields: Mapping[str, str | None], *, role: str | None = None,
                 rules: Sequence[int] | None = None) -> Verdict:
        read = [self.read(name, text) for name, text in fields.items() if text]
        lives = [{h.term for h, ok in zip(f.hits, f.live, strict=True) if ok} for f in read]
        frees = [{h.term for h, ok in zip(f.hits, f.free, strict=True) if ok} for f in read]
        topic_keys: set[str] = set().union(*lives) if lives else set()
        best: dict[str, tuple[int, int, Finding]] = {}
        order = 0
        for index in (rules if rules is not None else range(len(self.rules))):
            rule = self.rules[index]
            if rule.when_role == "responsible" and role != "responsible":
                continue
            groups = self._group_keys[index]
            unless = self._unless_keys[index]
            for f, live_terms, free_terms in zip(read, lives, frees, strict=True):
                present = live_terms if rule.actor == "community" else free_terms
                if any(g.isdisjoint(present) and not (grp.topic and not g.isdisjoint(topic_keys))
                       for g, grp in zip(groups, rule.groups, strict=True)):
                    continue
                found = self._match(rule, groups, unless, f, topic_keys)
                if found is None:
                    continue
                severity, (a, b) = found
                start, end = f.norm.span(a, b)
                finding = Finding(rule=rule.id, family=rule.family, severity=severity, message=rule.message,
                                  message_en=rule.message_en, documents=rule.documents,
                                  span=Span(field=f.name, start=start, end=end, text=f.norm.original[start:end]),
                                  county_code=rule.county_code)
                held = best.get(rule.family)
                rank = _SEVERITY_RANK[severity]
                if held is None or rank > held[0]:
                    best[rule.family] = (rank, order, finding)
                    order += 1
                if rank == _SEVERITY_RANK["refuse"]:
                    break  # another field can only repeat it; a flag in the title may still be a refusal below
        general = best.get(GENERAL_AREA)
        if general is not None:
            g = general[2].span
            for family, (rank, _, f) in best.items():
                # 违法/违规 words of a named area: the named area is the finding, not enforcement in general
                if (family != GENERAL_AREA and family.startswith("responsible.") and rank >= general[0]
                        and f.span.field == g.field and f.span.start < g.end and g.start < f.span.end):
                    del best[GENERAL_AREA]
                    break
        ranked = sorted(best.values(), key=lambda x: (-x[0], x[1]))
        return Verdict(findings=tuple(x[2] for x in ranked))

    def _match(self, rule: Rule, groups: list[frozenset[str]], unless: frozenset[str], f: _Field,
               topic_keys: set[str]) -> tuple[str, tuple[int, int]] | None:
        units: dict[int, list[int]] = {}
        flags = f.live if rule.actor == "community" else f.free
        for i, (h, ok) in enumerate(zip(f.hits, flags, strict=True)):
            if not ok:
                continue
            c = f.clauses[h.clause] if h.clause >= 0 else None
            if c is None:
                continue
            key = h.clause if rule.scope == "clause" else c.sentence
            units.setdefault(key, []).append(i)
        found: tuple[str, tuple[int, int]] | None = None
        for key in sorted(units):
            idx = units[key]
            # each word of the first group (the ask) in turn: an assisting clause elsewhere in the sentence
            # does not excuse a clause that hands the community the responsibility
            firsts = sorted((f.hits[i] for i in idx if f.hits[i].term in groups[0]),
                            key=lambda h: (h.start, h.start - h.end))
            if not firsts and rule.groups[0].topic and any(k in topic_keys for k in groups[0]):
                firsts = [None]  # type: ignore[list-item]
            for first in firsts:
                result = self._complete(rule, groups, unless, f, topic_keys, key, idx, first)
                if result is None:
                    continue
                if result[0] == "refuse":
                    return result
                found = found or result
        return found

    def _complete(self, rule: Rule, groups: list[frozenset[str]], unless: frozenset[str], f: _Field,
                  topic_keys: set[str], key: int, idx: list[int], first: _Hit | None,
                  ) -> tuple[str, tuple[int, int]] | None:
        chosen: list[_Hit] = [first] if first is not None else []
        by_clause = rule.unless_scope == "clause" and rule.scope == "sentence" and bool(unless)
        assisting: dict[int, bool] = {}

        def helps(clause: int) -> bool:
            if not by_clause:
                return False
            if clause not in assisting:
                assisting[clause] = self._unit_has(f, clause, "clause", unless)
            return assisting[clause]

        for g, group in zip(groups[1:], rule.groups[1:], strict=True):
            # the earliest, longest word of the group: one in the first word's clause if any, then one in a
            # clause that does not only assist (协助推进人居环境整治，由社区牵头负责…，组织清理村庄垃圾)
            home = chosen[0].clause if chosen else -1
            hit = min((f.hits[i] for i in idx if f.hits[i].term in g),
                      key=lambda h: (h.clause != home, helps(h.clause), h.start, h.start - h.end), default=None)
            if hit is None:
                if group.topic and any(k in topic_keys for k in g):
                    continue
                return None
            chosen.append(hit)
        if not chosen:
            return None
        severity = rule.severity
        if rule.unless_scope == "clause" and rule.scope == "sentence":
            # the clauses of the words chosen decide: an assisting clause elsewhere in the sentence does not
            # excuse a clause that hands the community the responsibility
            neutral = any(helps(h.clause) for h in chosen)
        else:
            neutral = bool(unless) and self._unit_has(f, key, rule.scope, unless)
        if neutral:
            if rule.unless_severity is None:
                return None
            severity = rule.unless_severity
        a = min(h.start for h in chosen)
        b = max(h.end for h in chosen)
        return severity, (a, b)

    def _unit_has(self, f: _Field, key: int, scope: str, keys: frozenset[str]) -> bool:
        """Whether an `unless` word stands in the clause or sentence: a word in its own right, not negated and not
        part of a longer word (乱张贴 is not 张贴)."""
        for h, ok, inner in zip(f.hits, f.free, f.inner, strict=True):
            if h.clause < 0 or h.term not in keys or not ok or inner:
                continue
            c = f.clauses[h.clause]
            if (h.clause if scope == "clause" else c.sentence) == key:
                return True
        return False

    # -- checking a rule against its examples --

    def documents_of(self, rule: str) -> tuple[Document, ...]:
        """The documents of a rule named by its id or its family (a receipt records the family)."""
        found = next((r for r in self.rules if rule in (r.id, r.family)), None)
        return found.documents if found is not None else ()

    def check_examples(self, index: int) -> None:
        rule = self.rules[index]
        for e in rule.examples_match:
            role = e.get("role", "responsible" if rule.when_role else "assisting")
            v = self.evaluate({"title": e["title"], "content": e["content"]}, role=role, rules=[index])
            if not any(x.rule == rule.id for x in v.findings):
                text = e["content"] or e["title"]
                raise PolicyError(f"规则 {rule.id} 的示例未命中：“{text}”", rule=rule.id, example=text)
        for e in rule.examples_no_match:
            role = e.get("role", "responsible" if rule.when_role else "assisting")
            v = self.evaluate({"title": e["title"], "content": e["content"]}, role=role, rules=[index])
            if any(x.rule == rule.id for x in v.findings):
                text = e["content"] or e["title"]
                raise PolicyError(f"规则 {rule.id} 的反例被误命中：“{text}”", rule=rule.id, example=text)

    def with_rules(self, extra: Sequence[Rule]) -> Engine:
        return Engine(self.config, [*self.rules, *extra])


_QUICK_DROP = {ord(c): None for c in " \t\u3000\u00a0\u200b\u200c\u200d\ufeff\u2060"}
_RELATIVE_LEAD = ("对", "凡", "将", "把", "给予", "给")
# a table written as prose names its responsible unit after one of these labels (责任单位：县城管执法局)
_LABEL_MAX = 10  # a table's row label (任务, 工作内容, 责任单位 …) is short
_LEAD_LABELS = ("责任单位", "牵头单位", "主责单位", "责任部门", "牵头部门", "主责部门", "责任主体")
_BY_COMMUNITY = re.compile(r"(由|归|交由)(所在|各|本|辖区)?(社区|居委会|网格)")
_SANCTION = compile_pattern(r"(未|不|无|没有)[^的，。；]{0,20}的")


def _inner(spans: list[tuple[int, int]], words: list[tuple[int, int]]) -> list[bool]:
    """Per span: whether a longer word holds it (张贴 in 乱张贴; a word is at most MAX_TERM characters)."""
    words = sorted(words)
    starts = [w[0] for w in words]
    out = []
    for a, b in spans:
        lo = bisect.bisect_left(starts, a - MAX_TERM)
        hi = bisect.bisect_right(starts, a)
        out.append(any(words[j][0] <= a and b <= words[j][1] and words[j] != (a, b) for j in range(lo, hi)))
    return out


def _relative_clause(s: str, clause_start: int, a: int, b: int, clause_end: int, hit: int) -> bool:
    """A bare 不/未 inside a relative clause (对未签订责任书的社区…, 凡未完成的) does not negate the main verb."""
    if "的" in s[b:hit]:
        return True
    if "的" not in s[b:clause_end]:
        return False
    return a == clause_start or any(lead in s[clause_start:a] for lead in _RELATIVE_LEAD)


# ---- the file ----

AREA_FILES = ("digital.toml",)
"""rules of their own areas, beside the main file and in its form (documents, lexicon, rules): their
rules join the same engine; the reading machinery ([reading]) is the main file's alone"""
FAMILY_PREFIXES = ("registry.", "county.", "digital.", "plaque.")


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path} 无法读取或解析：{exc}") from exc


def area_files(path: Path) -> list[Path]:
    """The area files that join the main file at `path` (those present beside it)."""
    return [p for p in (path.parent / name for name in AREA_FILES) if p.exists()]


def _merge(data: dict[str, Any], more: Mapping[str, Any], path: Path) -> None:
    """An area file's documents, lexicons and rules joined to the main file's (a key defined twice
    differently is an error naming the file)."""
    if more.get("reading"):
        raise PolicyError(f"{path}：[reading] 只能写在主规则文件中")
    for table in ("documents", "lexicon"):
        held = data.setdefault(table, {})
        for key, value in (more.get(table) or {}).items():
            if key in held and held[key] != value:
                raise PolicyError(f"{path}：{table}.{key} 与主规则文件中的定义不同")
            held[key] = value
    data["rules"] = [*(data.get("rules") or []), *(more.get("rules") or [])]


def load(path: Path, *, check: bool = True, extra: Sequence[Path] | None = None) -> Engine:
    """The engine of the rules file at `path` and of the area files beside it (`extra`: those instead)."""
    data = _read(path)
    for more in (area_files(path) if extra is None else extra):
        _merge(data, _read(more), more)
    config = Config(data)
    rules = []
    seen: set[str] = set()
    for raw in data.get("rules") or []:
        rule = parse_rule(raw, config)
        if rule.id in seen:
            raise PolicyError(f"规则编号 {rule.id} 重复", rule=rule.id)
        if rule.family not in FAMILIES and not rule.family.startswith(FAMILY_PREFIXES):
            raise PolicyError(f"规则 {rule.id}：family {rule.family} 不是已知的规则族", rule=rule.id)
        seen.add(rule.id)
        rules.append(rule)
    engine = Engine(config, rules)
    for i in range(len(rules) if check else 0):
        engine.check_examples(i)
    return engine


@functools.cache
def _cached(path: str, mtimes: tuple[float, ...]) -> Engine:
    del mtimes
    return load(Path(path))


def default_path() -> Path:
    from service.core.settings import PROJECT_ROOT

    return PROJECT_ROOT / "policies" / POLICY_FILE


def default_engine(path: Path | None = None) -> Engine:
    p = path or default_path()
    return _cached(str(p), tuple(f.stat().st_mtime for f in (p, *area_files(p))))


def county_rule(raw: Mapping[str, Any], *, county_code: str, base: Engine | None = None) -> Rule:
    """A county's rule, parsed and proved against its examples on its own (no regexes)."""
    engine = base or default_engine()
    rule = parse_rule(raw, engine.config, county_code=county_code, allow_regex=False)
    Engine(engine.config, [rule]).check_examples(0)
    return rule


@functools.lru_cache(maxsize=256)
def _county_engine(key: tuple[tuple[str, str], ...], base_id: int) -> Engine:
    import json

    base = default_engine()
    rules = [parse_rule(json.loads(raw), base.config, county_code=county, allow_regex=False) for county, raw in key]
    del base_id
    return base.with_rules(rules)


def engine_for(county_rules: Sequence[tuple[str, Mapping[str, Any]]]) -> Engine:
    """The national engine with a county's own rules added (compiled once per distinct set)."""
    if not county_rules:
        return default_engine()
    import json

    key = tuple((county, json.dumps(raw, sort_keys=True, ensure_ascii=False)) for county, raw in county_rules)
    return _county_engine(key, id(default_engine()))
