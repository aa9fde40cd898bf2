"""The guard remembers the enforcer's answers, and forgets them the moment assignments change."""

from __future__ import annotations

from service.core.authz import Authorizer
from service.core.settings import PROJECT_ROOT
from service.core.tree import JurisdictionTree

COUNTY = "430121"
COMMUNITY_WORKERS = ("community_worker", "read")  # a supervisor may read them; a department may not


async def test_a_revoked_role_stops_allowing_though_another_role_remains_at_the_same_county(db):
    tree = JurisdictionTree()
    await tree.refresh(db)
    authorizer = Authorizer(PROJECT_ROOT / "policies", tree)
    await authorizer.refresh(db)
    client_id = await db.fetchval(
        "insert into api_client (name, organisation, organisation_level, jurisdiction_code) "
        "values ('decisions-test', '测试局', 'county', '430121') "
        "returning id")
    subject = f"client:{client_id}"
    await db.execute("insert into role_assignment (principal_type, principal_id, role, jurisdiction_code, granted_by) "
                     "values ('client', $1, 'department', $2, 'test')", client_id, COUNTY)
    supervisor = await db.fetchval(
        "insert into role_assignment (principal_type, principal_id, role, jurisdiction_code, granted_by) "
        "values ('client', $1, 'supervisor', $2, 'test') returning id", client_id, COUNTY)
    await authorizer.refresh(db)
    community = next(code for code, node in tree.nodes.items() if node.level == "community"
                     and node.county_code == COUNTY)
    assert authorizer.allowed(subject, *COMMUNITY_WORKERS, community)
    assert authorizer.allowed(subject, *COMMUNITY_WORKERS, community)  # the remembered answer

    await db.execute("update role_assignment set revoked_at = now(), revoked_by = 'test' where id = $1", supervisor)
    await authorizer.refresh(db)
    assert COUNTY in authorizer.roles_of(subject)  # the department role is still held there
    assert not authorizer.allowed(subject, *COMMUNITY_WORKERS, community)
