"""Every code the pages would otherwise show, in words: states, roles, audit actions, rules, fields, enums.

One table per kind of code, each entry (Chinese, English). `text(table, key, locale)` picks the page's
language; a key no table knows is returned as it is (a test keeps the audit actions and the roles
complete). Server messages follow the API's "中文 (English)" convention; `message()` keeps the page's
language only and writes ISO dates the Chinese way on a Chinese page.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

Pair = tuple[str, str]

STATUS: dict[str, Pair] = {
    "draft": ("草稿", "Draft"), "submitted": ("已提交", "Submitted"), "in_review": ("审核中", "In review"),
    "approved": ("已批准", "Approved"), "rejected": ("已驳回", "Rejected"),
    "returned": ("已退回修改", "Returned for amendment"), "resubmitted": ("已重新提交", "Resubmitted"),
    "withdrawn": ("已撤回", "Withdrawn"), "revoked": ("已撤销", "Revoked"),
    "refused": ("已拒绝（自动）", "Refused (automatically)"), "pending_approval": ("待审批", "Awaiting approval"),
    "active": ("借调中", "On secondment"), "overdue": ("逾期未返岗", "Overdue, not returned"),
    "received": ("已受理", "Received"), "under_investigation": ("调查中", "Under investigation"),
    "substantiated": ("属实", "Substantiated"), "unfounded": ("不属实", "Unfounded"),
    "pending": ("待审批", "Pending"),
}
# a secondment that has ended with the worker back at the community: not "returned for amendment"
SECONDMENT_STATUS: dict[str, Pair] = {**STATUS, "returned": ("已返岗", "Returned to post"),
                                      "approved": ("已批准（未开始）", "Approved (not started)")}
ITEM_STATUS: dict[str, Pair] = {"active": ("有效", "In force"), "suspended": ("已暂停", "Suspended"),
                                "retired": ("已退出", "Retired")}

ROLES: dict[str, Pair] = {
    "department": ("部门", "Department"), "street_office": ("街道办事处", "Street office"),
    "county_reviewer": ("县级审核人", "County reviewer"), "org_department": ("县委组织部", "Organisation department"),
    "community": ("社区", "Community"), "supervisor": ("监督审计", "Supervisor"), "admin": ("管理员", "Administrator"),
}

ACTIONS: dict[str, Pair] = {
    "admission.draft": ("保存准入申请草稿", "Saved an admission request draft"),
    "admission.edit_draft": ("修改准入申请草稿", "Edited an admission request draft"),
    "admission.submit": ("提交准入申请", "Submitted an admission request"),
    "admission.resubmit": ("重新提交准入申请", "Resubmitted an admission request"),
    "admission.refuse": ("准入申请被自动拒绝", "Admission request refused automatically"),
    "admission.start_review": ("开始审核准入申请", "Started reviewing an admission request"),
    "admission.approve": ("批准准入申请", "Approved an admission request"),
    "admission.reject": ("驳回准入申请", "Rejected an admission request"),
    "admission.return": ("退回准入申请修改", "Returned an admission request for amendment"),
    "admission.withdraw": ("撤回准入申请", "Withdrew an admission request"),
    "admission.revoke": ("撤销准入决定", "Revoked an admission decision"),
    "admission.rule_add": ("新增本县审查规则", "Added a county screening rule"),
    "admission.rule_retire": ("停用本县审查规则", "Retired a county screening rule"),
    "secondment.submit": ("提交借调申请", "Submitted a secondment request"),
    "secondment.refuse": ("借调申请被自动拒绝", "Secondment request refused automatically"),
    "secondment.approve": ("批准借调", "Approved a secondment"),
    "secondment.reject": ("不予批准借调", "Rejected a secondment"),
    "secondment.withdraw": ("撤回借调申请", "Withdrew a secondment request"),
    "secondment.activate": ("借调开始", "Secondment started"),
    "secondment.overdue": ("借调逾期未返岗", "Secondment overdue"),
    "secondment.return": ("登记返岗", "Recorded a return to post"),
    "secondment.extension_request": ("申请延长借调", "Requested an extension"),
    "secondment.extension_approve": ("批准延长借调", "Approved an extension"),
    "secondment.extension_reject": ("不予批准延长借调", "Rejected an extension"),
    "registry.add": ("清单新增事项", "Added a list item"), "registry.amend": ("修改清单事项", "Amended a list item"),
    "registry.suspend": ("暂停清单事项", "Suspended a list item"),
    "registry.resume": ("恢复清单事项", "Resumed a list item"),
    "registry.retire": ("清单事项退出", "Retired a list item"),
    "registry.release": ("发布清单版本", "Published a list release"),
    "registry.import": ("导入清单", "Imported a list"),
    "complaint.file": ("受理投诉", "Complaint filed"),
    "complaint.under_investigation": ("投诉转入调查", "Complaint under investigation"),
    "complaint.substantiated": ("投诉认定属实", "Complaint found substantiated"),
    "complaint.unfounded": ("投诉认定不属实", "Complaint found unfounded"),
    "refusal.record": ("登记社区拒绝", "Recorded a community's refusal"),
    "check.ask": ("核验事项", "Checked a matter"), "check.refused": ("核验不予准入", "Check refused a matter"),
    "auth.login": ("登录", "Signed in"), "auth.logout": ("退出登录", "Signed out"),
    "auth.token": ("获取访问令牌", "Obtained an access token"),
    "token.create": ("签发访问令牌", "Issued an access token"), "token.revoke": ("吊销访问令牌", "Revoked a token"),
    "user.create": ("新建用户", "Created a user"), "client.create": ("新建接口客户端", "Created an API client"),
    "client.callback": ("设置回调地址", "Set a callback address"),
    "role.grant": ("授予角色", "Granted a role"), "role.revoke": ("撤销角色", "Revoked a role"),
    "jurisdiction.create": ("新建行政区", "Created a jurisdiction"),
    "jurisdiction.update": ("修改行政区", "Updated a jurisdiction"),
    "jurisdiction.move": ("调整行政区隶属", "Moved a jurisdiction"),
    "jurisdiction.import": ("导入行政区", "Imported jurisdictions"),
    "county_setting.update": ("修改本县设置", "Changed county settings"),
    "calendar.add": ("新增工作日历日期", "Added a calendar day"),
    "calendar.remove": ("删除工作日历日期", "Removed a calendar day"),
    "community_worker.create": ("登记社区工作者", "Registered a community worker"),
    "community_worker.update": ("修改社区工作者信息", "Updated a community worker"),
    "community_worker.import": ("导入社区工作者花名册", "Imported the worker roster"),
    "audit.cosignature.add": ("添加审计日志见证签名", "Added an audit-log cosignature"),
    "route.undeclared": ("访问未声明权限的接口", "Called a route without declared access"),
    "route.authenticated": ("未登录访问", "Unauthenticated access"),
    "request.repeated-parameter": ("请求参数重复", "Repeated query parameter"),
}
# a refusal recorded by the guard names the permission it lacked: "<object>.<act>"
OBJECTS: dict[str, Pair] = {
    "admission_request": ("准入申请", "admission request"), "secondment_request": ("借调申请", "secondment request"),
    "complaint": ("投诉", "complaint"), "jurisdiction": ("行政区", "jurisdiction"),
    "audit_event": ("审计事件", "audit event"), "refusal": ("社区拒绝记录", "refusal"),
    "registry_item": ("清单事项", "list item"), "matter_refusal": ("社区拒绝记录", "refusal"),
    "community_worker": ("社区工作者", "community worker"), "web_user": ("网页用户", "web user"),
    "api_client": ("接口客户端", "API client"), "token": ("访问令牌", "token"), "role": ("角色", "role"),
    "screening_rule": ("审查规则", "screening rule"), "release": ("清单版本", "list release"),
    "check": ("核验", "check"), "check_receipt": ("核验回执", "check receipt"), "request": ("请求", "request"),
    "calendar": ("工作日历", "calendar"), "county_setting": ("本县设置", "county settings"),
    "staffing": ("人员配备", "staffing"), "audit_log": ("审计日志", "audit log"),
}
ACTS: dict[str, Pair] = {
    "read": ("查看", "read"), "create": ("新建", "create"), "update": ("修改", "update"), "review": ("审核", "review"),
    "decide": ("审批", "decide"), "return": ("登记返岗", "record a return"), "manage": ("办理", "manage"),
    "submit": ("提交", "submit"), "import": ("导入", "import"), "export": ("导出", "export"),
}
OUTCOMES: dict[str, Pair] = {"ok": ("成功", "Succeeded"), "denied": ("拒绝访问", "Access denied"),
                             "refused": ("拒绝办理", "Refused"), "failed": ("失败", "Failed")}
ACTOR_TYPES: dict[str, Pair] = {"user": ("网页用户", "Web user"), "client": ("接口客户端", "API client"),
                                "anonymous": ("匿名", "Anonymous"), "system": ("系统", "System")}

# (title, document): the rules the screening and the secondment checks cite
OPINION = ("《关于加强社区工作者队伍建设的意见》（中共中央办公厅、国务院办公厅，2024年）",
           "Opinion on strengthening the community-worker workforce (2024)")
MINFA = ("《关于进一步开展社区减负工作的通知》（民发〔2015〕136号）",
         "Notice on further reducing community burdens (Minfa [2015] No. 136)")
FORMALISM = ("《整治形式主义为基层减负若干规定》（2024年）", "Several Provisions on rectifying formalism (2024)")
COUNTY = ("本县准入规定", "The county's admission rules")
APPS = ("《政务移动互联网应用程序规范化管理办法》（国务院办公厅，国办函〔2026〕12号）",
        "Measures on government mobile apps (General Office of the State Council, Guobanhan [2026] No. 12)")
RULES: dict[str, tuple[Pair, Pair]] = {
    "admission.duplicate": (("与清单内事项重复", "Duplicates a listed item"), OPINION),
    "admission.missing-basis": (("缺少法律或政策依据", "No legal or policy basis"), COUNTY),
    "admission.assisting-without-resources": (("权随责走、费随事转、人随事转", "Resources follow the task"), OPINION),
    "admission.notice-period": (("提前申报的工作日", "Notice period in working days"), COUNTY),
    "admission.end-before-start": (("起止日期", "Start and end dates"), COUNTY),
    "admission.report-fields-collected": (("一次采集、多方利用", "Collect once, use many times"), OPINION),
    "prohibited.declared-list": (("社区工作事项负面清单", "The prohibited list"), OPINION),
    "plaque.exterior-max": (("社区外挂牌子数量", "Number of exterior plaques"), OPINION),
    "plaque.mechanism": (("工作机制须经准入", "A working mechanism needs admission"), OPINION),
    "digital.app-below-county": (("县级以下单位不得自建政务应用程序", "No apps built below county level"), APPS),
    "digital.app-unfiled": (("政务应用程序须先备案", "An app is filed before use"), APPS),
    "digital.forced-check-in": (("不得强制打卡签到", "No forced check-in"), APPS),
    "digital.points-ranking": (("不得积分排名", "No points ranking"), APPS),
    "digital.online-time": (("不得要求在线时长", "No online-time demands"), APPS),
    "digital.group-round-the-clock": (("工作群不得要求全天候在线", "No round-the-clock presence in work groups"),
                                      OPINION),
    "digital.group-reply-minutes": (("工作群不得限时几分钟内回复", "No replies within minutes in work groups"),
                                    OPINION),
    "responsible.enforcement": (("不得以社区为行政执法的责任主体", "Community not responsible for enforcement"),
                                OPINION),
    "responsible.demolition": (("不得以社区为拆迁拆违的责任主体", "Community not responsible for demolition"),
                               OPINION),
    "responsible.environment": (("不得以社区为环境整治的责任主体",
                                 "Community not responsible for environmental rectification"), OPINION),
    "responsible.urban_management": (("不得以社区为城市管理的责任主体",
                                      "Community not responsible for urban management"), OPINION),
    "responsible.work_safety": (("不得以社区为安全生产的责任主体", "Community not responsible for work safety"),
                                OPINION),
    "power.enforcement": (("社区不行使行政执法权", "No enforcement powers for communities"), OPINION),
    "economic.target": (("不得向社区下达经济指标", "No economic targets for communities"), MINFA),
    "pledge": (("不得要求社区签订责任书", "No responsibility pledges"), FORMALISM),
    "veto": (("不得对社区实行一票否决", "No one-vote vetoes"), FORMALISM),
    "paper_trail": (("不以拍照留痕评价社区工作", "No judging by photos and paper trails"), FORMALISM),
    "prohibited.content.screenshots": (("不以截图、留痕评价社区工作", "No judging by screenshots"), FORMALISM),
    "county_level_organ": (("县级以上机关不得借调社区工作者", "No secondment by organs at county level or above"),
                           OPINION),
    "disguised_secondment": (("变相借调视同借调", "Disguised secondment counts as secondment"), OPINION),
    "max_duration": (("单次借调期限", "Longest single secondment"), COUNTY),
    "total_duration": (("累计借调期限", "Longest total secondment"), COUNTY),
    "extension_before_expiry": (("期满前申请延期", "Extension before expiry"), COUNTY),
    "cooldown": (("再次借调的间隔", "Interval before another secondment"), COUNTY),
    "no_overlap": (("不得同时参加两项借调", "No two secondments at once"), COUNTY),
    "worker_consent": (("本人同意", "The worker's consent"), COUNTY),
    "community_consent": (("所在社区同意", "The community's consent"), COUNTY),
    "street_scope": (("只借调本辖区社区工作者", "Only workers of the street's own communities"), COUNTY),
    "borrower_is_street_office": (("借调单位须为街道（乡镇）", "The borrower must be a street office"), OPINION),
    "start_not_past": (("开始日期不得早于今天", "Start not in the past"), COUNTY),
}

FIELDS: dict[str, Pair] = {
    "kind": ("类别", "Kind"), "list": ("清单", "List"), "code": ("编号", "Code"), "title": ("名称", "Title"),
    "content": ("内容", "Content"), "basis": ("依据", "Basis"), "basis_number": ("依据文号", "Basis number"),
    "department": ("责任部门", "Responsible department"), "department_level": ("部门层级", "Department level"),
    "applies_to": ("适用范围", "Applies to"), "funding_yuan": ("经费（元）", "Funding (yuan)"),
    "funding_source": ("经费来源", "Funding source"), "staff": ("随事转移人员", "Staff transferred"),
    "authority": ("随事转移权限", "Authority transferred"), "time_limit": ("时限", "Time limit"),
    "data_needs": ("数据需求", "Data needs"), "report_fields": ("报表字段", "Report fields"),
    "frequency": ("频次", "Frequency"), "issued_instead_by": ("改由何单位出具", "Issued instead by"),
    "filing_number": ("备案号", "Filing number"), "user_demands": ("对使用者的要求", "Demands on users"),
    "expires_on": ("失效日期", "Expires on"), "source_issuer": ("发文单位", "Issued by"),
    "source_number": ("发文字号", "Document number"), "source_date": ("发文日期", "Document date"),
    "status": ("状态", "Status"), "effective_from": ("生效日期", "Effective from"), "scope": ("适用地区", "Scope"),
    "policy_area": ("领域", "Policy area"), "community_role": ("社区角色", "Community's role"),
    "start_date": ("开始日期", "Start date"), "end_date": ("结束日期", "End date"),
    "justification": ("申请理由", "Justification"), "targets": ("目标", "Targets"),
    "reason": ("理由", "Reason"), "source_ref": ("来源", "Source"), "version": ("版本", "Version"),
    "returned_on": ("返岗日期", "Date of return"), "note": ("备注", "Note"), "organ.level": ("单位层级", "Organ level"),
    "workers": ("社区工作者", "Community workers"), "reasons": ("审批理由", "Reasons"),
    "outcome": ("结论", "Outcome"), "finding": ("调查结论", "Finding"),
}
FREQUENCY: dict[str, Pair] = {
    "once": ("一次性", "Once"), "daily": ("每日", "Daily"), "weekly": ("每周", "Weekly"),
    "monthly": ("每月", "Monthly"),
    "quarterly": ("每季度", "Quarterly"), "half_yearly": ("每半年", "Half-yearly"), "yearly": ("每年", "Yearly"),
    "on_demand": ("按需", "On demand"),
}
APPLIES_TO: dict[str, Pair] = {"urban_community": ("城市社区", "Urban community"),
                               "rural_community": ("涉农社区", "Community with rural areas"),
                               "village": ("村", "Village")}
LEVELS: dict[str, Pair] = {
    "national": ("中央", "National"), "province": ("省级", "Province"), "city": ("市级", "City"),
    "county": ("县级", "County"), "street": ("街道（乡镇）", "Street (township)"), "community": ("社区", "Community"),
    "other": ("其他", "Other"),
}
DIGITAL: dict[str, Pair] = {"app": ("政务应用程序", "App"), "account": ("公众账号", "Public account"),
                            "work_group": ("工作群组", "Work group")}
COMMUNITY_ROLE: dict[str, Pair] = {"responsible": ("责任主体", "Responsible party"), "assisting": ("协助", "Assisting")}

TABLES: dict[str, Mapping[str, Pair]] = {
    "status": STATUS, "secondment_status": SECONDMENT_STATUS, "item_status": ITEM_STATUS, "role": ROLES,
    "action": ACTIONS, "object": OBJECTS, "outcome": OUTCOMES, "actor_type": ACTOR_TYPES, "field": FIELDS,
    "frequency": FREQUENCY, "applies_to": APPLIES_TO, "level": LEVELS, "digital": DIGITAL,
    "community_role": COMMUNITY_ROLE,
}
SYSTEM: Pair = ("系统", "System")


def _pick(pair: Pair, locale: str) -> str:
    return pair[1] if locale == "en" else pair[0]


def text(table: str, key: Any, locale: str = "zh-CN") -> str:
    """The word for `key` in `table`, in the page's language; an unknown key as it is."""
    if key is None or key == "":
        return "—"
    pair = TABLES[table].get(str(key))
    return _pick(pair, locale) if pair else str(key)


