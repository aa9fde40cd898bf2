"""What a decision document says, in Chinese words, from its frozen content: one implementation for the
printable page (service/web/templates/ui/decision.html) and the PDF (pdf.py).

An official document is written in Chinese whatever the reader's page language; the words come from
service/web/labels.py (names, never codes)."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec

from service.decisions.schemas import DecisionDocument
from service.web import labels as words

LIST_NAMES = {
    "duty": "依法履行职责事项清单", "assisting": "依法协助政府工作事项清单", "prohibited": "社区工作事项负面清单",
    "exterior": "外挂牌子清单", "interior": "室内牌子清单", "mechanism": "工作机制清单",
    "retained": "保留的证明事项清单", "cancelled": "取消的证明事项清单", "report_form": "报表清单",
    "ledger": "台账清单", "app": "政务应用程序清单", "account": "公众账号清单", "work_group": "工作群组清单",
}
KIND_NAMES = {"task": "工作事项", "plaque": "牌子", "certificate": "证明事项", "report": "报表台账",
              "digital": "政务应用与群组"}
FORM_NAMES = {"secondment": "借调", "temporary_transfer": "抽调", "shadow_learning": "跟班学习",
              "task_force": "工作专班"}
VERDICTS = {"clear": "未发现问题", "flagged": "有提示，需审核人确认", "refused": "违反禁止性规定"}
SEVERITIES = {"refuse": "禁止", "flag": "提示"}


class Row(msgspec.Struct, frozen=True):
    label: str
    value: str


class Finding(msgspec.Struct, frozen=True):
    severity: str
    rule: str
    """the rule's title"""
    basis: str
    """the documents it rests on"""
    message: str
    cited: str | None


class Sheet(msgspec.Struct, frozen=True):
    issuer: str
    """the issuing body with its county, e.g. 长沙县委社会工作部"""
    title: str
    number: str
    addressee: str
    opening: str
    """the first paragraph: what was asked and what is decided"""
    rows: list[Row]
    """the request, as a table"""
    verdict: str | None
    findings: list[Finding]
    acknowledged: bool
    reasons_heading: str
    reasons: str
    closing: str | None
    signature: str
    date: str
    digest: str
    event_id: int


def chinese_date(value: str | datetime.date | None) -> str:
    """2026年12月4日 (the written date of an official document, GB/T 9704-2012: Arabic numerals)."""
    if not value:
        return "—"
    day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def issuer_line(county: str, issuer: str) -> str:
    """The county and its body as one name: 长沙县 + 县委社会工作部 → 长沙县委社会工作部; 长沙县 + 民政局 →
    长沙县民政局; a body already named with its county is kept."""
    if not county or issuer.startswith(county):
        return issuer
    if len(issuer) > 1 and issuer[0] == county[-1] and issuer[1] == "委":
        return county + issuer[1:]
    return county + issuer


def _findings(raw: list[dict[str, Any]]) -> list[Finding]:
    out = []
    for f in raw:
        rule = words.rule(str(f.get("rule", "")))
        documents = f.get("documents") or []
        basis = "；".join(
            f"《{d.get('title')}》（{d.get('issuer')}" + (f"，{d['number']}" if d.get("number") else "")
            + (f"，{chinese_date(d['date'])}" if d.get("date") else "") + "）"
            + (f"{d['clause']}" if d.get("clause") else "") for d in documents) or rule["document"]
        out.append(Finding(severity=SEVERITIES.get(str(f.get("severity")), str(f.get("severity"))),
                           rule=rule["title"], basis=basis, message=words.message(f.get("message")),
                           cited=words.cited(str(f.get("rule", "")), f.get("cited"))))
    return out


