"""The registry's SQL."""

NEXT_ENTRY_NUMBER = """
update registry_entry_counter set last_number = last_number + 1 where singleton returning last_number
"""
# every writer takes the log's lock first: checks of what exists and the entry then see one order
LOCK_LOG = "select last_number from registry_entry_counter where singleton for update"
LAST_ENTRY_NUMBER = "select last_number from registry_entry_counter where singleton"

INSERT_ENTRY = """
insert into registry_entry (entry_number, scope, code, entry_type, status, effective_from, entered_at, actor,
                            reason, source_ref, item, leaf, item_digest)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""

UPSERT_ITEM = """
insert into registry_item (scope, code, kind, list, title, content, status, created_from, effective_from,
                           expires_on, entry_number, item)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
on conflict (scope, code) do update set
    kind = excluded.kind, list = excluded.list, title = excluded.title, content = excluded.content,
    status = excluded.status, effective_from = excluded.effective_from, expires_on = excluded.expires_on,
    entry_number = excluded.entry_number, item = excluded.item, updated_at = now()
returning scope, code, kind, list, title, status, created_from, effective_from, entry_number, item
"""

RECORD_COLUMNS = "scope, code, kind, list, title, status, created_from, effective_from, entry_number, item"
GET_RECORD = f"select {RECORD_COLUMNS} from registry_item where scope = $1 and code = $2"
GET_RECORD_FOR_UPDATE = GET_RECORD + " for update"
# the same code in the template scopes above a county, nearest first
TEMPLATE_RECORDS = f"""
select {RECORD_COLUMNS} from registry_item where scope = any($1::text[]) and code = $2
"""
SIMILAR = """
select scope, code, title, list, kind,
       greatest(similarity(title, $2), similarity(content, $3) * 0.8)::float8 as similarity
from registry_item
where scope = any($1::text[]) and status <> 'retired'
order by similarity desc, code
limit $4
"""

# the state of every item of these scopes on a date, as known at log position $3
EFFECTIVE = """
select distinct on (scope, code) scope, code, entry_number, status, effective_from, item
from registry_entry
where scope = any($1::text[]) and effective_from <= $2 and entry_number <= $3
order by scope, code, entry_number desc
"""

# what is recorded to take effect after a date (待生效): additions, amendments, suspensions and retirements
UPCOMING = """
select scope, code, entry_number, status, effective_from, item
from registry_entry
where scope = any($1::text[]) and effective_from > $2
order by effective_from, code, entry_number
"""

# the same, overlaid (the county's record of a code wins over the province's, which wins over the
# nation's), filtered, and built into the JSON array of ListedItem by PostgreSQL: the read-heavy path
EFFECTIVE_JSON = """
with latest as (
    select distinct on (scope, code) scope, code, entry_number, status, effective_from, item
    from registry_entry
    where scope = any($1::text[]) and effective_from <= $2 and entry_number <= $3
    order by scope, code, entry_number desc
), chosen as (
    select distinct on (code) * from latest order by code, array_position($1::text[], scope) desc
)
select coalesce(json_agg(json_build_object(
    'scope', scope, 'code', code, 'kind', item->'kind', 'list', item->'list', 'title', item->'title',
    'content', coalesce(item->'content', '""'::jsonb), 'basis', item->'basis', 'basis_number', item->'basis_number',
    'department', item->'department', 'status', status, 'effective_from', effective_from,
    'expires_on', item->'expires_on', 'entry_number', entry_number, 'item', item)
    order by item->>'kind', item->>'list', code), '[]')::text
from chosen
where status = 'active' and (item->>'expires_on' is null or $2 < (item->>'expires_on')::date)
  and ($4::text is null or item->>'kind' = $4) and ($5::text is null or item->>'list' = $5)
  and ($6::text is null or strpos(lower(item->>'title'), $6) > 0 or strpos(lower(item->>'content'), $6) > 0
       or lower(code) = $6 or strpos(lower(coalesce(item->>'basis', '')), $6) > 0)
"""

ENTRIES_FROM = """
select entry_number, entry_type, scope, code, status, effective_from, entered_at, actor, reason, source_ref,
       item, leaf, item_digest
from registry_entry where entry_number >= $1 order by entry_number limit $2
"""
ITEM_ENTRIES = """
select entry_number, entry_type, scope, code, status, effective_from, entered_at, actor, reason, source_ref,
       item, leaf, item_digest
from registry_entry where scope = $1 and code = $2 order by entry_number
"""

RELEASE_COLUMNS = """id, county_code, name, release_date, issuing_body, document_number, approving_government,
filed_upward_on, entry_cap, created_at"""
INSERT_RELEASE = f"""
insert into registry_release (county_code, name, release_date, issuing_body, document_number,
                              approving_government, filed_upward_on, entry_cap, created_by)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
returning {RELEASE_COLUMNS}
"""
RELEASES = f"select {RELEASE_COLUMNS} from registry_release where county_code = $1 order by release_date, id"
RELEASE = f"select {RELEASE_COLUMNS} from registry_release where county_code = $1 and name = $2"
RELEASE_ON = f"""
select {RELEASE_COLUMNS} from registry_release where county_code = $1 and release_date <= $2
order by release_date desc, id desc limit 1
"""

# ---- the in-memory checker ----
# only what a check cites, not the whole item: scopes are held by every process
SCOPE_ENTRIES = """
select scope, code, entry_number, status, effective_from, item->>'kind' as kind, item->>'list' as list,
       item->>'title' as title, (item->>'expires_on')::date as expires_on, item->>'basis' as basis,
       item->>'basis_number' as basis_number, item->>'content' as content, item->>'authority' as authority,
       item->>'department' as department, item->>'department_level' as department_level,
       item->>'filing_number' as filing_number, item->'user_demands' as user_demands
from registry_entry where scope = any($1::text[])
order by scope, code, entry_number
"""
ALL_SCOPES = "select distinct scope from registry_item"
CHANGED_SCOPES = """
select scope, change_seq from registry_item where change_seq > $1
union all
select county_code, change_seq from registry_release where change_seq > $1
"""
MAX_SEQ = """
select greatest((select max(change_seq) from registry_item), (select max(change_seq) from registry_release))
"""
SCOPE_RELEASES = """
select county_code, name, release_date, document_number, entry_cap from registry_release
where county_code = any($1::text[]) order by county_code, release_date, id
"""
CLIENT_BY_NAME = """
select id from api_client where (name = $1 or organisation = $1) and disabled_at is null
order by (name = $1) desc, id limit 1
"""

CHECK_COLUMNS = [
    "id", "asked_at", "asker", "department", "community_code", "county_code", "matter_code", "matter_title",
    "role", "allowed", "rule", "reason", "cited_scope", "cited_code", "cited_list", "cited_entry",
    "cited_release", "cited_document",
]
CHECKS_PRESENT = "select id from check_record where id = any($1::uuid[])"

RECEIPT = f"select {', '.join(CHECK_COLUMNS)} from check_record where id = $1"

# the cancelled certificates of the template scopes above a county (a retained one may not be one of them)
CANCELLED_CERTIFICATES = """
select scope, code, title, item->>'basis' as basis, item->>'basis_number' as basis_number
from registry_item
where scope = any($1::text[]) and kind = 'certificate' and list = 'cancelled' and status = 'active'
"""
# similar.py: the items the in-memory similarity index is built from
SIMILAR_ITEMS = """
select scope, code, title, content, list, kind from registry_item
where scope = any($1::text[]) and status <> 'retired'
"""