def action(code: str, locale: str = "zh-CN") -> str:
    """An audit action in words. A refusal by the guard is named after the permission it lacked
    (`admission_request.review`); a refused page after its address; an API refusal after its operation."""
    pair = ACTIONS.get(code)
    if pair:
        return _pick(pair, locale)
    obj, _, act = code.partition(".")
    if obj in OBJECTS and act in ACTS:
        return (f"{ACTS[act][1]} {OBJECTS[obj][1]}" if locale == "en"
                else f"{ACTS[act][0]}{OBJECTS[obj][0]}")
    if code.startswith("/"):
        return f"Open page {code}" if locale == "en" else f"打开页面 {code}"
    if re.fullmatch(r"[A-Z][A-Za-z]+", code):
        return f"API call {code}" if locale == "en" else f"接口调用 {code}"
    return code


def has_action_label(code: str) -> bool:
    return action(code) != code


def rule(key: str, locale: str = "zh-CN") -> dict[str, str]:
    """A rule's title and the document it rests on; a county's own rule (or one not known here) is
    titled as the county's rule."""
    found = RULES.get(key)
    if found is None:
        base = key.split(".")[0]
        found = RULES.get(".".join(key.split(".")[:2])) or RULES.get(base) or (
            ("本县审查规则", "County screening rule"), COUNTY)
    title, document = found
    return {"title": _pick(title, locale), "document": _pick(document, locale)}


