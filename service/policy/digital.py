"""Apps, public accounts and work groups (指尖上的形式主义): what a digital item or an admission request's
`digital_needs` declares, judged by the checks of policies/digital.toml, reported as the engine's findings.

The words of a digital matter (its name, its description) are read by the engine itself: the [[rules]] of
the same file join it (engine.AREA_FILES). This module reads what is declared:

- the owner's level: the level declared, or the one its name says (a name ending in 街道办事处, 乡人民政府,
  社区居民委员会 ...), the lower of the two when both are known (a street that declares itself a county
  is still a street), else the level of the one who submits;
- the filing number (备案号) of an app;
- what it demands of users (`demands`: check_in, points_ranking, online_time, round_the_clock,
  reply_within_minutes).

Every decision that lets a digital matter reach a community calls `findings`: admission screening (each
need, and a request of kind `digital` itself), a county reviewer adding or amending a digital item, an
approval writing one, an import row, and the enforcement check on a listed digital item.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from service.policy.engine import Document, Finding, PolicyError, Span, Verdict, default_path

FILE = "digital.toml"
DigitalKind = Literal["app", "account", "work_group"]
Demand = Literal["check_in", "points_ranking", "online_time", "round_the_clock", "reply_within_minutes"]
DEMANDS: tuple[str, ...] = ("check_in", "points_ranking", "online_time", "round_the_clock", "reply_within_minutes")
# levels from highest to lowest (an 'other' level says nothing about where the owner sits)
LEVEL_ORDER = ("national", "province", "city", "county", "street", "community")
WHEN = re.compile(r"^(owner_below_county|no_filing_number|demand:[a-z_]+)$")
# a name that ends like a street, township or community body is at that level
_STREET_NAME = re.compile(r"(街道办事处|街道办|街道党工委|街道|乡人民政府|镇人民政府|乡政府|镇政府|乡党委|镇党委"
                          r"|[乡镇])$")
_COMMUNITY_NAME = re.compile(r"(社区居民委员会|居民委员会|居委会|社区党委|社区党支部|社区党总支|社区|村民委员会"
                             r"|村委会)$")


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    kinds: tuple[str, ...]
    when: str
    field: str
    message: str
    message_en: str
    documents: tuple[Document, ...]


@dataclass(frozen=True, slots=True)
class Rules:
    checks: tuple[Check, ...]
    below_county: frozenset[str]
    demand_words: Mapping[str, str]

    def documents_of(self, rule: str) -> tuple[Document, ...]:
        found = next((c for c in self.checks if c.id == rule), None)
        return found.documents if found is not None else ()


@dataclass(frozen=True, slots=True)
class DigitalAsk:
    """A digital channel a matter would put on communities, as declared."""

    kind: str
    name: str
    field: str
    """where it was declared, for the findings' spans: 'digital_needs[0]', 'item'"""
    owner: str | None = None
    owner_level: str | None = None
    filing_number: str | None = None
    demands: Sequence[str] = ()
    renamed: Mapping[str, str] | None = None
    """the declared fields' names where they differ from a need's (an item's owner level is department_level)"""


ITEM_FIELDS = {"owner_level": "department_level", "demands": "user_demands"}


def _documents(keys: Any, documents: Mapping[str, Any], check: str) -> tuple[Document, ...]:
    if not isinstance(keys, list) or not keys:
        raise PolicyError(f"{FILE} 检查 {check}：documents 须为非空数组", rule=check)
    out = []
    for key in keys:
        d = documents.get(key)
        if not isinstance(d, Mapping):
            raise PolicyError(f"{FILE} 检查 {check}：未定义的文件 {key}", rule=check)
        out.append(Document(key=key, title=d["title"], issuer=d["issuer"], date=str(d["date"]),
                            number=d.get("number"), clause=d.get("clause")))
    return tuple(out)


def parse(data: Mapping[str, Any], *, documents: Mapping[str, Any]) -> Rules:
    """The [[checks]] of the file, proved: every demand named has its words, every check a known condition,
    kinds, a message and documents; every demand the API accepts has a check."""
    demand_words = dict(data.get("demands") or {})
    unknown = sorted(set(demand_words) - set(DEMANDS))
    if unknown:
        raise PolicyError(f"{FILE}：[demands] 含未知的要求 {', '.join(unknown)}")
    checks = []
    for raw in data.get("checks") or []:
        cid = raw.get("id")
        if not isinstance(cid, str) or not cid.startswith("digital."):
            raise PolicyError(f"{FILE}：检查编号 {cid!r} 须以 digital. 开头", rule=str(cid))
        when = raw.get("when")
        if not isinstance(when, str) or not WHEN.match(when):
            raise PolicyError(f"{FILE} 检查 {cid}：when 无效（{when!r}）", rule=cid)
        if when.startswith("demand:") and when[7:] not in demand_words:
            raise PolicyError(f"{FILE} 检查 {cid}：[demands] 中没有 {when[7:]}", rule=cid)
        kinds = tuple(raw.get("kinds") or ())
        if not kinds or set(kinds) - {"app", "account", "work_group"}:
            raise PolicyError(f"{FILE} 检查 {cid}：kinds 须为 app、account、work_group", rule=cid)
        message = raw.get("message")
        if not isinstance(message, str) or not message.strip():
            raise PolicyError(f"{FILE} 检查 {cid}：message 必填", rule=cid)
        checks.append(Check(id=cid, kinds=kinds, when=when, field=str(raw.get("field") or ""),
                            message=message.strip(), message_en=str(raw.get("message_en") or "").strip(),
                            documents=_documents(raw.get("documents"), documents, cid)))
    missing = sorted(set(DEMANDS) - {c.when[7:] for c in checks if c.when.startswith("demand:")})
    if missing:
        raise PolicyError(f"{FILE}：要求 {', '.join(missing)} 没有对应的检查")
    levels = data.get("levels") or {}
    return Rules(checks=tuple(checks), below_county=frozenset(levels.get("below_county") or ()),
                 demand_words=demand_words)


