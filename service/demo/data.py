"""Demo data: Changsha County (430121, Hunan) with four streets and twelve communities, a
neighbouring district for cross-county checks, and a person or client for every role."""

from __future__ import annotations

HUNAN = ("43", "00", "province", "湖南省", None)
CHANGSHA = ("4301", "43", "city", "长沙市", None)
COUNTY = "430121"
OTHER_COUNTY = "430112"

JURISDICTIONS: list[tuple[str, str, str, str, int | None]] = [
    HUNAN,
    CHANGSHA,
    (COUNTY, "4301", "county", "长沙县", None),
    ("430121001", COUNTY, "street", "星沙街道", None),
    ("430121001001", "430121001", "community", "松雅社区", 15230),
    ("430121001002", "430121001", "community", "天华社区", 11860),
    ("430121001003", "430121001", "community", "板仓社区", 8420),
    ("430121002", COUNTY, "street", "湘龙街道", None),
    ("430121002001", "430121002", "community", "湘龙社区", 12740),
    ("430121002002", "430121002", "community", "龙塘社区", 9350),
    ("430121002003", "430121002", "community", "月塘社区", 6980),
    ("430121003", COUNTY, "street", "泉塘街道", None),
    ("430121003001", "430121003", "community", "泉塘社区", 17610),
    ("430121003002", "430121003", "community", "望仙桥社区", 10240),
    ("430121003003", "430121003", "community", "东方社区", 7830),
    ("430121004", COUNTY, "street", "榔梨街道", None),
    ("430121004001", "430121004", "community", "榔梨社区", 13390),
    ("430121004002", "430121004", "community", "龙华社区", 8960),
    ("430121004003", "430121004", "community", "陶公庙社区", 6120),
    (OTHER_COUNTY, "4301", "county", "望城区", None),
    ("430112001", OTHER_COUNTY, "street", "高塘岭街道", None),
    ("430112001001", "430112001", "community", "郭亮社区", 11470),
    ("430112001002", "430112001", "community", "金坪社区", 9020),
]

# username, display name, role, jurisdiction
USERS: list[tuple[str, str, str, str]] = [
    ("admin", "系统管理员（省）", "admin", "43"),
    ("reviewer", "县委社会工作部 审核员 李娟", "county_reviewer", COUNTY),
    ("orgdept", "县委组织部 干部科 王强", "org_department", COUNTY),
    ("supervisor", "县纪委监委 监督员 陈明", "supervisor", COUNTY),
    ("street", "星沙街道办事处 张磊", "street_office", "430121001"),
    ("community", "松雅社区居委会 刘芳", "community", "430121001001"),
    ("reviewer-wc", "望城区委社会工作部 审核员 周敏", "county_reviewer", OTHER_COUNTY),
    ("dept", "县民政局 办事员 赵静", "department", COUNTY),
]
# the users who speak for a department or street office, as its API client does: organisation, level, seat
USER_ORGANISATIONS: dict[str, tuple[str, str, str]] = {
    "dept": ("长沙县民政局", "county", COUNTY),
    "street": ("星沙街道办事处", "street", "430121001"),
}

# client name, organisation, organisation level, where it sits, role, where the role is held
CLIENTS: list[tuple[str, str, str, str, str, str]] = [
    ("civil-affairs", "长沙县民政局", "county", COUNTY, "department", COUNTY),
    ("housing-bureau", "长沙县住房和城乡建设局", "county", COUNTY, "department", COUNTY),
    ("xingsha-office", "星沙街道办事处", "street", "430121001", "street_office", "430121001"),
    ("songya-community", "松雅社区居委会", "community", "430121001001", "community", "430121001001"),
    ("county-supervisor", "长沙县纪委监委", "county", COUNTY, "supervisor", COUNTY),
    ("county-reviewer-api", "长沙县委社会工作部", "county", COUNTY, "county_reviewer", COUNTY),
    ("county-orgdept-api", "长沙县委组织部", "county", COUNTY, "org_department", COUNTY),
    ("province-admin", "湖南省行政区划管理", "province", "43", "admin", "43"),
    ("wangcheng-civil", "望城区民政局", "county", OTHER_COUNTY, "department", OTHER_COUNTY),
]