def subject(subject_type: str | None, subject_id: str | None, locale: str = "zh-CN") -> dict[str, str | None]:
    """What an audit event is about, in words, with the page that opens it where there is one."""
    if not subject_type:
        return {"text": "—", "href": None}
    name = text("object", subject_type, locale)
    href = None
    if subject_id and subject_id.isdigit():
        href = {"admission_request": f"/ui/admission/{subject_id}",
                "secondment_request": f"/ui/secondments/{subject_id}",
                "complaint": f"/ui/complaints/{subject_id}"}.get(subject_type)
    if subject_type == "jurisdiction" and subject_id:
        href = f"/ui/lists/{subject_id}"
    shown = (f"{name} #{subject_id}" if subject_id.isdigit() else f"{name} {subject_id}") if subject_id else name
    return {"text": shown, "href": href}


def scope(code: str | None, place: str | None, locale: str = "zh-CN") -> str:
    """A list's scope: 'national' is the national list, a county code its name."""
    if code == "national":
        return "National list" if locale == "en" else "全国通用"
    return place or (code or "—")


# ---- cited values as sentences ----

def cited(rule_key: str, values: Mapping[str, Any] | None, locale: str = "zh-CN") -> str | None:
    """What a finding cites, as a sentence; None when there is nothing a reader needs."""
    if not values:
        return None
    v = dict(values)
    en = locale == "en"
    if rule_key == "admission.notice-period" and "required" in v:
        ahead = max(int(v.get("working_days_ahead") or 0), 0)
        return (f"The county requires {v['required']} working days' notice; the start is {ahead} working days away."
                if en else f"本县要求提前 {v['required']} 个工作日申报，距开始日期仅 {ahead} 个工作日。")
    if rule_key == "admission.duplicate" and "title" in v:
        pct = round(float(v.get("similarity") or 0) * 100)
        return (f"Similar to the listed item “{v['title']}” ({v.get('code')}), {pct}% alike." if en
                else f"与清单内事项“{v['title']}”（{v.get('code')}）相似度 {pct}%。")
    if rule_key == "admission.report-fields-collected" and "title" in v:
        fields = "、".join(map(str, v.get("fields") or []))
        return (f"Already collected by “{v['title']}” ({v.get('department') or ''}): {fields}." if en
                else f"已由“{v['title']}”（{v.get('department') or '—'}）采集：{fields}。")
    if rule_key == "prohibited.declared-list" and "declared" in v:
        kind, _, name = str(v["declared"]).partition(":")
        from service.registry.routes import LIST_LABELS

        return (f"Declared as {kind}/{name}." if en else f"申报的类别：{LIST_LABELS.get(name, name)}。")
    if "phrase" in v:
        return (f"The text contains the words “{v['phrase']}”." if en else f"申请内容含有“{v['phrase']}”字样。")
    if set(v) <= {"rule_id", "county_code"}:
        return None  # the rule's own identifier: the title and the documents say it in words
    parts = [f"{text('field', k, locale)}：{_value(x)}" for k, x in sorted(v.items()) if k not in ("rule_id",)]
    return "；".join(parts) + ("." if en else "。")


