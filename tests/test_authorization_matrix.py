"""Every API route, called by every role (and by nobody): who gets through, who gets 401, 403 or 404.

The table is written by hand from DOMAIN.md's "Who uses it", not derived from policy.csv, so a
wrong policy line fails here. Every operation of the OpenAPI document must appear in it.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.core.openapi import document
from tests.conftest import bearer, drop_database, fresh_database, make_settings

# the demo clients (service/demo/data.py) and the role each holds where
CALLERS = {
    "civil-affairs": "department @ 430121",
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

# operationId: (method, path, body, who may pass the guard)
# paths may name {client_id}, {token_id}, {assignment_id}: filled from the demo data
MATRIX: dict[str, tuple[str, str, Any, Any]] = {
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
}


def operations(tmp_path) -> dict[str, tuple[str, str]]:
    schema = document(create_app(make_settings(None, tmp_path)))
    return {op["operationId"]: (method.upper(), path) for path, item in schema["paths"].items()
            for method, op in item.items() if isinstance(op, dict) and "operationId" in op}


def test_every_operation_is_in_the_matrix(tmp_path):
    missing = sorted(set(operations(tmp_path)) - set(MATRIX) - {"Healthz", "Readyz"})
    assert not missing, f"add these operations to MATRIX: {missing}"


async def _fill(path: str, db_url: str) -> str:
    from service.core.db import connect

    conn = await connect(db_url)
    try:
        values = {
            "client_id": await conn.fetchval("select id from api_client where name = 'wangcheng-civil'"),
            "token_id": await conn.fetchval("select t.id from api_token t join api_client c on c.id = t.client_id "
                                            "where c.name = 'housing-bureau'"),
            "assignment_id": await conn.fetchval("select r.id from role_assignment r join api_client c on "
                                                 "c.id = r.principal_id and r.principal_type = 'client' "
                                                 "where c.name = 'housing-bureau'"),
        }
    finally:
        await conn.close()
    return path.format(**values)


@pytest.mark.parametrize("operation", sorted(MATRIX))
async def test_who_passes_the_guard(operation, server_url, template, tmp_path):
    method, path, body, allowed = MATRIX[operation]
    url = await fresh_database(server_url)
    try:
        path = await _fill(path, url)
        async with AsyncTestClient(app=create_app(make_settings(url, tmp_path))) as client:
            async def call(headers: dict[str, str]) -> int:
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
            for name, status in outcomes.items():
                passes = allowed in (PUBLIC, ANY) or name in allowed
                if passes:
                    assert status not in (401, 403, 404), f"{operation}: {CALLERS[name]} should pass, got {status}"
                else:
                    assert status in (403, 404), f"{operation}: {CALLERS[name]} should be refused, got {status}"
    finally:
        await drop_database(server_url, url)
