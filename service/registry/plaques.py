"""Exterior plaques (外挂牌子): how many boards a text puts on a community's outside wall, and the county's
limit (setting `exterior_plaques_max`, default 2: the community Party organisation and the residents'
committee). The registry's writes and admission screening call it; the policy engine may too."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from service.core.errors import InvalidParam, ValidationFailed

RULE = "plaque.exterior-max"
CITATION = ("《关于加强社区工作者队伍建设的意见》（中共中央办公厅、国务院办公厅，2024年3月28日）第17项："
            "规范社区工作事项、机制牌子和证明事项")

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


def exterior_count(items: Sequence[Any]) -> int:
    """Listed exterior plaques (ListedItem-like): one board each."""
    return sum(1 for i in items if i.kind == "plaque" and i.list == "exterior")


def boards_of(kind: str, list_name: str, title: str, content: str) -> int:
    """Boards a new item or request adds outside: what its title (else its content) counts, or one for an
    exterior plaque item; none for anything else that names no board."""
    counted = count_in_text(title)
    if counted is None and (kind, list_name) != ("plaque", "exterior"):
        counted = count_in_text(content)
    if counted is None:
        return 1 if (kind, list_name) == ("plaque", "exterior") else 0
    return counted


def over_limit(*, existing: int, adding: int, allowed: int) -> str | None:
    """The reason, in Chinese, when the outside wall would carry more than the county allows."""
    if adding <= 0 or existing + adding <= allowed:
        return None
    return (f"社区外部已悬挂 {existing} 块牌子，再加 {adding} 块共 {existing + adding} 块，超过本县规定的 {allowed} 块"
            f"（社区党组织和居民委员会）：{CITATION}")


def refusal(reason: str, *, field: str = "item.title") -> ValidationFailed:
    return ValidationFailed(reason, invalid_params=[InvalidParam(name=field, reason=reason, rule=RULE)], rule=RULE,
                            extra={"document": CITATION})