def _value(x: Any) -> str:
    if isinstance(x, list | tuple):
        return "、".join(map(_value, x))
    if isinstance(x, dict):
        return "，".join(f"{text('field', k)}：{_value(y)}" for k, y in x.items())
    return str(x)


# ---- server messages in the page's language ----

# " (english words)": ASCII brackets after a space, a word of three letters, no Chinese inside
_ENGLISH = re.compile(r"\s+\(([^()\u3000-\u9fff\uff00-\uffef]*[a-z]{3}[^()\u3000-\u9fff\uff00-\uffef]*)\)")
_RULE_PREFIX = re.compile(r"^\[[a-z0-9._-]+\]\s*")
_ISO_DAY = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")


def message(value: Any, locale: str = "zh-CN") -> str:
    """A "中文 (English)" server message in the page's language: the Chinese with the parenthesised
    English taken out (and ISO dates written 2026年3月1日) on a Chinese page; the English where the
    message carries one on an English page, the Chinese otherwise."""
    if value is None:
        return ""
    raw = str(value)
    if locale == "en":
        english = [m.group(1).strip() for m in _ENGLISH.finditer(raw)]
        if english and any("\u4e00" <= ch <= "\u9fff" for ch in raw):
            return "; ".join(english)
        return raw
    stripped = _RULE_PREFIX.sub("", _ENGLISH.sub("", raw)).strip()

    def chinese_day(m: re.Match[str]) -> str:
        try:
            d = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return m.group(0)
        return f"{d.year}年{d.month}月{d.day}日"

    return _ISO_DAY.sub(chinese_day, stripped or raw)


