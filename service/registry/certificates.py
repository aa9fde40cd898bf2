"""Certificates (证明事项): the national list of 民发〔2020〕20号 exactly as published, and the one place
that reads a resident's wording ("开个无犯罪证明", "證明一下我還活著") as an official certificate name.

The policy engine and the registry call `match_listed` / `match_national`; the registry's writes call
`refuse_retaining_cancelled` so that no county, import or approval keeps a cancelled certificate under
its name or a near name.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Literal

import asyncpg
import msgspec
from opencc import OpenCC

from service.core.errors import InvalidParam, ValidationFailed
from service.registry import queries

# ---- the document ----

DOCUMENT_TITLE = "关于改进和规范基层群众性自治组织出具证明工作的指导意见"
DOCUMENT_ISSUER = "民政部、国家发展改革委、公安部、司法部、人力资源社会保障部、国家卫生健康委"
DOCUMENT_NUMBER = "民发〔2020〕20号"
DOCUMENT_PUBLISHED = datetime.date(2020, 4, 27)
DOCUMENT_CITATION = f"《{DOCUMENT_TITLE}》（{DOCUMENT_ISSUER}，{DOCUMENT_NUMBER}，2020年4月印发）"
LIST_NAME = "不应由基层群众性自治组织出具证明事项清单（第一批）"
RULE_NOT_ISSUED = ("凡是没有法律法规依据或未经国务院批准列入保留证明事项清单的证明事项，"
                   "基层群众性自治组织不予出具。")
RESPONSIBLE_DEPARTMENT = "负责该事项的主管部门"


class NationalCertificate(msgspec.Struct, frozen=True):
    code: str
    name: str
    """the official name, as the first-batch list gives it"""
    issued_instead_by: str
    """who issues or verifies it instead: named only where the document or a national rule says so"""
    near_names: tuple[str, ...] = ()
    """residents' own words for it, and names used by provincial lists"""


