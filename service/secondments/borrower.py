"""Who really borrows a community worker: the organ's type and level read from its name against the
jurisdiction tree, and the county-level organs a purpose or destination names (借调至县住建局,
派驻县城投集团, 到区委办跟班学习). Pure functions; service.py applies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

LEVEL_ORDER = ("national", "province", "city", "county", "street", "community")
TYPE_ZH = {"organ": "机关", "public_institution": "事业单位", "state_owned_enterprise": "国有企业",
           "mass_organisation": "群团组织", "other": "其他"}

# how an organ's name ends (longest first): what makes a name an organ's at all
_ENDINGS = ("委员会", "办公室", "指挥部", "总工会", "工商联", "团委", "妇联", "残联", "科协", "侨联", "文联",
            "工作专班", "工作组", "专班", "集团", "公司", "中心", "政府", "法院",
            "检察院", "医院", "学校", "银行", "联合会", "协会", "局", "委", "办", "院", "部", "厅", "处", "站",
            "所", "队", "会", "社")
_ENDING = "|".join(_ENDINGS)
_ORGAN_NAME = re.compile(rf"^[\u3400-\u9fffA-Za-z0-9（）()]{{1,30}}?(?:{_ENDING})")
# a bare level word at the start: 县住建局, 区委办, 市城投集团, 省厅
_BARE_PREFIX = (("国务院", "national"), ("中央", "national"), ("国家", "national"), ("省", "province"),
                ("市", "city"), ("州", "city"), ("盟", "city"), ("县", "county"), ("区", "county"),
                ("旗", "county"))
# any place name ending in a level word, for jurisdictions outside the home community's chain
_PLACE_PREFIX = re.compile(r"^[\u4e00-\u9fff]{1,6}?(省|自治区|市|自治州|州|盟|县|自治县|区|旗)")
# words that end in a level word but name no jurisdiction
_NOT_PLACES = ("社区", "小区", "园区", "景区", "辖区", "片区", "城区", "校区", "街区", "营区", "库区", "矿区", "湖区",
               "本市", "本县", "本区", "门市", "超市", "城市", "都市", "夜市", "集市")
_PLACE_LEVEL = {"省": "province", "自治区": "province", "市": "city", "自治州": "city", "州": "city", "盟": "city",
                "县": "county", "自治县": "county", "区": "county", "旗": "county"}
# a street or township office named as such
_STREET_OFFICE = re.compile(r"(街道|乡|镇)(办事处|人民政府|政府|党工委|党委|工委)|街道办")
# where a purpose sends the worker: the organ named right after one of these
_DESTINATION_VERB = re.compile(
    r"(?:借调至|借调到|借调|抽调至|抽调到|抽调|调至|调到|调入|派驻到|派驻|派往|派到|选派到|进驻|入驻|驻|"
    r"到|至|赴|去|在|前往|参加|加入|充实到|充实)")
_TYPE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(集团|公司|银行)$"), "state_owned_enterprise"),
    (re.compile(r"(工会|总工会|团委|共青团|妇联|妇女联合会|残联|残疾人联合会|科协|侨联|文联|红十字会|工商联)"),
     "mass_organisation"),
    (re.compile(r"(中心|医院|学校|学院|研究院|研究所|馆|站|所|院|台|社)$"), "public_institution"),
    (re.compile(r"(局|委|办|办公室|委员会|政府|部|厅|处|法院|检察院|专班|工作组|指挥部|党工委|党委|工委)$"), "organ"),
)


def higher(*levels: str | None) -> str:
    """The highest of the levels given (national is highest); community when none is known."""
    known = [lv for lv in levels if lv in LEVEL_ORDER]
    return min(known, key=LEVEL_ORDER.index) if known else "community"


def is_county_or_above(level: str | None) -> bool:
    return level in LEVEL_ORDER[:4]


def infer_type(name: str, level: str | None = None) -> str:
    """The organ's type by its name; a company or group is taken as state-owned only when its name puts
    it at a level of government (长沙县城投集团), otherwise it is `other`."""
    for pattern, organ_type in _TYPE_RULES:
        if pattern.search(name):
            if organ_type == "state_owned_enterprise" and level not in LEVEL_ORDER[:5]:
                return "other"
            return organ_type
    return "other"


def _organ_like(name: str) -> bool:
    return any(name.endswith(e) for e in _ENDINGS)


def infer_level(name: str, places: Sequence[tuple[str, str]]) -> str | None:
    """The level a name puts its organ at, or None when the name does not say.

    `places`: (name, level) of jurisdictions the request concerns (the home community's street,
    county, city and province). A street office named as such is at street level; a name that begins
    with a county's, city's or province's name (or a bare 县/区/市/省) and ends as an organ's does is at
    that level.
    """
    text = re.sub(r"\s+", "", name)
    if not text:
        return None
    for place, level in sorted(places, key=lambda p: -len(p[0])):
        if level == "street" and place in text:
            return "street"
    if _STREET_OFFICE.search(text):
        return "street"
    if not _organ_like(text):
        return None
    for place, level in sorted(places, key=lambda p: -len(p[0])):
        if level in LEVEL_ORDER[:4] and text.startswith(place):
            return level
        short = _short(place)
        if level in LEVEL_ORDER[:4] and short and len(short) >= 2 and text.startswith(short) and not any(
                text.startswith(p) for p, lv in places if lv != level and len(p) > len(short) and p.startswith(short)):
            return level
    for word, level in _BARE_PREFIX:
        if text.startswith(word):
            return level
    found = _PLACE_PREFIX.match(text)
    if found is not None and not text.startswith(_NOT_PLACES):
        return _PLACE_LEVEL[found.group(1)]
    return None


def _short(place: str) -> str:
    """长沙县 → 长沙, 望城区 → 望城, 湖南省 → 湖南 (how organs often shorten it)."""
    return re.sub(r"(省|自治区|市|自治州|州|县|自治县|区|旗|街道|乡|镇)$", "", place)


def organs_named(text: str) -> list[str]:
    """The organ names a purpose or destination text names after a word of going (至, 到, 派驻, …)."""
    out = []
    for verb in _DESTINATION_VERB.finditer(text):
        found = _ORGAN_NAME.match(text[verb.end():])
        if found is not None:
            out.append(found.group(0))
    return out


def county_level_destination(texts: Iterable[str | None], places: Sequence[tuple[str, str]]
                             ) -> tuple[str, str] | None:
    """The first organ at county level or above that these texts send the worker to: (name, level)."""
    for text in texts:
        if not text:
            continue
        candidates = [*organs_named(text), text.strip()]
        for candidate in candidates:
            level = infer_level(candidate, places)
            if is_county_or_above(level):
                assert level is not None
                return candidate, level
    return None


def names_the_office(organ_name: str, street_name: str | None) -> bool:
    """Does the borrower named the street or township office itself (its name, as an organ)?"""
    if not street_name:
        return False
    text = re.sub(r"\s+", "", organ_name)
    return street_name in text and infer_type(text) in ("organ", "other")