def bound(locale: str) -> dict[str, Any]:
    """The template functions, bound to the page's language."""
    return {
        "label": lambda table, key: text(table, key, locale),
        "action_label": lambda code: action(code, locale),
        "rule_label": lambda key: rule(key, locale),
        "cited_text": lambda key, values: cited(key, values, locale),
        "subject_label": lambda t, i: subject(t, i, locale),
        "scope_label": lambda code, place=None: scope(code, place, locale),
        "msg": lambda v: message(v, locale),
        "item_fields": lambda item: item_fields(item or {}, locale),
        "field_value": lambda name, v: field_value(name, v, locale),
        "reference": lambda v: reference(v, locale),
        "detail_rows": lambda d: detail_rows(d, locale),
    }


# ---- an item's fields as a labelled table ----

_VALUE_TABLES = {"frequency": "frequency", "department_level": "level", "applies_to": "applies_to",
                 "status": "item_status", "community_role": "community_role"}
_HIDDEN = {"kind", "list", "code", "title", "scope"}  # shown in the page's heading


def field_value(name: str, value: Any, locale: str = "zh-CN") -> str:
    """One field's value in words: enums by their labels, lists joined, dates the page's way."""
    from service.registry.routes import LIST_LABELS
    from service.web.format import date, number

    if value is None or value == "" or value == []:
        return "—"
    table = _VALUE_TABLES.get(name)
    if isinstance(value, list | tuple):
        return "、".join(text(table, v, locale) if table else field_value(name, v, locale) for v in value)
    if table:
        return text(table, value, locale)
    if name == "list":
        return str(LIST_LABELS.get(str(value), value))
    if name == "funding_yuan" or (isinstance(value, int | float) and not isinstance(value, bool)):
        return number(value, locale)
    if isinstance(value, bool):
        return ("Yes" if value else "No") if locale == "en" else ("是" if value else "否")
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return date(value, locale)
    if isinstance(value, dict):
        return "；".join(f"{text('field', k, locale)}：{field_value(k, v, locale)}" for k, v in value.items())
    return str(value)


