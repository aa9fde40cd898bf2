"""Demo lists: real national items (the prohibitions of the 2024 opinion and the 2024 provisions on
formalism, the 20 certificates cancelled in 2020, the exterior-plaque rule, duties by law and typical
assisting matters), and Changsha County's own list with a release."""

from __future__ import annotations

import datetime
from typing import Any

import asyncpg

from service.core.audit import SYSTEM
from service.registry import certificates, documents, service
from service.registry.schemas import ItemCreate, ReleaseCreate

# the documents as DOMAIN.md cites them: the 2024 texts were published without a number (the item or
# clause stands in basis_number, as a law's article does); the 2015 notice is the source of most prohibitions
NOTICE_2015 = (f"《{documents.NOTICE_2015.title}》", documents.NOTICE_2015.number)
OPINION_2024 = (f"《{documents.OPINION_2024.title}》", "第17条")
LAW = ("《中华人民共和国城市居民委员会组织法》", "第三条")
FORMALISM_2024 = (f"《{documents.FORMALISM_2024.title}》", None)
CERTIFICATES_2020 = (f"《{certificates.DOCUMENT_TITLE}》", certificates.DOCUMENT_NUMBER)
D2015 = datetime.date(2015, 7, 1)
D2020 = certificates.DOCUMENT_PUBLISHED
D2024 = datetime.date(2024, 3, 28)
D2025 = datetime.date(2025, 1, 1)

PROHIBITED = [  # code, title, content, basis
    ("P-001", "招商引资任务", "不得向社区下达招商引资指标或任务", NOTICE_2015),
    ("P-002", "协税护税", "不得要求社区承担协税护税工作", NOTICE_2015),
    ("P-003", "组织经济创收", "不得要求社区组织经济创收、下达经济发展指标", NOTICE_2015),
    ("P-004", "推销商业保险", "不得要求社区推销商业保险", NOTICE_2015),
    ("P-005", "报刊征订", "不得要求社区征订报刊", NOTICE_2015),
    ("P-006", "社区作为行政执法的责任主体", "社区不得作为行政执法的责任主体，可依法协助", NOTICE_2015),
    ("P-007", "社区作为拆除违法建设的责任主体", "社区不得作为拆除违法建设的责任主体，可依法协助", NOTICE_2015),
    ("P-008", "社区作为环境整治的责任主体", "社区不得作为环境整治的责任主体，可依法协助", NOTICE_2015),
    ("P-009", "社区作为城市管理的责任主体", "社区不得作为城市管理的责任主体，可依法协助", NOTICE_2015),
    ("P-010", "社区作为安全生产的责任主体", "社区不得作为安全生产的责任主体，可依法协助", OPINION_2024),
    ("P-011", "超出中央和省级规定签订责任书、实行一票否决",
     "不得超出中央和省级规定要求社区签订责任书、实行“一票否决”", FORMALISM_2024),
    ("P-012", "以截图、留痕评价社区工作", "不得以填报表格、拍照截图、工作留痕等代替对实际工作的考核", FORMALISM_2024),
]

# the national first batch, exactly as 民发〔2020〕20号 publishes it (service/registry/certificates.py)
CANCELLED = [(c.code, c.name, c.issued_instead_by) for c in certificates.NATIONAL_CANCELLED]

RETAINED = [
    ("C-R-01", "居住证明", "证明居民在本社区实际居住的情况"),
    ("C-R-02", "收养相关情况证明", "收养登记所需的当事人情况证明"),
    ("C-R-03", "入党积极分子政治审查相关情况证明", "发展党员政治审查中的有关情况"),
    ("C-R-04", "监护关系证明", "依照民法典由居民委员会指定或证明的监护"),
]

DUTIES = [
    ("T-D-001", "调解民间纠纷", "设立人民调解委员会，调解居民之间的民间纠纷"),
    ("T-D-002", "召集居民会议、居民代表会议", "讨论决定涉及全体居民利益的重要事项"),
    ("T-D-003", "公开居务和财务", "定期公开居民委员会的工作和财务收支情况"),
    ("T-D-004", "办理本居住地区居民的公共事务和公益事业", "组织开展公益服务和互助活动"),
    ("T-D-005", "向人民政府反映居民的意见、要求和提出建议", "收集并反映居民诉求"),
    ("T-D-006", "宣传宪法、法律、法规和国家的政策", "开展普法宣传"),
]

ASSISTING = [  # code, title, department
    ("T-A-001", "协助做好社会救助工作", "民政部门"),
    ("T-A-002", "协助做好就业服务工作", "人力资源社会保障部门"),
    ("T-A-003", "协助做好人口服务管理工作", "卫生健康部门"),
    ("T-A-004", "协助做好住房保障工作", "住房城乡建设部门"),
    ("T-A-005", "协助做好环境卫生工作", "城市管理部门"),
    ("T-A-006", "协助维护社会治安", "公安机关"),
    ("T-A-007", "协助做好突发公共卫生事件应对和疫情防控", "卫生健康部门"),
    ("T-A-008", "协助做好防灾减灾工作", "应急管理部门"),
    ("T-A-009", "协助做好未成年人保护工作", "民政部门"),
    ("T-A-010", "协助做好养老服务工作", "民政部门"),
    ("T-A-011", "协助做好残疾人服务工作", "残疾人联合会"),
]


