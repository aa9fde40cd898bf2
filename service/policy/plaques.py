"""Plaques and mechanisms (机制牌子): how many boards a text puts on a community's outside wall, whether a
board goes outside or inside, which working mechanisms a text sets up, and the county's limit (setting
`exterior_plaques_max`, default 2: the community Party organisation and the residents' committee).

The words are data (policies/plaques.toml). The registry's writes (a county's addition or amendment, an
import row, an approval) and admission screening call `boards_of` / `over_limit`; screening calls
`mechanisms_in_text` so that a mechanism asked for under another kind is shown to the reviewer as one.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service.core.errors import InvalidParam, ValidationFailed
from service.policy.engine import PolicyError, default_path

FILE = "plaques.toml"
RULE = "plaque.exterior-max"
MECHANISM_RULE = "plaque.mechanism"
CITATION = ("《关于加强社区工作者队伍建设的意见》（中共中央办公厅、国务院办公厅，2024年3月28日）第17项："
            "规范社区组织的工作事务、机制牌子和证明事项")
CITATION_EN = ("Opinion on strengthening the community-worker workforce (General Offices of the CPC Central "
               "Committee and the State Council, 2024-03-28), item 17: community work affairs, mechanism plaques and "
               "certificates")


class Words:
    def __init__(self, data: dict[str, Any]) -> None:
        placement = data.get("placement") or {}
        self.exterior = tuple(placement.get("exterior") or ())
        self.interior = tuple(sorted(placement.get("interior") or (), key=len, reverse=True))
        mechanisms = data.get("mechanisms") or {}
        verbs, names = tuple(mechanisms.get("verbs") or ()), tuple(mechanisms.get("names") or ())
        if not (self.exterior and self.interior and verbs and names):
            raise PolicyError(f"{FILE}：[placement] exterior/interior 与 [mechanisms] verbs/names 均须非空")
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        self.mechanism = re.compile(
            rf"(?:{'|'.join(re.escape(v) for v in sorted(verbs, key=len, reverse=True))})"
            rf"([^，,。；;：:]{{0,16}}?(?:{alternatives}))")


@functools.cache
def _cached(path: str, mtime: float) -> Words:
    del mtime
    try:
        return Words(tomllib.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path} 无法读取或解析：{exc}") from exc


def words(path: Path | None = None) -> Words:
    p = path or default_path().parent / FILE
    return _cached(str(p), p.stat().st_mtime)


_NUMBER = r"(\d+|[一二两三四五六七八九十]+)"
_BOARD = r"(?:牌子|牌匾|标牌|门牌|牌)"
_EACH = re.compile(rf"(?:加挂|增挂|挂上|悬挂|挂|新设|设置)(.+?){_BOARD}各{_NUMBER}块")
_COUNTED = re.compile(rf"{_NUMBER}块{_BOARD}?")
_ONE = re.compile(rf"(?:加挂|增挂|悬挂|挂上|挂)[^，。；]{{1,30}}?{_BOARD}")
_SEPARATORS = re.compile(r"[、，,和及与/]")
_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _DIGITS.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _DIGITS.get(tens, 1) * 10 + _DIGITS.get(ones, 0)
    return _DIGITS.get(text, 0)


def count_in_text(text: str) -> int | None:
    """Boards a text asks to hang ("加挂A、B牌子各一块" → 2, "8块牌子" → 8, "加挂平安社区牌子" → 1); None when
    it asks for none."""
    text = re.sub(r"\s+", "", text or "")
    each = _EACH.search(text)
    if each is not None:
        names = [n for n in _SEPARATORS.split(each.group(1)) if n]
        return max(1, len(names)) * _number(each.group(2))
    counted = _COUNTED.findall(text)
    if counted:
        return sum(_number(n) for n in counted)
    if _ONE.search(text):
        return 1
    return None


def placement(text: str) -> str | None:
    """Where a text puts its boards: 'exterior' (外墙, 门口, 外挂 ...), 'interior' (室内, 不在外部挂牌 ...), or None.
    The interior phrases are read first, so "不在外部挂牌" keeps a board inside."""
    held = words()
    rest = re.sub(r"\s+", "", text or "")
    inside = False
    for phrase in held.interior:
        if phrase in rest:
            inside = True
            rest = rest.replace(phrase, "|")
    if any(w in rest for w in held.exterior):
        return "exterior"
    return "interior" if inside else None


def is_exterior(kind: str, list_name: str, title: str, content: str) -> bool:
    """A plaque that hangs outside: one on the exterior list, or an interior plaque or mechanism whose own
    words put its board outside (an item says which plaques are exterior)."""
    if kind != "plaque":
        return False
    return list_name == "exterior" or placement(f"{title}。{content}") == "exterior"


def exterior_count(items: Sequence[Any]) -> int:
    """Listed plaques on the outside wall (ListedItem-like): one board each."""
    return sum(1 for i in items if is_exterior(i.kind, i.list, i.title, i.content))


def boards_of(kind: str, list_name: str, title: str, content: str) -> int:
    """Boards a new item or request adds to the outside wall: what its title (else its content) counts, or one
    for an exterior plaque (the list decides); an interior plaque or a mechanism adds none unless its words put
    the board outside; a matter of another kind whose words keep its boards inside (室内) adds none."""
    where = placement(f"{title}。{content}")
    if kind == "plaque" and list_name != "exterior":
        if where != "exterior":
            return 0
        return count_in_text(title) or count_in_text(content) or 1
    if kind != "plaque" and where == "interior":
        return 0
    counted = count_in_text(title)
    if counted is None and (kind, list_name) != ("plaque", "exterior"):
        counted = count_in_text(content)
    if counted is None:
        return 1 if (kind, list_name) == ("plaque", "exterior") else 0
    return counted


def mechanisms_in_text(text: str) -> list[str]:
    """The working mechanisms (leading groups, task forces, posts, stations) a text sets up: "成立社区禁毒
    工作领导小组" → ["社区禁毒工作领导小组"]; none when the clause is negated (不得, 不再, 不另行 ...)."""
    found: list[str] = []
    for sentence in re.split(r"[。；;！？\n]", re.sub(r"\s+", "", text or "")):
        for m in words().mechanism.finditer(sentence):
            clause_start = max(sentence.rfind(c, 0, m.start()) for c in "，,：:") + 1
            before = sentence[clause_start:m.start()]
            if any(cue in before for cue in _NEGATIONS):
                continue
            name = m.group(1)
            if name not in found:
                found.append(name)
    return found