def item_fields(item: Mapping[str, Any], locale: str = "zh-CN") -> list[tuple[str, str]]:
    """(label, value) for every field an item carries, in the order of FIELDS, then any others."""
    order = [k for k in FIELDS if k in item] + sorted(k for k in item if k not in FIELDS)
    return [(text("field", k, locale), field_value(k, item[k], locale)) for k in order
            if k not in _HIDDEN and item[k] not in (None, "", [])]


# ---- references and an audit event's detail ----

_REF = re.compile(r"^(admission_request|secondment_request|complaint):(\d+)$")
DETAIL_KEYS: dict[str, Pair] = {
    "change": ("变更内容", "Change"), "from": ("原状态", "From"), "to": ("新状态", "To"),
    "item": ("事项内容", "Item"), "entry_number": ("登记条目", "Entry"), "path": ("页面或接口", "Address"),
    "method": ("请求方式", "Method"), "invalid_params": ("有误的输入", "Invalid input"), "rule": ("规则", "Rule"),
    "rule_key": ("规则", "Rule"), "routed_to": ("审批单位", "Routed to"), "decision_due": ("办理期限", "Decision due"),
    "acknowledged_findings": ("已确认的审查提示", "Acknowledged findings"), "organ": ("借调单位", "Organ"),
    "name": ("名称", "Name"), "matter": ("事项", "Matter"), "subject_kind": ("投诉类别", "Complaint about"),
    "community_code": ("社区", "Community"), "matter_title": ("事项", "Matter"),
    "receipt_id": ("核验回执", "Receipt"), "username": ("用户名", "Username"), "role": ("角色", "Role"),
    "jurisdiction_code": ("辖区", "Jurisdiction"), "start_moved": ("开始日期调整", "Start moved"),
    "effective_from": ("生效日期", "Effective from"), "item_code": ("事项编号", "Item code"),
}
_STATUS_KEYS = {"from", "to", "status"}