def _item(**fields: Any) -> ItemCreate:
    return ItemCreate(**fields)


async def load(conn: asyncpg.Connection) -> None:
    """National template items, then Changsha County's own list and its 2025 release."""

    async def add(scope: str, item: ItemCreate, when: datetime.date, reason: str) -> None:
        await service.add_item(conn, actor=SYSTEM, scope=scope, item=item, effective_from=when, reason=reason,
                               source_ref="demo")

    for code, title, content, (basis, number) in PROHIBITED:
        await add("national", _item(kind="task", list="prohibited", code=code, title=title, content=content,
                                    basis=basis, basis_number=number, department_level="national"), D2024,
                  "全国负面清单")
    for code, title, instead in CANCELLED:
        await add("national", _item(kind="certificate", list="cancelled", code=code, title=title,
                                    content=f"基层群众性自治组织不予出具{title}", basis=CERTIFICATES_2020[0],
                                    basis_number=CERTIFICATES_2020[1], issued_instead_by=instead,
                                    department_level="national", source_issuer=certificates.DOCUMENT_ISSUER,
                                    source_number=certificates.DOCUMENT_NUMBER, source_date=D2020), D2020,
                  certificates.LIST_NAME)
    for code, title, content in RETAINED:
        await add("national", _item(kind="certificate", list="retained", code=code, title=title, content=content,
                                    basis=CERTIFICATES_2020[0], basis_number=CERTIFICATES_2020[1]), D2020,
                  "保留的证明事项")
    for code, title in (("PL-E-01", "社区党组织牌子"), ("PL-E-02", "社区居民委员会牌子")):
        await add("national", _item(kind="plaque", list="exterior", code=code, title=title,
                                    content="社区外部只悬挂社区党组织和居民委员会两块牌子", basis=OPINION_2024[0],
                                    basis_number=OPINION_2024[1]), D2024, "外挂牌子规范")
    for code, title in (("PL-I-01", "新时代文明实践站"), ("PL-I-02", "综治中心"), ("PL-I-03", "退役军人服务站")):
        await add("national", _item(kind="plaque", list="interior", code=code, title=title,
                                    content="可在室内标识，不在外部挂牌"), D2024, "室内牌子")
    for code, title, content in DUTIES:
        await add("national", _item(kind="task", list="duty", code=code, title=title, content=content,
                                    basis=LAW[0], basis_number=LAW[1]), D2015, "依法履行职责事项")
    for code, title, department in ASSISTING:
        await add("national", _item(kind="task", list="assisting", code=code, title=title, department=department,
                                    department_level="county", basis=LAW[0], basis_number=LAW[1]), D2015,
                  "依法协助政府工作事项")

    county = "430121"
    own = [
        _item(kind="task", list="assisting", code="430121-A-001", title="协助开展城乡居民医保参保登记",
              content="协助县医保局做好辖区居民参保动员和登记", basis="《湖南省城乡居民基本医疗保险实施办法》",
              department="长沙县医疗保障局", department_level="county", funding_yuan=20000,
              funding_source="县财政", staff=0, authority="参保信息查询", time_limit="每年9月至12月",
              frequency="yearly"),
        _item(kind="task", list="assisting", code="430121-A-002", title="协助开展生活垃圾分类宣传",
              content="协助县城管局开展垃圾分类入户宣传", department="长沙县城市管理和综合执法局",
              department_level="county", funding_yuan=30000, funding_source="县财政", frequency="monthly"),
        _item(kind="report", list="report_form", code="430121-R-001", title="社区基本情况统计表",
              content="社区人口、住户、组织等基本情况", department="长沙县民政局", department_level="county",
              report_fields=["常住人口", "户数", "社区工作者人数", "社会组织数"], frequency="quarterly"),
        _item(kind="digital", list="work_group", code="430121-G-001", title="长沙县社区工作联络群",
              content="县民政局与各社区的工作联络群，不得要求打卡、排名", department="长沙县民政局",
              department_level="county"),
    ]
    for item in own:
        await add(county, item, D2025, "长沙县社区工作事项清单（2025年版）")
    await service.create_release(conn, actor=SYSTEM, county_code=county, data=ReleaseCreate(
        name="2025年版", release_date=D2025, issuing_body="中共长沙县委社会工作部",
        document_number="长社工发〔2024〕12号", approving_government="长沙县人民政府",
        filed_upward_on=datetime.date(2025, 1, 15)))
    # amended between versions, and a change that takes effect by itself next year
    await service.add_item(conn, actor=SYSTEM, scope=county, item=_item(
        kind="task", list="assisting", code="430121-A-003", title="协助开展适龄儿童疫苗接种通知",
        content="协助县卫健局通知辖区适龄儿童家庭按时接种", department="长沙县卫生健康局", department_level="county",
        funding_yuan=10000, funding_source="县财政", frequency="monthly"), effective_from=datetime.date(2025, 6, 1),
        reason="经准入审核同意", source_ref="demo")
    await service.adjust(conn, actor=SYSTEM, scope=county, code="430121-G-001", entry_type="retire",
                         effective_from=datetime.date(2027, 1, 1), reason="整合工作群组，减少指尖上的形式主义",
                         source_ref="demo")
