"""Demo data: a pseudonymous roster for Changsha County's twelve communities (some below the standard of
18 per 10,000 residents) and secondments in every state, written through the service so each has its
audit trail. Dates are relative to the day the demo is loaded."""

from __future__ import annotations

import math
from datetime import date, timedelta

import asyncpg

from service.core.audit import Actor
from service.core.clock import today
from service.demo import data
from service.secondments import jobs, queries, service
from service.secondments.schemas import ExtensionCreate, Organ, SecondmentCreate, SecondmentDecision, SecondmentReturn

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾"
            "丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段")
GIVEN = ["晓燕", "志强", "丽华", "建国", "海燕", "文静", "俊杰", "秀英", "明辉", "红梅", "卫东", "婷婷", "小龙",
         "春兰", "国庆", "雪梅", "振华", "玉兰", "军", "敏", "磊", "静", "洋", "艳", "勇", "芳", "涛", "霞"]
# communities below the standard: workers on the roster as a share of it; the others are one or two above
SHARE = {"430121001003": 0.75, "430121002003": 0.77, "430121003001": 0.9, "430121004003": 0.75}
OTHER_COUNTY_WORKERS = {"430112001001": 21, "430112001002": 17}


def worker_ref(community_code: str, n: int) -> str:
    return f"W{community_code[4:]}-{n:02d}"


Row = tuple[str, str, str, str, date, str, date | None]


def _roster() -> list[Row]:
    rows: list[Row] = []
    person = 0
    communities = [(c, pop) for c, _, level, _, pop in data.JURISDICTIONS if level == "community" and pop]
    for code, population in communities:
        required = math.ceil(18 * population / 10_000)
        count = OTHER_COUNTY_WORKERS.get(code) or (
            round(required * SHARE[code]) if code in SHARE else required + 1 + (code[-1] == "2"))
        for n in range(1, count + 1):
            person += 1
            name = SURNAMES[(person * 7) % len(SURNAMES)] + GIVEN[(person * 11) % len(GIVEN)]
            post = "party_committee" if n == 1 else "residents_committee" if n <= 5 else "community_staff"
            start = date(2014 + (person * 5) % 11, 1 + (person * 3) % 12, 1 + (person * 13) % 28)
            rows.append((worker_ref(code, n), name, code, post, start, "in_post", None))
        # one who left, for the history
        rows.append((worker_ref(code, count + 1), SURNAMES[person % len(SURNAMES)] + "离岗", code,
                     "community_staff", date(2016, 3, 1), "left", date(2025, 6, 30)))
    return rows


async def load(conn: asyncpg.Connection) -> None:
    await conn.executemany(queries.DEMO_INSERT_WORKER, _roster())
    clients = {r["name"]: r for r in await conn.fetch(queries.DEMO_CLIENTS)}
    now = today()

    def caller(name: str, *, client: str | None = None) -> service.Caller:
        row = clients.get(client) if client else None
        actor = Actor(actor_type="client", actor_id=str(row["id"]), actor_name=client) if row else Actor(
            actor_type="system", actor_id=None, actor_name=f"demo:{name}")
        return service.Caller(
            actor=actor, client_id=row["id"] if row else None,
            organisation_level=row["organisation_level"] if row else None, home_jurisdiction=None,
            may_submit=lambda _code: True, submits_somewhere=True)

    orgdept = Actor(actor_type="system", actor_id=None, actor_name="demo:县委组织部 干部科")

    async def request(office: str, community: str, n: int, start: date, end: date, purpose: str, *,
                      client: str | None = None, level: str = "street", form: str = "secondment",
                      submitted: date | None = None) -> int:
        body = SecondmentCreate(
            organ=Organ(name=office, level=level), form=form, home_community_code=community,  # type: ignore[arg-type]
            workers=[worker_ref(community, n)], purpose=purpose, start_date=start, end_date=end,
            worker_consent=True, community_consent=True)
        created = await service.submit(conn, caller=caller(office, client=client), data=body,
                                       today=submitted or start - timedelta(days=20))
        return created.id

    async def decide(request_id: int, outcome: str, reasons: str, on: date) -> None:
        await service.decide(conn, actor=orgdept, request_id=request_id,
                             data=SecondmentDecision(outcome=outcome, reasons=reasons), today=on)  # type: ignore[arg-type]

    # returned: 星沙街道 borrowed a 天华社区 worker for the 2024 grid census, back on time
    start = now - timedelta(days=760)
    returned = await request("星沙街道办事处", "430121001002", 3, start, start + timedelta(days=150),
                             "街道网格化普查数据整理", client="xingsha-office")
    await decide(returned, "approve", "期限五个月，符合规定", start)
    await service.record_return(conn, actor=orgdept, request_id=returned,
                                data=SecondmentReturn(returned_on=start + timedelta(days=150)),
                                today=start + timedelta(days=150))
    # active: 星沙街道, a 松雅社区 worker on the street's elderly-care survey
    start = now - timedelta(days=60)
    active = await request("星沙街道办事处", "430121001001", 5, start, start + timedelta(days=150),
                           "街道养老服务需求调查", client="xingsha-office")
    await decide(active, "approve", "同意，期满按时返岗", start)
    # overdue: 湘龙街道 kept a 龙塘社区 worker past the end date
    start = now - timedelta(days=200)
    overdue = await request("湘龙街道办事处", "430121002002", 4, start, start + timedelta(days=175),
                            "街道征地拆迁档案整理", form="temporary_transfer")
    await decide(overdue, "approve", "同意，期限不超过六个月", start)
    await jobs.run_daily(conn, day=now)
    # active, with an extension awaiting the organisation department
    start = now - timedelta(days=100)
    extended = await request("湘龙街道办事处", "430121002001", 5, start, now + timedelta(days=20),
                             "街道社会救助信息核查")
    await decide(extended, "approve", "同意", start)
    await service.request_extension(conn, actor=caller("湘龙街道办事处").actor, request_id=extended,
                                    data=ExtensionCreate(new_end_date=now + timedelta(days=75),
                                                         reason="核查任务量增加，申请延期至任务结束"), today=now)
    # pending: 泉塘街道 asks for a 泉塘社区 worker, awaiting the organisation department
    await request("泉塘街道办事处", "430121003001", 6, now + timedelta(days=14), now + timedelta(days=120),
                  "街道工作专班：老旧小区改造协调", form="task_force", submitted=now)
    # approved with a staffing warning: 月塘社区 is already below the standard
    warned = await request("湘龙街道办事处", "430121002003", 2, now + timedelta(days=5), now + timedelta(days=60),
                           "街道跟班学习：基层治理平台操作", form="shadow_learning", submitted=now)
    await decide(warned, "approve", "同意；请街道尽快补齐月塘社区人员", now)
    # rejected: 陶公庙社区 cannot spare anyone
    rejected = await request("榔梨街道办事处", "430121004003", 2, now + timedelta(days=7), now + timedelta(days=90),
                             "街道文明创建迎检材料准备", submitted=now)
    await decide(rejected, "reject", "社区在岗人数低于配备标准，且事项不属于借调范围", now)
    # refused at once: county bureaus tried, and are counted for supervisors
    await request("长沙县住房和城乡建设局", "430121001001", 8, now + timedelta(days=10), now + timedelta(days=100),
                  "工作专班：城市更新项目入户调查", client="housing-bureau", level="county", form="task_force",
                  submitted=now)
    await request("长沙县民政局", "430121003002", 3, now + timedelta(days=3), now + timedelta(days=60),
                  "跟班学习：低保年审", client="civil-affairs", level="county", form="shadow_learning", submitted=now)
