"""The documents the lists and the check rest on, cited as a community worker can hand them back: title,
issuer, number where it has one, date (DOMAIN.md, "The documents, exactly"). No number is invented: a
document published without one is cited by title, issuer and date.

`cite` completes what a list item records (its basis title, and a number that may be wrong or partial in
older data) from this table; `for_rule` names the documents behind each rule of the enforcement check.
"""

from __future__ import annotations

import datetime

import msgspec


class Document(msgspec.Struct, frozen=True):
    title: str
    issuer: str
    number: str | None
    date: datetime.date
    date_text: str
    """the date as the document is known to have been issued or published (a month, when only that is known)"""
    clause: str | None = None


NOTICE_2015 = Document("关于进一步开展社区减负工作的通知", "民政部、中央组织部", "民发〔2015〕136号",
                       datetime.date(2015, 7, 13), "2015年7月13日")
CERTIFICATES_2020 = Document("关于改进和规范基层群众性自治组织出具证明工作的指导意见",
                             "民政部、国家发展改革委、公安部、司法部、人力资源社会保障部、国家卫生健康委",
                             "民发〔2020〕20号", datetime.date(2020, 4, 27), "2020年4月印发")
OPINION_2024 = Document("关于加强社区工作者队伍建设的意见", "中共中央办公厅、国务院办公厅", None,
                        datetime.date(2024, 3, 28), "2024年3月28日", "第17条")
FORMALISM_2024 = Document("整治形式主义为基层减负若干规定", "中共中央办公厅、国务院办公厅", None,
                          datetime.date(2024, 8, 1), "2024年8月")
APPS_2026 = Document("政务移动互联网应用程序规范化管理办法", "国务院办公厅", "国办函〔2026〕12号",
                     datetime.date(2026, 1, 25), "2026年1月25日")
KNOWN = (NOTICE_2015, CERTIFICATES_2020, OPINION_2024, FORMALISM_2024, APPS_2026)


def _plain(title: str) -> str:
    return title.strip().strip("《》").strip()


def known(title: str | None) -> Document | None:
    """The document a recorded basis names, if it is one of the national documents above."""
    if not title:
        return None
    plain = _plain(title)
    return next((d for d in KNOWN if d.title == plain), None)


class Cited(msgspec.Struct, frozen=True):
    """A document as shown: the known document's own details, else what the item records."""

    title: str
    issuer: str | None
    number: str | None
    date_text: str | None
    clause: str | None

    def text(self) -> str:
        details = "，".join(x for x in (self.issuer, self.number, self.date_text) if x)
        return f"《{self.title}》" + (f"（{details}）" if details else "") + (self.clause or "")


def cite(title: str | None, number: str | None = None, *, issuer: str | None = None,
         date: datetime.date | str | None = None) -> Cited | None:
    """A list item's basis as a citation. For a known national document its published number wins over
    a recorded one (older data carried wrong numbers); a number that is a clause (第三条) stays the clause."""
    if not title:
        return None
    doc = known(title)
    clause = number if number and not any(ch in number for ch in "〔[") else None
    if doc is not None:
        return Cited(doc.title, doc.issuer, doc.number, doc.date_text, clause or doc.clause)
    recorded = number if number and clause is None else None
    if isinstance(date, str):
        try:
            date = datetime.date.fromisoformat(date[:10])
        except ValueError:
            date = None
    when = f"{date.year}年{date.month}月{date.day}日" if date else None
    return Cited(_plain(title), issuer, recorded, when, clause)


# the enforcement check's rules: what each says in one sentence, and the documents behind it
RULES: dict[str, tuple[str, tuple[Document, ...]]] = {
    "registry.prohibited": ("该事项列入不得交由社区承担的事项清单。", (NOTICE_2015, OPINION_2024)),
    "registry.cancelled": ("该证明列入社区不再出具的证明清单，社区不予出具。", (CERTIFICATES_2020,)),
    "prohibited.national": ("该事项属于国家明令不得交由社区承担的事项。", (NOTICE_2015, OPINION_2024)),
    "responsible-party.prohibited": ("社区不得作为该事项的责任主体，只能依法协助。", (OPINION_2024, NOTICE_2015)),
    "department.no-right": ("该部门无权向本社区交办工作事项。", (OPINION_2024,)),
    "not-admitted": ("该事项未列入本县社区工作事项清单，未经准入，社区有权拒绝。", (OPINION_2024,)),
    "registry.not-yet-effective": ("该事项虽经准入，但尚未生效。", (OPINION_2024,)),
    "registry.suspended": ("该事项已暂停执行。", (OPINION_2024,)),
    "registry.retired": ("该事项已退出清单。", (OPINION_2024,)),
    "registry.expired": ("该事项已过有效期。", (OPINION_2024,)),
    "registry.assisting-only": ("该事项属于协助政府的工作，社区只能协助，不能作为责任主体。", (OPINION_2024,)),
    "registry.admitted": ("该事项已列入本县社区工作事项清单。", ()),
}


def for_rule(rule: str) -> tuple[str, tuple[Document, ...]]:
    return RULES.get(rule, ("", ()))


def as_cited(doc: Document) -> Cited:
    return Cited(doc.title, doc.issuer, doc.number, doc.date_text, doc.clause)


def from_policy(doc: dict[str, str | None]) -> Cited:
    """A document as a policy finding carries it (policies/prohibitions.toml: title, issuer, number where
    one exists, date as YYYY-MM-DD or YYYY-MM, clause), shown as the others are."""
    raw = doc.get("date") or ""
    parts = [int(p) for p in raw.split("-") if p.isdigit()]
    when = "".join(f"{n}{unit}" for n, unit in zip(parts, ("年", "月", "日"), strict=False)) or None
    return Cited(str(doc.get("title") or ""), doc.get("issuer"), doc.get("number"), when, doc.get("clause"))