_NEGATIONS = ("不得", "不再", "不另行", "不另", "不要求", "无需", "无须", "不需", "严禁", "禁止", "取消", "不必",
              "避免")


def over_limit(*, existing: int, adding: int, allowed: int) -> str | None:
    """The reason, in the house form 中文 (English), when the outside wall would carry more than the county
    allows."""
    if adding <= 0 or existing + adding <= allowed:
        return None
    return (f"社区外部已悬挂 {existing} 块牌子，再加 {adding} 块共 {existing + adding} 块，超过本县规定的 {allowed} 块"
            f"（社区党组织和居民委员会）：{CITATION} (the outside wall already carries {existing} boards; "
            f"{adding} more would make {existing + adding}, over the county's {allowed}: {CITATION_EN})")


def mechanism_finding(names: Sequence[str]) -> str:
    joined = "、".join(f"“{n}”" for n in names)
    return (f"该事项要求社区设立工作机制 {joined}：工作机制（领导小组、工作专班、专岗等）单独列入机制清单"
            f"（plaque / mechanism），按同样的准入程序审查；未列入的，社区有权拒绝。{CITATION} "
            f"(the matter sets up working mechanisms in the community; a mechanism goes on the mechanism list and "
            f"through the same review: {CITATION_EN})")


def refusal(reason: str, *, field: str = "item.title") -> ValidationFailed:
    return ValidationFailed(reason, invalid_params=[InvalidParam(name=field, reason=reason, rule=RULE)], rule=RULE,
                            extra={"document": CITATION})
