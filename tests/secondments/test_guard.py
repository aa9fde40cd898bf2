"""Who passes the guard on the secondment and roster operations (the same check as
tests/test_authorization_matrix.py, for this area's operations; written by hand from DOMAIN.md)."""

from __future__ import annotations

from typing import Any

from tests.conftest import bearer

CALLERS = ("civil-affairs", "xingsha-office", "songya-community", "county-supervisor", "county-reviewer-api",
           "county-orgdept-api", "province-admin", "wangcheng-civil")
READERS = {"xingsha-office", "songya-community", "county-supervisor", "county-reviewer-api", "county-orgdept-api",
           "province-admin"}
ADMIN = {"province-admin"}
ORGDEPT = {"county-orgdept-api"}
SONGYA = "430121001001"
REQUEST = {"organ": {"name": "某机关", "level": "street"}, "form": "secondment", "home_community_code": SONGYA,
           "workers": ["W21001001-12"], "purpose": "x", "start_date": "2030-01-07", "end_date": "2030-03-01",
           "worker_consent": True, "community_consent": True}

# operationId: (method, path, body, who may pass the guard); {active} is the demo's active secondment in
# 松雅社区, {extended} the one in 湘龙社区 with an extension awaiting a decision, {extension} that extension
MATRIX: dict[str, tuple[str, str, Any, set[str]]] = {
    "ListCommunityWorkers": ("GET", f"/api/v1/community-workers?jurisdiction={SONGYA}", None, READERS),
    "ExportCommunityWorkers": ("GET", f"/api/v1/community-workers/export?jurisdiction={SONGYA}", None, READERS),
    "GetCommunityWorker": ("GET", "/api/v1/community-workers/W21001001-01", None, READERS),
    "CreateCommunityWorker": ("POST", "/api/v1/community-workers", {
        "worker_ref": "MATRIX-1", "display_name": "x", "community_code": SONGYA, "post": "community_staff",
        "start_date": "2025-01-01"}, ADMIN),
    "UpdateCommunityWorker": ("PATCH", "/api/v1/community-workers/W21001001-01", {"display_name": "x"}, ADMIN),
    "ImportCommunityWorkers": ("POST", "/api/v1/community-workers/import",
                               "worker_ref,display_name,community_code,post,start_date\n", ADMIN),
    "GetStaffing": ("GET", f"/api/v1/staffing?jurisdiction={SONGYA}", None, READERS),
    "GetStaffingHistory": ("GET", f"/api/v1/staffing/{SONGYA}/history", None, READERS),
    # anyone may try (a county-level organ is refused and counted); a community is not a street office
    "SubmitSecondmentRequest": ("POST", "/api/v1/secondment-requests", REQUEST, set(CALLERS) - {"songya-community"}),
    "ListSecondmentRequests": ("GET", f"/api/v1/secondment-requests?jurisdiction={SONGYA}", None, READERS),
    "CountRefusedSecondmentsByOrgan": ("GET", f"/api/v1/secondment-requests/refusals-by-organ?jurisdiction={SONGYA}",
                                       None, READERS),
    "GetSecondmentRequest": ("GET", "/api/v1/secondment-requests/{active}", None, READERS),
    "DecideSecondmentRequest": ("POST", "/api/v1/secondment-requests/{active}/decision",
                                {"outcome": "reject", "reasons": "x"}, ORGDEPT),
    "WithdrawSecondmentRequest": ("POST", "/api/v1/secondment-requests/{active}/withdraw", {"reason": "x"},
                                  {"xingsha-office"}),
    "RecordSecondmentReturn": ("POST", "/api/v1/secondment-requests/{active}/return", {},
                               {"xingsha-office", "songya-community"}),
    "RequestSecondmentExtension": ("POST", "/api/v1/secondment-requests/{active}/extensions",
                                   {"new_end_date": "2099-01-01", "reason": "x"}, {"xingsha-office"}),
    "DecideSecondmentExtension": ("POST", "/api/v1/secondment-requests/{extended}/extensions/{extension}/decision",
                                  {"outcome": "reject", "reasons": "x"}, ORGDEPT),
}


def test_every_operation_of_the_area_is_in_the_matrix(client):
    schema = client.app.openapi_schema.to_schema()
    ours = {op["operationId"] for path, item in schema["paths"].items() for op in item.values()
            if isinstance(op, dict) and any(k in path for k in ("secondment", "community-workers", "staffing"))}
    assert ours == set(MATRIX)


async def test_who_passes_the_guard(client, demo, db):
    """One database for every operation (set up once, so the run stays short): refused callers go first, and an
    allowed caller's change never turns a later guard decision, which depends only on jurisdictions."""
    extended = await db.fetchrow("select request_id, id from secondment_extension where status = 'pending_approval'")
    ids = {"active": await db.fetchval("select id from secondment_request where status = 'active' and "
                                       "home_community_code = $1", SONGYA),
           "extended": extended["request_id"], "extension": extended["id"]}
    wrong: list[str] = []
    for operation, (method, path, body, allowed) in sorted(MATRIX.items()):
        url = path.format(**ids)

        async def call(headers: dict[str, str], method: str = method, url: str = url, body: Any = body) -> int:
            kwargs: dict[str, Any] = {"headers": headers}
            if isinstance(body, str):
                kwargs.update(content=body.encode(), headers={**headers, "content-type": "text/csv"})
            elif body is not None:
                kwargs["json"] = body
            return (await client.request(method, url, **kwargs)).status_code

        if (status := await call({})) != 401:
            wrong.append(f"{operation}: anonymous got {status}")
        for name in sorted(CALLERS, key=lambda n, allowed=allowed: n in allowed):
            status = await call(bearer(demo.tokens[name]))
            if name in allowed and status in (401, 403, 404):
                wrong.append(f"{operation}: {name} should pass, got {status}")
            elif name not in allowed and status not in (403, 404):
                wrong.append(f"{operation}: {name} should be refused, got {status}")
    assert not wrong, "\n".join(wrong)