def reference(value: Any, locale: str = "zh-CN") -> dict[str, str | None] | None:
    """`admission_request:7` as words and the page that opens it; None for anything else."""
    m = _REF.match(str(value)) if value is not None else None
    return subject(m.group(1), m.group(2), locale) if m else None


def detail_rows(detail: Any, locale: str = "zh-CN", *, depth: int = 0) -> list[dict[str, Any]]:
    """An audit event's detail as labelled rows (nested values indented once), not raw JSON."""
    if not isinstance(detail, Mapping):
        return [{"label": "", "value": message(detail, locale), "href": None, "depth": depth}] if detail else []
    rows: list[dict[str, Any]] = []
    for key, value in detail.items():
        pair = DETAIL_KEYS.get(key) or FIELDS.get(key)
        name = (pair[1] if locale == "en" else pair[0]) if pair else key
        if key == "change" and isinstance(value, Mapping) and depth == 0:
            rows += detail_rows(value, locale, depth=depth)
            continue
        if isinstance(value, Mapping) and depth < 1:
            rows.append({"label": name, "value": "", "href": None, "depth": depth})
            rows += detail_rows(value, locale, depth=depth + 1)
            continue
        ref = reference(value, locale)
        if ref:
            rows.append({"label": name, "value": ref["text"], "href": ref["href"], "depth": depth})
            continue
        if key in _STATUS_KEYS and isinstance(value, str):
            shown = text("status", value, locale)
        elif key in ("rule", "rule_key") and isinstance(value, str) and re.fullmatch(r"[a-z0-9._-]+", value):
            shown = rule(value, locale)["title"]
        elif key == "acknowledged_findings" and isinstance(value, list):
            shown = "、".join(rule(str(v), locale)["title"] for v in value) or "—"
        elif key == "role" and isinstance(value, str):
            shown = text("role", value, locale)
        elif key == "invalid_params" and isinstance(value, list):
            shown = "；".join(f"{text('field', p.get('name'), locale)}：{message(p.get('reason'), locale)}"
                             for p in value if isinstance(p, Mapping))
        elif isinstance(value, str) and value.startswith(("system:", "user:", "client:")):
            shown = text("actor_type", value.split(":", 1)[0], locale)
        else:
            shown = message(field_value(key, value, locale), locale)
        rows.append({"label": name, "value": shown, "href": None, "depth": depth})
    return rows