@functools.cache
def _cached(path: str, mtimes: tuple[float, float]) -> Rules:
    del mtimes
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        main = tomllib.loads((p.parent / default_path().name).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{p} 无法读取或解析：{exc}") from exc
    documents = {**(main.get("documents") or {}), **(data.get("documents") or {})}
    return parse(data, documents=documents)


def rules(path: Path | None = None) -> Rules:
    p = path or default_path().parent / FILE
    return _cached(str(p), (p.stat().st_mtime, (p.parent / default_path().name).stat().st_mtime))


def level_from_name(name: str | None) -> str | None:
    """The level a unit's name says, where it says one: a street or township body, a community body."""
    text = re.sub(r"\s+", "", name or "")
    if not text:
        return None
    if _COMMUNITY_NAME.search(text):
        return "community"
    if _STREET_NAME.search(text):
        return "street"
    return None


def owner_level(ask: DigitalAsk, *, submitter_level: str | None = None) -> str | None:
    """The owner's level: the lower of the declared one and the one its name says; else the submitter's."""
    known = [lv for lv in (ask.owner_level, level_from_name(ask.owner)) if lv in LEVEL_ORDER]
    if known:
        return max(known, key=LEVEL_ORDER.index)
    if ask.owner is None and ask.owner_level is None and submitter_level in LEVEL_ORDER:
        return submitter_level
    return None


def _applies(check: Check, ask: DigitalAsk, rules_: Rules, level: str | None) -> bool:
    if ask.kind not in check.kinds:
        return False
    if check.when == "owner_below_county":
        return level in rules_.below_county
    if check.when == "no_filing_number":
        return not (ask.filing_number and ask.filing_number.strip())
    return check.when[7:] in ask.demands


def findings(asks: Sequence[DigitalAsk], *, submitter_level: str | None = None,
             rules_: Rules | None = None) -> list[Finding]:
    """Every check each declared channel breaks, as refusals with the rule, the document and the field."""
    held = rules_ or rules()
    out: list[Finding] = []
    for ask in asks:
        level = owner_level(ask, submitter_level=submitter_level)
        for check in held.checks:
            if not _applies(check, ask, held, level):
                continue
            if check.when.startswith("demand:"):
                text = held.demand_words[check.when[7:]]
            elif check.when == "owner_below_county":
                text = ask.owner or level or ""
            else:
                text = ask.name
            out.append(Finding(rule=check.id, family=check.id, severity="refuse",
                               message=f"“{ask.name}”：{check.message}",
                               message_en=f"'{ask.name}': {check.message_en}" if check.message_en else "",
                               documents=check.documents,
                               span=Span(field=f"{ask.field}.{(ask.renamed or {}).get(check.field, check.field)}",
                                         start=0, end=len(text), text=text)))
    return out


def combined(verdict: Verdict, more: Sequence[Finding]) -> Verdict:
    """The engine's verdict with the declared channels' findings (one per family and field)."""
    seen = {(f.family, f.span.field) for f in verdict.findings}
    extra = [f for f in more if (f.family, f.span.field) not in seen]
    if not extra:
        return verdict
    return Verdict(findings=tuple(sorted((*verdict.findings, *extra), key=lambda f: f.severity != "refuse")))


def item_ask(item: Any, *, field: str = "item") -> DigitalAsk | None:
    """A registry item (ItemCreate-like) of kind digital, as a declared channel; None for other kinds."""
    if getattr(item, "kind", None) != "digital":
        return None
    return DigitalAsk(kind=item.list, name=item.title, field=field, owner=item.department,
                      owner_level=item.department_level, filing_number=item.filing_number,
                      demands=tuple(item.user_demands or ()), renamed=ITEM_FIELDS)


def row_ask(row: Mapping[str, Any]) -> DigitalAsk | None:
    """A listed item's stored fields (kind, list, title, department, department_level, filing_number,
    user_demands) as a declared channel; None for other kinds."""
    if row.get("kind") != "digital":
        return None
    demands = row.get("user_demands") or ()
    return DigitalAsk(kind=row["list"], name=row["title"], field="item", owner=row.get("department"),
                      owner_level=row.get("department_level"), filing_number=row.get("filing_number"),
                      demands=tuple(demands), renamed=ITEM_FIELDS)
