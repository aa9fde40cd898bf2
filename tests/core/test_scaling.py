"""What docs/scaling.md says about running several instances and about sharding by county, checked.

- Instances share nothing but the database and the two secrets: a web session signed by one instance is
  honoured by another (no sticky sessions behind a load balancer).
- The sharding plan's inventory: every table of the schema is classified (distributed by county, reference,
  or kept on one node), and the facts the plan rests on hold in the migrated schema: which tables carry
  the county in a column, which carry it in their primary key, which tables announce changes by trigger.
  A new table, or a changed key, fails here until docs/scaling.md (and this inventory) say what becomes of it.
"""

from __future__ import annotations

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers.app import running
from tests.helpers.web import sign_in

# table -> (plan, the column that carries the county, the primary key today). Mirrors docs/scaling.md.
BY_COUNTY = {
    "registry_item": ("scope", ["scope", "code"]),  # scope = county code for a county's own items
    "registry_entry": ("scope", ["entry_number"]),
    "registry_release": ("county_code", ["id"]),
    "check_record": ("county_code", ["id"]),
    "admission_request": ("county_code", ["id"]),
    "admission_transition": (None, ["id"]),  # through request_id
    "secondment_request": ("county_code", ["id"]),
    "secondment_worker": (None, ["request_id", "worker_id"]),  # through request_id
    "secondment_extension": (None, ["id"]),  # through request_id
    "community_worker": ("community_code", ["id"]),  # the county is the community's
    "complaint": ("county_code", ["id"]),
    "matter_refusal": ("county_code", ["id"]),
    "decision_number_counter": ("county_code", ["county_code", "series", "year"]),
    "decision_document": ("county_code", ["id"]),
}
REFERENCE = {
    "jurisdiction", "web_user", "api_client", "api_token", "role_assignment", "login_failure", "calendar_day",
    "county_setting", "screening_rule",
}
ONE_NODE = {
    "schema_migration", "registry_entry_counter", "audit_event", "audit_leaf", "audit_gap", "merkle_log",
    "merkle_node", "merkle_checkpoint", "merkle_cosignature", "idempotency_key", "outbox", "delivery_attempt",
    "complaint_rate",
}
NOTIFYING = {"calendar_day", "county_setting", "jurisdiction", "registry_item", "registry_release",
             "role_assignment", "screening_rule", "outbox"}

TABLES = """
select c.relname as name,
       coalesce((select array_agg(a.attname::text order by k.ord)
                 from pg_index i cross join unnest(i.indkey) with ordinality k(attnum, ord)
                 join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                 where i.indrelid = c.oid and i.indisprimary), '{}') as pk,
       (select array_agg(attname::text) from pg_attribute
        where attrelid = c.oid and attnum > 0 and not attisdropped) as columns
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p')
"""


async def test_a_web_session_signed_by_one_instance_is_honoured_by_another(settings, demo, tmp_path):
    other = make_settings(settings.database_url, tmp_path / "other")  # same database, same two secrets
    async with running(create_app(settings), base_url="http://testserver.local") as first, \
            running(create_app(other), base_url="http://testserver.local") as second:
        r = await sign_in(first, "reviewer", demo.users["reviewer"])
        assert r.status_code == 303
        second.cookies = first.cookies
        home = await second.get("/ui/inbox")
        assert home.status_code == 200
        assert "社区高龄老人探访关爱服务" in home.text


async def test_every_table_has_a_place_in_the_sharding_plan(db):
    names = {r["name"] for r in await db.fetch(TABLES)}
    planned = set(BY_COUNTY) | REFERENCE | ONE_NODE
    assert not names - planned, f"tables with no place in docs/scaling.md's sharding plan: {sorted(names - planned)}"
    assert not planned - names, f"planned tables that no longer exist: {sorted(planned - names)}"


async def test_the_county_tables_carry_the_county_and_have_the_keys_docs_scaling_md_gives(db):
    tables = {r["name"]: r for r in await db.fetch(TABLES)}
    for name, (column, key) in BY_COUNTY.items():
        if column is not None:
            assert column in tables[name]["columns"], (name, column)
        assert list(tables[name]["pk"]) == key, (name, list(tables[name]["pk"]), "update docs/scaling.md")


async def test_a_places_county_is_recorded_on_every_place_below_a_county(db):
    assert await db.fetchval("select count(*) from jurisdiction where level in ('street', 'community') "
                             "and county_code is null") == 0
    assert await db.fetchval("select count(*) from jurisdiction where level = 'county' and county_code <> code") == 0


async def test_the_tables_that_announce_changes_by_trigger(db):
    rows = await db.fetch("select distinct event_object_table as t from information_schema.triggers "
                          "where action_statement ~ '(notify_table_changed|outbox_wake)'")
    assert {r["t"] for r in rows} == NOTIFYING