# The twenty, in the order of the published list (codes are the demo's since its first load, hence not in
# order). Where no national rule names the issuer, the answer says the department responsible for the
# matter, and does not guess.
NATIONAL_CANCELLED: tuple[NationalCertificate, ...] = (
    NationalCertificate("C-X-01", "亲属关系证明", RESPONSIBLE_DEPARTMENT,
                        ("亲属证明", "直系亲属关系证明", "直系亲属证明", "家庭关系证明", "父母子女关系证明",
                         "父子关系证明", "母子关系证明", "夫妻关系证明", "兄弟姐妹关系证明")),
    NationalCertificate("C-X-02", "居民身份信息证明", "公安机关（居民身份证、户口登记）",
                        ("身份信息证明", "个人身份信息证明", "身份证明", "个人身份证明", "本人身份证明")),
    NationalCertificate("C-X-20", "户口登记项目内容变更申请证明", "公安机关户籍管理部门",
                        ("户口登记项目内容变更更正证明", "户口登记项目变更更正申请证明", "户口变更证明",
                         "户口更正证明", "户口登记变更证明", "户口信息变更证明", "户籍信息变更证明",
                         "改名证明", "更改姓名证明", "更正出生日期证明")),
    NationalCertificate("C-X-03", "居民养犬证明", RESPONSIBLE_DEPARTMENT,
                        ("养犬证明", "养狗证明", "犬只证明", "办狗证证明")),
    NationalCertificate("C-X-04", "无犯罪记录证明", "公安机关",
                        ("无犯罪证明", "无违法犯罪记录证明", "无违法犯罪证明", "无刑事犯罪记录证明",
                         "没有犯罪记录证明", "没有犯罪证明", "良民证", "无犯罪记录")),
    NationalCertificate("C-X-19", "社区戒毒社区康复人员情况证明", "街道办事处、乡镇人民政府（社区戒毒社区康复工作）",
                        ("社区戒毒社区康复人员表现证明", "社区戒毒证明", "社区康复证明", "戒毒证明",
                         "戒毒康复证明", "戒毒表现证明", "戒毒人员情况证明")),
    NationalCertificate("C-X-05", "人员失踪证明", "人民法院（宣告失踪）",
                        ("失踪证明", "失踪人员证明", "下落不明证明", "走失证明")),
    NationalCertificate("C-X-06", "婚姻状况证明", "婚姻登记机关（民政部门）",
                        ("单身证明", "未婚证明", "已婚证明", "离婚证明", "丧偶证明", "婚姻证明",
                         "婚姻情况证明", "无婚姻登记记录证明", "无配偶证明")),
    NationalCertificate("C-X-07", "出生证明", "助产医疗机构（出生医学证明）",
                        ("出生医学证明", "出生情况证明", "出生地证明")),
    NationalCertificate("C-X-08", "健在证明", "社会保险经办机构（待遇领取资格认证）",
                        ("生存证明", "活着证明", "还活着证明", "在世证明", "存活证明", "生存状况证明",
                         "健在情况证明", "领取养老金生存证明")),
    NationalCertificate("C-X-09", "死亡证明", "医疗卫生机构（居民死亡医学证明）或公安机关（非正常死亡）",
                        ("死亡医学证明", "去世证明", "过世证明", "死亡情况证明", "亡故证明")),
    NationalCertificate("C-X-10", "疾病状况证明", "医疗机构",
                        ("疾病证明", "病情证明", "患病证明", "生病证明", "疾病情况证明", "大病证明")),
    NationalCertificate("C-X-11", "残疾状况证明", "残疾人联合会（残疾人证）",
                        ("残疾证明", "残疾情况证明", "伤残证明", "残障证明")),
    NationalCertificate("C-X-12", "婚育状况证明", RESPONSIBLE_DEPARTMENT,
                        ("婚育证明", "婚育情况证明", "生育状况证明", "生育情况证明", "生育证明",
                         "计划生育证明", "计生证明", "未生育证明")),
    NationalCertificate("C-X-13", "居民就业状况证明", "人力资源社会保障部门（就业失业登记）",
                        ("就业状况证明", "就业证明", "就业情况证明", "失业证明", "待业证明", "无业证明",
                         "未就业证明", "无工作证明")),
    NationalCertificate("C-X-14", "居民个人档案证明", "档案保管单位",
                        ("个人档案证明", "档案证明", "人事档案证明", "档案情况证明")),
    NationalCertificate("C-X-15", "居民财产证明", "不动产登记机构等财产登记部门",
                        ("财产证明", "财产状况证明", "个人财产证明", "房产证明", "家庭财产证明")),
    NationalCertificate("C-X-16", "遗产继承权证明", "公证机构或人民法院",
                        ("继承权证明", "遗产继承证明", "继承证明", "继承关系证明")),
    NationalCertificate("C-X-17", "市场主体住所证明", "市场主体登记机关（市场监督管理部门）",
                        ("经营场所证明", "营业场所证明", "企业住所证明", "公司住所证明", "注册地址证明",
                         "经营地址证明", "个体工商户经营场所证明")),
    NationalCertificate("C-X-18", "证件遗失证明", RESPONSIBLE_DEPARTMENT,
                        ("遗失证明", "丢失证明", "证件丢失证明", "身份证遗失证明", "身份证丢失证明",
                         "户口本丢失证明", "证书遗失证明")),
)

# Where a certificate matches nothing: the department that usually issues what the words are about.
USUAL_ISSUERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("户口", "户籍", "身份证", "迁移", "居住证"), "公安机关"),
    (("结婚", "离婚", "婚姻", "收养"), "婚姻登记机关（民政部门）"),
    (("病", "医", "健康", "体检", "住院"), "医疗机构"),
    (("社保", "养老金", "退休", "医保", "参保"), "社会保险经办机构"),
    (("房", "不动产", "土地"), "不动产登记机构"),
    (("学", "入园", "学籍"), "教育行政部门或学校"),
    (("企业", "公司", "营业", "经营", "个体"), "市场监督管理部门"),
    (("工资", "收入", "在职", "工作单位"), "用人单位"),
    (("残",), "残疾人联合会"),
    (("税", "纳税"), "税务部门"),
    (("车", "驾驶"), "公安机关交通管理部门"),
)

# ---- reading residents' words ----

MATCH_THRESHOLD = 0.7
"""below this a name is not taken as meaning the certificate asked about"""
REFUSE_THRESHOLD = 0.85
"""from this a retained item's title is the cancelled certificate under another name"""