def _admission(doc: DecisionDocument, c: dict[str, Any]) -> Sheet:
    r = c["request"]
    county = c["county"]["name"] or c["county"]["code"]
    listed = LIST_NAMES.get(r.get("list") or "", r.get("list") or "")
    again = f"，第{r['revision']}次提交" if r.get("revision", 1) > 1 else ""
    asked = (f"你单位于{chinese_date(r.get('submitted_on'))}提交的《{r['title']}》准入申请"
             f"（申请编号第{r['id']}号{again}）收悉。")
    outcome = c["outcome"]
    if outcome == "approved":
        opening = (asked + f"经审核，决定准予准入，列入{county}{listed}"
                   + (f"（事项编号 {c['item_code']}）" if c.get("item_code") else "")
                   + f"，自{chinese_date(c.get('effective_from'))}起生效。")
        heading, closing = "审核意见", "请按照“权随责走、费随事转、人随事转”的要求落实相应经费、人员和权限。"
    elif outcome == "rejected":
        opening = asked + "经审核，决定不予准入。理由如下。"
        heading, closing = "不予准入的理由", "该事项不得交由社区承担；社区有权拒绝未经准入的工作事项。"
    else:
        opening = asked + "经审核，申请材料需要补正，现予退回。请按下列意见修改后重新提交。"
        heading, closing = "补正意见", "补正后重新提交的，按新提交的申请重新审核。"
    targets = "、".join(str(t.get("name") or t.get("code")) for t in r.get("targets") or []) or "—"
    rows = [Row("事项名称", r["title"]), Row("申请单位", r.get("department") or "—"),
            Row("事项类别", f"{KIND_NAMES.get(r.get('kind') or '', r.get('kind') or '')}（{listed}）"),
            Row("社区角色", words.text("community_role", r.get("community_role"))),
            Row("涉及范围", targets), Row("依据", r.get("basis") or "未填写"),
            Row("开始日期", chinese_date(r.get("start_date"))), Row("提交日期", chinese_date(r.get("submitted_on")))]
    if r.get("content"):
        rows.insert(1, Row("事项内容", r["content"]))
    return Sheet(
        issuer=issuer_line(county, c["issuer"]), title=c["title"], number=c["document_number"],
        addressee=f"{r.get('department') or '申请单位'}：", opening=opening, rows=rows,
        verdict=VERDICTS.get(c.get("verdict") or ""), findings=_findings(c.get("findings") or []),
        acknowledged=bool(c.get("acknowledged_findings")), reasons_heading=heading, reasons=c.get("reasons") or "",
        closing=closing, signature=issuer_line(county, c["issuer"]), date=chinese_date(c["issued_on"]),
        digest=doc.content_digest, event_id=doc.audit_event_id)


def _secondment(doc: DecisionDocument, c: dict[str, Any]) -> Sheet:
    r = c["request"]
    county = c["county"]["name"]
    organ = r.get("organ") or {}
    form = FORM_NAMES.get(r.get("form") or "", r.get("form") or "")
    home = (r.get("home_community") or {}).get("name") or "—"
    people = [w.get("display_name") or w.get("worker_ref") for w in r.get("workers") or []]
    approve = c["outcome"] == "approve"
    opening = (f"{organ.get('name', '')}于{chinese_date(r.get('submitted_on'))}申请以{form}形式借调{home}社区工作者"
               f"{len(people)}名（{'、'.join(map(str, people))}），期限自{chinese_date(r.get('start_date'))}至"
               f"{chinese_date(r.get('end_date'))}。经审核，"
               + ("同意借调。" if approve else "不同意借调。"))
    rows = [Row("借调单位", f"{organ.get('name', '—')}（{words.text('level', organ.get('level'))}）"),
            Row("借调形式", form + ("（视同借调）" if r.get("form") != "secondment" else "")),
            Row("所在社区", home), Row("社区工作者", "、".join(map(str, people)) or "—"),
            Row("借调事由", r.get("purpose") or "—"),
            Row("借调期限", f"{chinese_date(r.get('start_date'))}至{chinese_date(r.get('end_date'))}"),
            Row("本人同意", "是" if r.get("worker_consent") else "否"),
            Row("所在社区同意", "是" if r.get("community_consent") else "否")]
    if r.get("requested_start_date") and r.get("requested_start_date") != r.get("start_date"):
        rows.append(Row("申请的开始日期", chinese_date(r["requested_start_date"]) + "（批准前已过，自批准之日起算）"))
    warning = c.get("staffing_warning")
    if warning:
        rows.append(Row("配备标准提示", f"借调后所在社区在岗 {warning.get('present_after')} 人，"
                                      f"按标准应配 {warning.get('required')} 人"))
    closing = ("借调期满，借调人员应按时返回所在社区工作；需延期的，应在期满前申请，累计不得超过规定期限。"
               if approve else "借调单位不得以抽调、跟班学习、工作专班等形式变相借调。")
    return Sheet(
        issuer=issuer_line(county, c["issuer"]), title=c["title"], number=c["document_number"],
        addressee=f"{organ.get('name') or '借调单位'}：", opening=opening, rows=rows, verdict=None, findings=[],
        acknowledged=False, reasons_heading="审批意见", reasons=c.get("reasons") or "", closing=closing,
        signature=issuer_line(county, c["issuer"]), date=chinese_date(c["issued_on"]), digest=doc.content_digest,
        event_id=doc.audit_event_id)


def sheet(doc: DecisionDocument) -> Sheet:
    """The document's words, from what was frozen when it was issued."""
    content = doc.content
    return _secondment(doc, content) if doc.kind == "secondment_decision" else _admission(doc, content)
