"""Demo data of the admission area: the 2026 national holidays, and requests in various states for
Changsha County (430121), a refusal and a complaint."""

from __future__ import annotations

import datetime

import asyncpg
import msgspec

from service.admission import queries, service
from service.admission.schemas import AdmissionSubmission, Decision
from service.admission.screening import read_rules_file
from service.complaints import service as complaints
from service.complaints.schemas import ComplaintCreate, RefusalCreate
from service.core.audit import SYSTEM
from service.core.clock import today
from service.core.settings import PROJECT_ROOT

CHECK = "（待核对国务院办公厅通知）"
# The 2026 national holidays and make-up workdays as published by the General Office of the State
# Council (国办发明电〔2025〕号 notice); to be checked against the notice before any real deadline relies on them.
HOLIDAYS_2026: list[tuple[str, str, str]] = [
    *[(f"2026-01-0{d}", "holiday", "元旦") for d in (1, 2, 3)],
    ("2026-01-04", "workday", "元旦调休上班"),
    ("2026-02-14", "workday", "春节调休上班"),
    *[(f"2026-02-{d}", "holiday", "春节") for d in range(15, 24)],
    ("2026-02-28", "workday", "春节调休上班"),
    *[(f"2026-04-0{d}", "holiday", "清明节") for d in (4, 5, 6)],
    *[(f"2026-05-0{d}", "holiday", "劳动节") for d in (1, 2, 3, 4, 5)],
    ("2026-05-09", "workday", "劳动节调休上班"),
    *[(f"2026-06-{d}", "holiday", "端午节") for d in (19, 20, 21)],
    ("2026-09-20", "workday", "国庆节调休上班"),
    *[(f"2026-09-{d}", "holiday", "中秋节") for d in (25, 26, 27)],
    *[(f"2026-10-0{d}", "holiday", "国庆节") for d in range(1, 8)],
    ("2026-10-10", "workday", "国庆节调休上班"),
]

COUNTY = "430121"


def _request(title: str, content: str, *, role: str = "assisting", start_in_days: int = 90,
             **extra: object) -> AdmissionSubmission:
    start = today() + datetime.timedelta(days=start_in_days)
    body: dict[str, object] = {
        "kind": "task", "list": "assisting", "title": title, "content": content,
        "targets": ["430121001", "430121002"], "community_role": role,
        "basis": "《中华人民共和国城市居民委员会组织法》", "basis_number": "第四条",
        "resources": {"funding_yuan": 20000, "funding_source": "县级财政", "staff": 0},
        "start_date": start.isoformat(), "justification": "落实县委县政府工作部署，需社区协助开展。", **extra,
    }
    return msgspec.convert(body, AdmissionSubmission)


async def load_admission(conn: asyncpg.Connection) -> None:
    await service.sync_rules_file(conn, rules=read_rules_file(PROJECT_ROOT / "policies"))
    await conn.executemany(
        queries.DEMO_NATIONAL_DAY,
        [(datetime.date.fromisoformat(d), k, n + CHECK, "demo: 2026 national holidays, to be checked")
         for d, k, n in HOLIDAYS_2026])
    clients = {r["name"]: r for r in await conn.fetch(
        queries.DEMO_CLIENTS, ["civil-affairs", "housing-bureau", "wangcheng-civil"])}

    def submitter(name: str) -> service.Submitter:
        c = clients[name]
        return service.Submitter(subject=f"client:{c['id']}", client_id=c["id"], department=c["organisation"],
                                 organisation_level=c["organisation_level"])

    def anywhere(_code: str) -> bool:
        return True

    async def submit(name: str, data: AdmissionSubmission) -> int:
        read = await service.submit(conn, actor=SYSTEM, submitter=submitter(name), data=data, draft=False,
                                    may_submit=anywhere)
        return read.id

    # submitted, waiting for review
    await submit("civil-affairs", _request(
        "社区高龄老人探访关爱服务", "协助民政部门每季度探访辖区80周岁以上独居老人，登记需求并转介服务。"))
    # in review
    in_review = await submit("housing-bureau", _request(
        "老旧小区改造居民意见征集", "协助住建部门组织居民议事会，征集老旧小区改造意见并反馈。"))
    await service.start_review(conn, actor=SYSTEM, request_id=in_review)
    # approved: the item enters the county's list
    approved = await submit("civil-affairs", _request(
        "困难群众临时救助线索报告", "发现因突发事件导致基本生活困难的家庭，及时向街道报告救助线索。",
        item_code="ADM-DEMO-1"))
    await service.start_review(conn, actor=SYSTEM, request_id=approved)
    await service.decide(conn, actor=SYSTEM, request_id=approved, decision=Decision(
        outcome="approved", reason="依据充分，经费随事转移，同意列入协助事项清单。"))
    # returned for revision
    returned = await submit("housing-bureau", _request(
        "物业小区安全隐患排查台账", "社区每月填报辖区物业小区安全隐患排查台账。", resources={}))
    await service.start_review(conn, actor=SYSTEM, request_id=returned)
    await service.decide(conn, actor=SYSTEM, request_id=returned, decision=Decision(
        outcome="returned", reason="未随事项转移经费和人员，请补充资源保障后重新提交。"))
    # refused at once by screening: the community as the responsible party for demolition
    await submit("housing-bureau", _request(
        "违法建筑拆除工作", "由社区负责拆除违章建筑，每周上报进度。", role="responsible"))
    # overdue: submitted long ago, the decision deadline passed (demo only: dates moved back)
    overdue = await submit("civil-affairs", _request(
        "社区残疾人康复需求登记", "协助残联登记辖区残疾人康复服务需求。"))
    await conn.execute(queries.DEMO_MAKE_OVERDUE, overdue)
    # a community's refusal and an anonymous complaint
    refusal = await complaints.record_refusal(conn, actor=SYSTEM, data=RefusalCreate(
        community_code="430121001001", department="长沙县某局", matter_title="要求社区代收保险费",
        reason="该事项不在社区工作事项清单内，且属于禁入事项（推销保险）。"))
    await complaints.file_complaint(conn, actor=SYSTEM, client_addr="demo", data=ComplaintCreate(
        jurisdiction_code="430121001001", department="长沙县某局", subject_kind="task", matter="要求社区代收保险费",
        description="该局工作人员要求社区工作者向居民推销保险并按户数考核。", refusal_id=refusal.id))