_T2S = OpenCC("t2s")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
# one filler at a time, so that every reading in between is tried too ("出生证明" keeps its 出)
_LEADING = re.compile(
    r"^(?:请问|请|麻烦|您好|你好|帮我|帮忙|帮|给我|替我|我想要|我想|我要|我需要|需要|想要|要|我|本人|"
    r"能不能|能否|可不可以|可以|是否|怎么|如何|去|到|在|社区|居委会|村委会|居民委员会|给|"
    r"开具|开个|开一个|开一张|开一份|开张|开份|开|出具|出个|出|办理|办个|办一个|办|打印|申请|盖章|盖个章|"
    r"证明一下|证明下|一份|一张|一个|个|张|还)")
_TRAILING = re.compile(r"(?:一下|吗|呢|么|嘛|吧|啊|呀|行不行|可以吗|行吗|能开吗|能不能开|可以开吗|能不能|"
                       r"怎么开|怎么办|在哪开|在哪里开|哪里开)$")
_SUFFIX = re.compile(r"(?:证明书|证明信|证明材料|证明)$")
# variants OpenCC leaves as they are (著 is simplified too, but residents mean 着 in 活著)
_VARIANTS = str.maketrans({"著": "着"})
READINGS_MAX = 40

MatchKind = Literal["exact", "near_name", "partial", "similar"]


class CertificateMatch(msgspec.Struct, frozen=True):
    """What a query was read as: the official name, the name that matched it, how, and how sure."""

    official_name: str
    matched_name: str
    match: MatchKind
    confidence: float
    national: NationalCertificate | None = None


def normalise(text: str) -> str:
    """Simplified characters, full-width folded, lower case, no spaces, punctuation or 的."""
    text = _T2S.convert(unicodedata.normalize("NFKC", text)).translate(_VARIANTS).lower()
    return _NOT_WORD.sub("", text).replace("的", "")


def readings(query: str) -> list[str]:
    """The query normalised, then with its filler words taken off one by one at either end: every
    reading is matched and the best one counts ("我要开个良民证" … "良民证"; "出生证明" stays whole)."""
    seen: list[str] = []
    fronts = [normalise(query)]
    while fronts and len(seen) < READINGS_MAX:
        text = fronts.pop()
        while text and len(seen) < READINGS_MAX:
            if text not in seen:
                seen.append(text)
            shorter = _TRAILING.sub("", text, count=1)
            if shorter != text:
                fronts.append(shorter)
            stripped = _LEADING.sub("", text, count=1)
            if stripped == text:
                break
            text = stripped
    return seen


def core(name: str) -> str:
    """A normalised name without its '证明' ending: 活着证明 and 活着 are the same ask."""
    stripped = _SUFFIX.sub("", name)
    return stripped or name


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def score(query_core: str, name_core: str) -> tuple[float, MatchKind] | None:
    if not query_core or not name_core:
        return None
    if query_core == name_core:
        return 1.0, "exact"
    if len(name_core) >= 2 and name_core in query_core:  # the query says more: "还活着" holds "活着"
        return round(0.75 + 0.2 * len(name_core) / len(query_core), 4), "partial"
    if len(query_core) >= 2 and query_core in name_core and len(query_core) / len(name_core) >= 0.7:
        return round(0.5 + 0.4 * len(query_core) / len(name_core), 4), "partial"  # it says less
    a, b = _bigrams(query_core), _bigrams(name_core)
    if not a or not b:
        return None
    dice = 2 * len(a & b) / (len(a) + len(b))
    return (round(dice, 4), "similar") if dice > 0 else None


@cache
def _national_by_name() -> dict[str, NationalCertificate]:
    """Every official and near name (normalised) -> the national certificate it names."""
    out: dict[str, NationalCertificate] = {}
    for cert in NATIONAL_CANCELLED:
        for name in (cert.name, *cert.near_names):
            out[normalise(name)] = cert
    return out


def national_for_title(title: str) -> NationalCertificate | None:
    """The national certificate a listed title is (its official name or a near name), if any."""
    return _national_by_name().get(normalise(title))


