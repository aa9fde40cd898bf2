"""Every API route, called by every role (and by nobody): who gets through, who gets 401, 403 or 404.

The table is written by hand from DOMAIN.md's "Who uses it", not derived from policy.csv, so a
wrong policy line fails here. Every operation of the OpenAPI document must appear in it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.app import create_app
from service.core.openapi import document
from tests.conftest import bearer, drop_database, fresh_database, make_settings
from tests.helpers.app import AppClient, running

# the demo clients (service/demo/data.py) and the role each holds where
CALLERS = {
    "civil-affairs": "department @ 430121",
    "housing-bureau": "another department @ 430121",
    "xingsha-office": "street_office @ 430121001",
    "songya-community": "community @ 430121001001",
    "county-supervisor": "supervisor @ 430121",
    "county-reviewer-api": "county_reviewer @ 430121",
    "county-orgdept-api": "org_department @ 430121",
    "province-admin": "admin @ 43",
    "wangcheng-civil": "department @ 430112 (another county)",
}
PUBLIC = "public"
ANY = "any authenticated"
ADMIN = {"province-admin"}
REVIEWER = {"county-reviewer-api"}
ADJUSTERS = {"county-reviewer-api", "province-admin"}
SUPERVISORS = {"county-supervisor"}
AUDIT_READERS = {"county-supervisor", "province-admin"}
ORGDEPT = {"county-orgdept-api"}
# the roster and secondments: everyone with a role in the community's chain except departments
ROSTER_READERS = {"xingsha-office", "songya-community", "county-supervisor", "county-reviewer-api",
                  "county-orgdept-api", "province-admin"}
# admission requests: the department that submitted one, and its county's reviewers
OWNER_AND_REVIEWER = {"civil-affairs", "county-reviewer-api"}

SONGYA = "430121001001"
COUNTY = "430121"
STATUS_CHANGE = {"effective_from": "2099-01-01", "reason": "矩阵测试"}
ADMISSION = {"kind": "task", "list": "assisting", "title": "社区高龄老人助餐登记", "content": "协助登记助餐需求。",
             "targets": ["430121001"], "community_role": "assisting", "basis": "《老年人权益保障法》",
             "resources": {"funding_yuan": 1000, "funding_source": "县级财政", "staff": 0},
             "start_date": "2030-01-07", "justification": "落实部署"}
SECONDMENT = {"organ": {"name": "某机关", "level": "street"}, "form": "secondment", "home_community_code": SONGYA,
              "workers": ["W21001001-12"], "purpose": "x", "start_date": "2030-01-07", "end_date": "2030-03-01",
              "worker_consent": True, "community_consent": True}
CHECK = {"community_code": SONGYA, "matter": {"code": "T-D-001"}, "role": "assisting"}

# operationId: (method, path, body, who may pass the guard)
# paths name ids filled from the demo data by _fill: {client_id}, {token_id}, {assignment_id} (identity);
# {waiting} civil-affairs' request awaiting review, {in_review} and {returned} housing-bureau's, {approved}
# civil-affairs' approved one; {document} a decision document's token; {complaint}, {rule} and {day} a county's
# own complaint, screening rule and calendar day; {receipt} a check's receipt; {active} the active secondment in
# 松雅社区, {extended} the one with an extension awaiting a decision, {extension} that extension
MATRIX: dict[str, tuple[str, str, Any, Any]] = {
    # foundation
    "Healthz": ("GET", "/healthz", None, PUBLIC),
    "Readyz": ("GET", "/readyz", None, PUBLIC),
    "GetJurisdiction": ("GET", "/api/v1/jurisdictions/430121", None, PUBLIC),
    "GetJurisdictionSubtree": ("GET", "/api/v1/jurisdictions/430121/subtree", None, PUBLIC),
    "CreateJurisdiction": ("POST", "/api/v1/jurisdictions", {"code": "430121001009", "parent_code": "430121001",
                                                            "level": "community", "name": "测试社区"}, ADMIN),
    "UpdateJurisdiction": ("PATCH", "/api/v1/jurisdictions/430121001", {"name": "星沙街道"}, ADMIN),
    "MoveJurisdiction": ("POST", "/api/v1/jurisdictions/430121001001/move", {"new_parent_code": "430121001"}, ADMIN),
    "ImportJurisdictions": ("POST", "/api/v1/jurisdictions/import", "code,parent_code,level,name\n", ADMIN),
    "GetMe": ("GET", "/api/v1/me", None, ANY),
    "CreateUser": ("POST", "/api/v1/users", {"username": "matrix", "display_name": "x", "password": "p" * 12}, ADMIN),
    "CreateClient": ("POST", "/api/v1/clients", {"name": "matrix-client", "organisation": "x",
                                                 "organisation_level": "county", "jurisdiction_code": "430121"}, ADMIN),
    "GetClient": ("GET", "/api/v1/clients/{client_id}", None, ADMIN),
    "IssueToken": ("POST", "/api/v1/clients/{client_id}/tokens", {}, ADMIN),
    "ListTokens": ("GET", "/api/v1/clients/{client_id}/tokens", None, ADMIN),
    "RevokeToken": ("POST", "/api/v1/tokens/{token_id}/revoke", None, ADMIN),
    "GrantRole": ("POST", "/api/v1/role-assignments", {"principal_type": "client", "principal_id": 1,
                                                       "role": "supervisor", "jurisdiction_code": "430121"}, ADMIN),
    "RevokeRole": ("POST", "/api/v1/role-assignments/{assignment_id}/revoke", None, ADMIN),
    "ListRoleAssignments": ("GET", "/api/v1/role-assignments?principal_type=client&principal_id=1", None, ADMIN),
    # the registry: reading is public, adjusting is the county reviewer's (and an administrator's)
    "ListRegistryEntries": ("GET", "/api/v1/registry/entries", None, PUBLIC),
    "GetRegistryItem": ("GET", "/api/v1/registry/scopes/430121/items/430121-A-001", None, PUBLIC),
    "GetRegistryItemHistory": ("GET", "/api/v1/registry/scopes/430121/items/430121-A-001/entries", None, PUBLIC),
    "GetScopeList": ("GET", "/api/v1/registry/scopes/national/items", None, PUBLIC),
    "ExportScopeList": ("GET", "/api/v1/registry/scopes/national/export", None, PUBLIC),
    "GetCountyList": ("GET", "/api/v1/registry/counties/430121/items", None, PUBLIC),
    "ExportCountyList": ("GET", "/api/v1/registry/counties/430121/export", None, PUBLIC),
    "ListCountyReleases": ("GET", "/api/v1/registry/counties/430121/releases", None, PUBLIC),
    "DiffCountyLists": ("GET", "/api/v1/registry/counties/430121/diff?from_date=2020-01-01&to_date=2099-01-01",
                        None, PUBLIC),
    "GetCommunityList": ("GET", f"/api/v1/registry/communities/{SONGYA}/items", None, PUBLIC),
    "CanCommunityIssueCertificate": ("GET", f"/api/v1/registry/communities/{SONGYA}/certificates?q=无犯罪记录",
                                     None, PUBLIC),
    "GetCheckReceipt": ("GET", "/api/v1/checks/receipts/{receipt}", None, PUBLIC),
    "GetCheckReceiptProof": ("GET", "/api/v1/checks/receipts/{receipt}/proof", None, PUBLIC),
    "AddRegistryItem": ("POST", "/api/v1/registry/scopes/430121/items", {
        "item": {"kind": "task", "list": "assisting", "code": "430121-A-900", "title": "矩阵测试事项",
                 "content": "矩阵测试"}, "effective_from": "2099-01-01", "reason": "矩阵测试"}, ADJUSTERS),
    "AmendRegistryItem": ("POST", "/api/v1/registry/scopes/430121/items/430121-A-001/amend",
                          {"changes": {"funding_yuan": 1}, **STATUS_CHANGE}, ADJUSTERS),
    "SuspendRegistryItem": ("POST", "/api/v1/registry/scopes/430121/items/430121-A-001/suspend", STATUS_CHANGE,
                            ADJUSTERS),
    "ResumeRegistryItem": ("POST", "/api/v1/registry/scopes/430121/items/430121-A-001/resume", STATUS_CHANGE,
                           ADJUSTERS),
    "RetireRegistryItem": ("POST", "/api/v1/registry/scopes/430121/items/430121-A-001/retire", STATUS_CHANGE,
                           ADJUSTERS),
    "ImportRegistryItems": ("POST", "/api/v1/registry/scopes/430121/import", "kind,list,code,title\n", ADJUSTERS),
    "CreateCountyRelease": ("POST", "/api/v1/registry/counties/430121/releases", {}, ADJUSTERS),
    "LoadProvincialCertificates": ("POST", "/api/v1/registry/scopes/43/certificate-template", {
        "province": "43", "document": {"title": "矩阵测试清单", "issuer": "矩阵测试",
                                       "number": "矩阵测试（非真实文号）", "date": "2026-06-01"},
        "certificates": [{"name": "矩阵测试证明"}]}, ADMIN),
    # the enforcement check: whoever may put a matter on the community, or answers for it
    "CheckMatter": ("POST", "/api/v1/checks", CHECK, set(CALLERS) - {"county-orgdept-api", "wangcheng-civil"}),
    "CheckMattersBatch": ("POST", "/api/v1/checks/batch", {"checks": [CHECK, CHECK]},
                          set(CALLERS) - {"county-orgdept-api", "wangcheng-civil"}),
    # admission requests
    "SubmitAdmissionRequest": ("POST", "/api/v1/admission-requests", ADMISSION,
                               {"civil-affairs", "housing-bureau", "xingsha-office"}),
    "ScreenAdmissionRequest": ("POST", "/api/v1/admission-requests/screen", ADMISSION,
                               {"civil-affairs", "housing-bureau", "xingsha-office"}),
    "ListAdmissionRequests": ("GET", "/api/v1/admission-requests", None,
                              {"civil-affairs", "housing-bureau", "xingsha-office", "county-reviewer-api",
                               "wangcheng-civil"}),
    "GetAdmissionRequest": ("GET", "/api/v1/admission-requests/{waiting}", None, OWNER_AND_REVIEWER),
    "GetAdmissionRequestHistory": ("GET", "/api/v1/admission-requests/{waiting}/history", None, OWNER_AND_REVIEWER),
    "GetAdmissionRequestDeliveries": ("GET", "/api/v1/admission-requests/{waiting}/deliveries", None,
                                      OWNER_AND_REVIEWER),
    "EditAdmissionDraft": ("PUT", "/api/v1/admission-requests/{waiting}", ADMISSION, {"civil-affairs"}),
    "SubmitAdmissionDraft": ("POST", "/api/v1/admission-requests/{waiting}/submit", None, {"civil-affairs"}),
    "WithdrawAdmissionRequest": ("POST", "/api/v1/admission-requests/{waiting}/withdraw", {"reason": "x"},
                                 {"civil-affairs"}),
    "ResubmitAdmissionRequest": ("POST", "/api/v1/admission-requests/{returned}/resubmit", ADMISSION,
                                 {"housing-bureau"}),
    "StartAdmissionReview": ("POST", "/api/v1/admission-requests/{waiting}/start-review", None, REVIEWER),
    "DecideAdmissionRequest": ("POST", "/api/v1/admission-requests/{in_review}/decision",
                               {"outcome": "rejected", "reason": "矩阵测试"}, REVIEWER),
    "RevokeAdmission": ("POST", "/api/v1/admission-requests/{approved}/revoke", {"reason": "矩阵测试"}, REVIEWER),
    # decision documents: whoever may read the request (its department, the county's reviewers); the
    # verification by a document's token is public
    "GetAdmissionDecisionDocument": ("GET", "/api/v1/admission-requests/{approved}/decision-document", None,
                                     OWNER_AND_REVIEWER),
    "GetAdmissionDecisionDocumentPdf": ("GET", "/api/v1/admission-requests/{approved}/decision-document.pdf", None,
                                        OWNER_AND_REVIEWER),
    "VerifyDecisionDocument": ("GET", "/api/v1/decision-documents/{document}", None, PUBLIC),
    "GetDecisionDocumentProof": ("GET", "/api/v1/decision-documents/{document}/proof", None, PUBLIC),
    "RegisterCallback": ("PUT", "/api/v1/callback", {"url": "https://example.org/callback"},
                         {"civil-affairs", "housing-bureau", "xingsha-office", "wangcheng-civil"}),
    "ListScreeningRules": ("GET", "/api/v1/screening-rules", None, PUBLIC),
    "AddScreeningRule": ("POST", "/api/v1/screening-rules", {
        "county_code": COUNTY, "rule": "county.matrix", "match_type": "phrase", "pattern": "矩阵",
        "severity": "flag", "message": "矩阵测试"}, ADJUSTERS),
    "RetireScreeningRule": ("POST", "/api/v1/screening-rules/{rule}/retire", None, ADJUSTERS),
    "ListCalendarDays": ("GET", "/api/v1/calendar/days", None, PUBLIC),
    "AddWorkingDays": ("GET", "/api/v1/calendar/working-days?start=2026-12-01&n=20", None, PUBLIC),
    "AddCalendarDay": ("POST", "/api/v1/calendar/days", {"day": "2099-01-02", "kind": "holiday", "name": "矩阵",
                                                         "county_code": COUNTY}, ADJUSTERS),
    "RemoveCalendarDay": ("DELETE", "/api/v1/calendar/days/{day}", None, ADJUSTERS),
    "GetCountySettings": ("GET", "/api/v1/counties/430121/settings", None,
                          {"county-supervisor", "county-reviewer-api", "county-orgdept-api", "province-admin"}),
    "UpdateCountySettings": ("PATCH", "/api/v1/counties/430121/settings", {}, ADMIN),
    # complaints (anyone may file one, without signing in) and a community's refusals
    "FileComplaint": ("POST", "/api/v1/complaints", {
        "jurisdiction_code": SONGYA, "department": "某局", "subject_kind": "task", "matter": "矩阵",
        "description": "矩阵测试"}, PUBLIC),
    # anyone holding a receipt number and its code (a wrong code: 404, as for an unknown number)
    "FollowComplaint": ("POST", "/api/v1/complaints/follow", {"id": 1, "code": "AAAA-BBBB-CCCC"}, PUBLIC),
    "ListComplaints": ("GET", "/api/v1/complaints", None, SUPERVISORS),
    "CountComplaintsByDepartment": ("GET", "/api/v1/complaints/by-department", None, SUPERVISORS),
    "GetComplaint": ("GET", "/api/v1/complaints/{complaint}", None, SUPERVISORS),
    "UpdateComplaintStatus": ("POST", "/api/v1/complaints/{complaint}/status", {"status": "under_investigation"},
                              SUPERVISORS),
    "RecordRefusal": ("POST", "/api/v1/refusals", {"community_code": SONGYA, "department": "某局",
                                                   "matter_title": "矩阵", "reason": "矩阵测试"}, {"songya-community"}),
    "ListRefusals": ("GET", "/api/v1/refusals", None, {"songya-community", "county-supervisor"}),
    # the audit log: read by supervisors and administrators; its proofs are public
    "ListAuditEvents": ("GET", "/api/v1/audit/events", None, AUDIT_READERS),
    "ExportAuditEvents": ("GET", "/api/v1/audit/export", None, AUDIT_READERS),
    "GetCheckpoint": ("GET", "/api/v1/audit/checkpoint", None, PUBLIC),
    "ListCheckpoints": ("GET", "/api/v1/audit/checkpoints", None, PUBLIC),
    "GetAuditPublicKey": ("GET", "/api/v1/audit/public-key", None, PUBLIC),
    "GetCheckpointNote": ("GET", "/api/v1/audit/checkpoint.txt", None, PUBLIC),
    "GetCosignedCheckpointNote": ("GET", "/api/v1/audit/cosigned-checkpoint.txt", None, PUBLIC),
    "GetCheckpointVerifierKey": ("GET", "/api/v1/audit/verifier-key.txt", None, PUBLIC),
    "GetTlogCheckpoint": ("GET", "/api/v1/audit/tlog/audit/checkpoint", None, PUBLIC),
    "GetTlogTile": ("GET", "/api/v1/audit/tlog/audit/tile/0/000.p/1", None, PUBLIC),
    # no account: only a cosignature verifying against a configured witness key is kept (this one is no note: 422)
    "AddCheckpointCosignatures": ("POST", "/api/v1/audit/cosignatures", "not a note", PUBLIC),
    "GetInclusionProof": ("GET", "/api/v1/audit/proofs/inclusion?index=0&tree_size=1", None, PUBLIC),
    "GetConsistencyProof": ("GET", "/api/v1/audit/proofs/consistency?first=1&second=1", None, PUBLIC),
    # the roster and secondments
    "ListCommunityWorkers": ("GET", f"/api/v1/community-workers?jurisdiction={SONGYA}", None, ROSTER_READERS),
    "ExportCommunityWorkers": ("GET", f"/api/v1/community-workers/export?jurisdiction={SONGYA}", None,
                               ROSTER_READERS),
    "GetCommunityWorker": ("GET", "/api/v1/community-workers/W21001001-01", None, ROSTER_READERS),
    "CreateCommunityWorker": ("POST", "/api/v1/community-workers", {
        "worker_ref": "MATRIX-1", "display_name": "x", "community_code": SONGYA, "post": "community_staff",
        "start_date": "2025-01-01"}, ADMIN),
    "UpdateCommunityWorker": ("PATCH", "/api/v1/community-workers/W21001001-01", {"display_name": "x"}, ADMIN),
    "ImportCommunityWorkers": ("POST", "/api/v1/community-workers/import",
                               "worker_ref,display_name,community_code,post,start_date\n", ADMIN),
    "GetStaffing": ("GET", f"/api/v1/staffing?jurisdiction={SONGYA}", None, ROSTER_READERS),
    "GetStaffingHistory": ("GET", f"/api/v1/staffing/{SONGYA}/history", None, ROSTER_READERS),
    # anyone may try (an organ at county level or above is refused and counted); a community is no street office
    "SubmitSecondmentRequest": ("POST", "/api/v1/secondment-requests", SECONDMENT,
                                set(CALLERS) - {"songya-community"}),
    "ListSecondmentRequests": ("GET", f"/api/v1/secondment-requests?jurisdiction={SONGYA}", None, ROSTER_READERS),
    "CountRefusedSecondmentsByOrgan": ("GET", f"/api/v1/secondment-requests/refusals-by-organ?jurisdiction={SONGYA}",
                                       None, ROSTER_READERS),
    "GetSecondmentRequest": ("GET", "/api/v1/secondment-requests/{active}", None, ROSTER_READERS),
    "DecideSecondmentRequest": ("POST", "/api/v1/secondment-requests/{active}/decision",
                                {"outcome": "reject", "reasons": "x"}, ORGDEPT),
    "GetSecondmentDecisionDocument": ("GET", "/api/v1/secondment-requests/{active}/decision-document", None,
                                      ROSTER_READERS),
    "GetSecondmentDecisionDocumentPdf": ("GET", "/api/v1/secondment-requests/{active}/decision-document.pdf", None,
                                         ROSTER_READERS),
    "WithdrawSecondmentRequest": ("POST", "/api/v1/secondment-requests/{active}/withdraw", {"reason": "x"},
                                  {"xingsha-office"}),
    "RecordSecondmentReturn": ("POST", "/api/v1/secondment-requests/{active}/return", {},
                               {"xingsha-office", "songya-community"}),
    "RequestSecondmentExtension": ("POST", "/api/v1/secondment-requests/{active}/extensions",
                                   {"new_end_date": "2099-01-01", "reason": "x"}, {"xingsha-office"}),
    "DecideSecondmentExtension": ("POST", "/api/v1/secondment-requests/{extended}/extensions/{extension}/decision",
                                  {"outcome": "reject", "reasons": "x"}, ORGDEPT),
}


def operations(tmp_path) -> dict[str, tuple[str, str]]:
    schema = document(create_app(make_settings(None, tmp_path)))
    return {op["operationId"]: (method.upper(), path) for path, item in schema["paths"].items()
            for method, op in item.items() if isinstance(op, dict) and "operationId" in op}


def test_every_operation_is_in_the_matrix(tmp_path):
    ours = operations(tmp_path)
    missing = sorted(set(ours) - set(MATRIX))
    assert not missing, f"add these operations to MATRIX: {missing}"
    assert not set(MATRIX) - set(ours), f"MATRIX names operations that do not exist: {set(MATRIX) - set(ours)}"
    for name, (method, path, _body, _allowed) in MATRIX.items():
        assert ours[name][0] == method, f"{name} is {ours[name][0]}, not {method}"
        # a `{path}` parameter spans segments (the tlog tiles); every other one is one segment
        pattern = re.sub(r"{[^}]+}", lambda m: ".+" if m.group(0) == "{path}" else "[^/]+", ours[name][1])
        assert re.fullmatch(pattern, path.split("?")[0]), f"{name} is {ours[name][1]}, not {path}"


async def _fill(path: str, client: AppClient, db_url: str, tokens: dict[str, str], n: int,
                known: dict[str, Any]) -> str:
    """The ids a path names, from the demo data; a receipt, a county rule and a county day are made through
    the API by the people who would make them, a new one for each call (n), so that one caller's retiring
    or removing it leaves the next caller something to act on. Ids read from the database are read once
    (known), before anyone acts."""
    from service.core.db import connect

    names = set(re.findall(r"{(\w+)}", path))
    if not names:
        return path
    conn = await connect(db_url)
    try:
        async def request(status: str, client_name: str) -> int:
            return await conn.fetchval(
                "select r.id from admission_request r join api_client c on c.id = r.client_id "
                "where r.status = $1 and c.name = $2 order by r.id limit 1", status, client_name)

        lookups = {
            "client_id": lambda: conn.fetchval("select id from api_client where name = 'wangcheng-civil'"),
            "token_id": lambda: conn.fetchval("select t.id from api_token t join api_client c on c.id = t.client_id "
                                              "where c.name = 'housing-bureau'"),
            "assignment_id": lambda: conn.fetchval(
                "select r.id from role_assignment r join api_client c on c.id = r.principal_id and "
                "r.principal_type = 'client' where c.name = 'housing-bureau'"),
            "waiting": lambda: request("submitted", "civil-affairs"),
            "in_review": lambda: request("in_review", "housing-bureau"),
            "returned": lambda: request("returned", "housing-bureau"),
            "approved": lambda: request("approved", "civil-affairs"),
            "complaint": lambda: conn.fetchval("select min(id) from complaint"),
            "document": lambda: conn.fetchval("select verify_token from decision_document order by id limit 1"),
            "active": lambda: conn.fetchval("select id from secondment_request where status = 'active' and "
                                            "home_community_code = $1", SONGYA),
            "extended": lambda: conn.fetchval("select request_id from secondment_extension "
                                              "where status = 'pending_approval'"),
            "extension": lambda: conn.fetchval("select id from secondment_extension where status = 'pending_approval'"),
        }
        for name in names & set(lookups) - set(known):
            known[name] = await lookups[name]()
        values = {name: known[name] for name in names & set(lookups)}
    finally:
        await conn.close()
    reviewer = bearer(tokens["county-reviewer-api"])
    if "receipt" in names:
        r = await client.post("/api/v1/checks", json=CHECK, headers=bearer(tokens["civil-affairs"]))
        assert r.status_code == 200, r.text
        values["receipt"] = r.json()["id"]
    if "rule" in names:
        rule = {**MATRIX["AddScreeningRule"][2], "rule": f"county.matrix-{n}", "pattern": f"矩阵{n}"}
        r = await client.post("/api/v1/screening-rules", json=rule, headers=reviewer)
        assert r.status_code == 201, r.text
        values["rule"] = r.json()["id"]
    if "day" in names:
        day = {**MATRIX["AddCalendarDay"][2], "day": f"2098-01-{n + 1:02d}"}
        r = await client.post("/api/v1/calendar/days", json=day, headers=reviewer)
        assert r.status_code == 201, r.text
        values["day"] = r.json()["id"]
    assert all(values.get(n) is not None for n in names), f"demo data lacks {names - set(values)} for {path}"
    return path.format(**values)


@pytest.mark.parametrize("operation", sorted(MATRIX))
async def test_who_passes_the_guard(operation, server_url, template, tmp_path):
    method, template_path, body, allowed = MATRIX[operation]
    url = await fresh_database(server_url)
    try:
        async with running(create_app(make_settings(url, tmp_path))) as client:
            calls, known = 0, {}

            async def call(headers: dict[str, str]) -> int:
                nonlocal calls
                calls += 1
                path = await _fill(template_path, client, url, template.tokens, calls, known)
                kwargs: dict[str, Any] = {"headers": headers}
                if isinstance(body, str):
                    kwargs["content"] = body.encode()
                    kwargs["headers"] = {**headers, "content-type": "text/csv"}
                elif body is not None:
                    kwargs["json"] = body
                return (await client.request(method, path, **kwargs)).status_code

            anonymous = await call({})
            if allowed == PUBLIC:
                assert anonymous not in (401, 403), f"{operation}: public, yet {anonymous} for anonymous"
            else:
                assert anonymous == 401, f"{operation}: anonymous got {anonymous}"
            outcomes = {}
            # refused callers first, so an allowed caller's change cannot hide a refusal
            order = sorted(CALLERS, key=lambda name: allowed in (PUBLIC, ANY) or name in allowed)
            for name in order:
                outcomes[name] = await call(bearer(template.tokens[name]))
            wrong = []
            for name, status in outcomes.items():
                if allowed == PUBLIC:  # a public answer may be "not found" (no checkpoint signed yet, say)
                    if status in (401, 403):
                        wrong.append(f"{CALLERS[name]} should pass, got {status}")
                elif allowed == ANY or name in allowed:
                    if status in (401, 403, 404):
                        wrong.append(f"{CALLERS[name]} should pass, got {status}")
                elif status not in (403, 404):
                    wrong.append(f"{CALLERS[name]} should be refused, got {status}")
            assert not wrong, f"{operation}: " + "; ".join(wrong)
    finally:
        await drop_database(server_url, url)


def _jurisdiction_operations(tmp_path) -> list[str]:
    schema = document(create_app(make_settings(None, tmp_path)))
    return sorted(op["operationId"] for item in schema["paths"].values() for op in item.values()
                  if isinstance(op, dict) and any(p.get("in") == "query" and p.get("name") == "jurisdiction"
                                                  for p in op.get("parameters", [])))


def test_the_operations_taking_a_jurisdiction_are_known(tmp_path):
    # the repeated-parameter column below walks these: a new one must be called there too
    assert set(_jurisdiction_operations(tmp_path)) == set(REPEATED_JURISDICTION)


# every operation taking ?jurisdiction=, asked by a caller who may read its own jurisdiction with a second,
# wider one appended: the guard would read one value and the handler the other, so it is refused with 400
REPEATED_JURISDICTION = {
    "ListCommunityWorkers": ("songya-community", SONGYA),
    "ExportCommunityWorkers": ("songya-community", SONGYA),
    "GetStaffing": ("songya-community", SONGYA),
    "ListSecondmentRequests": ("songya-community", SONGYA),
    "CountRefusedSecondmentsByOrgan": ("county-supervisor", COUNTY),
    "ListAuditEvents": ("county-supervisor", COUNTY),
    "ExportAuditEvents": ("county-supervisor", COUNTY),
}


@pytest.mark.parametrize("operation", sorted(REPEATED_JURISDICTION))
async def test_a_repeated_jurisdiction_is_refused(operation, server_url, template, tmp_path):
    method, path, _body, _allowed = MATRIX[operation]
    caller, own = REPEATED_JURISDICTION[operation]
    base, _, query = path.partition("?")
    query = "&".join(q for q in query.split("&") if q and not q.startswith("jurisdiction="))
    url = await fresh_database(server_url)
    try:
        async with running(create_app(make_settings(url, tmp_path))) as client:
            headers = bearer(template.tokens[caller])
            single = f"{base}?{query + '&' if query else ''}jurisdiction={own}"
            assert (await client.request(method, single, headers=headers)).status_code == 200
            r = await client.request(method, f"{single}&jurisdiction=00", headers=headers)
            assert r.status_code == 400, f"{operation}: {r.status_code} {r.text[:200]}"
            assert r.json()["invalid_params"][0]["name"] == "jurisdiction"
    finally:
        await drop_database(server_url, url)