def _best(query: str, names: Iterable[tuple[str, str, bool, Any]]) -> tuple[CertificateMatch, Any] | None:
    """names: (name, official name, is it the official name, payload). Highest score, then the longer name."""
    cores = [core(r) for r in readings(query)]
    best: tuple[float, int, CertificateMatch, Any] | None = None
    for name, official, is_official, payload in names:
        name_core = core(normalise(name))
        found = max((f for f in (score(c, name_core) for c in cores) if f is not None), default=None)
        if found is None:
            continue
        value, kind = found
        if kind == "exact" and not is_official:
            value, kind = 0.95, "near_name"
        if value < MATCH_THRESHOLD:
            continue
        rank = (value, len(name))
        if best is None or rank > best[:2]:
            national = payload if isinstance(payload, NationalCertificate) else national_for_title(official)
            best = (value, len(name), CertificateMatch(official_name=official, matched_name=name, match=kind,
                                                       confidence=value, national=national), payload)
    return (best[2], best[3]) if best else None


def _national_names() -> Iterable[tuple[str, str, bool, Any]]:
    for cert in NATIONAL_CANCELLED:
        yield cert.name, cert.name, True, cert
        for near in cert.near_names:
            yield near, cert.name, False, cert


def match_national(query: str) -> CertificateMatch | None:
    """The national cancelled certificate a query means, if it means one."""
    found = _best(query, _national_names())
    return found[0] if found else None


def match_listed(query: str, items: Sequence[Any]) -> tuple[CertificateMatch, Any] | None:
    """The listed certificate (ListedItem-like: code, title, list) a query means, by code, title or a near
    name of the national certificate the title is. A title that is a nationally cancelled certificate
    is read as cancelled whatever list it sits on (see `cancelled_nationally`)."""
    needle = query.strip()
    for item in items:
        if item.code == needle:
            return CertificateMatch(official_name=item.title, matched_name=item.code, match="exact",
                                    confidence=1.0, national=national_for_title(item.title)), item

    def names() -> Iterable[tuple[str, str, bool, Any]]:
        for item in items:
            yield item.title, item.title, True, item
            national = national_for_title(item.title)
            if national is not None:
                for near in (national.name, *national.near_names):
                    if near != item.title:
                        yield near, item.title, False, item

    return _best(query, names())


def cancelled_nationally(title: str) -> CertificateMatch | None:
    """The national cancelled certificate a title is, by its name or a near name (confidence ≥ REFUSE)."""
    found = match_national(title)
    return found if found is not None and found.confidence >= REFUSE_THRESHOLD else None


def usual_issuer(query: str) -> str:
    """The department that usually issues what a query is about; the responsible department otherwise."""
    text = normalise(query)
    for words, department in USUAL_ISSUERS:
        if any(w in text for w in words):
            return department
    return RESPONSIBLE_DEPARTMENT


# ---- the registry's hook: no retained certificate under a cancelled one's name ----

def refusal(title: str, cancelled: str, cited: str, *, field: str = "item.title") -> ValidationFailed:
    reason = (f"“{title}”即已取消的证明事项“{cancelled}”，不得列入保留的证明事项清单：{cited}。"
              f"{RULE_NOT_ISSUED}")
    return ValidationFailed(reason, invalid_params=[InvalidParam(name=field, reason=reason,
                                                                 rule="certificate.cancelled-not-retained")],
                            rule="certificate.cancelled-not-retained",
                            extra={"cancelled": cancelled, "document": DOCUMENT_CITATION})


async def refuse_retaining_cancelled(conn: asyncpg.Connection, *, scope: str, item: Any) -> None:
    """Raise (422) when a retained certificate is a cancelled one: a national one by its name or a near
    name, or one a template scope above (national, the province) has cancelled, by its title."""
    if item.kind != "certificate" or item.list != "retained":
        return
    national = cancelled_nationally(item.title)
    if national is not None:
        raise refusal(item.title, national.official_name, f"{DOCUMENT_CITATION}附件《{LIST_NAME}》")
    if scope == "national":
        return
    templates = ["national"] if len(scope) == 2 else ["national", scope[:2]]
    rows = await conn.fetch(queries.CANCELLED_CERTIFICATES, templates)
    found = _best(item.title, ((r["title"], r["title"], True, r) for r in rows))
    if found is not None and found[0].confidence >= REFUSE_THRESHOLD and found[1]["code"] != item.code:
        row = found[1]
        basis = " ".join(x for x in (row["basis"], row["basis_number"]) if x) or f"{row['scope']} 清单"
        raise refusal(item.title, row["title"], f"{basis}（{row['scope']} {row['code']}）")
