"""The registry's rules: items and their append-only log, effective lists, releases, import and export.

A list lives in a scope: 'national', a province code (the template levels) or a county code. Every
change is an entry (dense entry number, the item as it became, canonical JSON leaf and its SHA-256);
the record (registry_item) is the latest entry. What is in force on a date is computed from the
entries' effective dates when read, so a future-dated change takes effect on its date by itself.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
from typing import Any

import asyncpg
import msgspec

from service.core import audit, exports, written
from service.core.audit import Actor
from service.core.clock import today
from service.core.errors import Conflict, NotFound, ServiceError, ValidationFailed
from service.core.tree import lookup
from service.counties.service import load_settings
from service.policy import digital, plaques
from service.policy.apply import COUNTY_RULES, judge, refusal
from service.registry import certificates, queries
from service.registry.schemas import (
    ITEM_FIELDS,
    LISTS_OF_KIND,
    NEGATIVE_LISTS,
    EffectiveList,
    EntryPage,
    EntryRead,
    FieldChange,
    ImportReport,
    ImportRowProblem,
    ItemCreate,
    ItemDifference,
    ItemRead,
    ListDifference,
    ListedItem,
    ReleaseCreate,
    ReleaseRead,
    SimilarItem,
)

ENTRY_PAGE_MAX = 1000
TRANSITIONS = {  # entry type -> (statuses it applies to, status after)
    "amend": (("active", "suspended"), None),
    "suspend": (("active",), "suspended"),
    "resume": (("suspended",), "active"),
    "retire": (("active", "suspended"), "retired"),
}


def _invalid(name: str, reason: str, *, rule: str | None = None) -> ValidationFailed:
    """A 422 naming the field and citing the rule (in the problem's `rule` as well)."""
    error = ValidationFailed.field(name, reason, rule=rule)
    error.rule = rule
    return error


def scope_domain(scope: str) -> str:
    """The jurisdiction whose roles cover a scope: the nation ('00') for the national template."""
    return "00" if scope == "national" else scope


def template_scopes(county_code: str) -> list[str]:
    """The scopes a county's effective list is made of, lowest priority first."""
    return ["national", county_code[:2], county_code]


def canonical(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted")


# ---- reading records ----

def to_read(row: asyncpg.Record) -> ItemRead:
    return ItemRead(scope=row["scope"], code=row["code"], kind=row["kind"], list=row["list"], title=row["title"],
                    status=row["status"], created_from=row["created_from"], effective_from=row["effective_from"],
                    entry_number=row["entry_number"], item=row["item"])


def to_entry(row: asyncpg.Record) -> EntryRead:
    return EntryRead(
        entry_number=row["entry_number"], entry_type=row["entry_type"], scope=row["scope"], code=row["code"],
        status=row["status"], effective_from=row["effective_from"], entered_at=row["entered_at"],
        actor=row["actor"], reason=row["reason"], source_ref=row["source_ref"], item=row["item"],
        leaf=bytes(row["leaf"]).decode(), item_digest=bytes(row["item_digest"]).hex(),
    )


def to_release(row: asyncpg.Record) -> ReleaseRead:
    return ReleaseRead(**{k: row[k] for k in ReleaseRead.__struct_fields__})


async def check_scope(conn: asyncpg.Connection, *, scope: str) -> None:
    """A scope must name the nation, an existing province or an existing county."""
    if scope == "national":
        return
    row = await lookup(conn, scope)
    wanted = "province" if len(scope) == 2 else "county"
    if row is None or row.level != wanted:
        raise NotFound(f"清单范围 {scope} 不存在 (unknown list scope {scope}: no such {wanted})",
                       extra={"scope": scope})


async def county_of_community(conn: asyncpg.Connection, *, code: str) -> str:
    row = await lookup(conn, code)
    if row is None or row.level != "community":
        raise NotFound(f"社区 {code} 不存在 (unknown community {code})", extra={"community_code": code})
    return str(row.county_code)


async def check_county(conn: asyncpg.Connection, *, code: str) -> None:
    row = await lookup(conn, code)
    if row is None or row.level != "county":
        raise NotFound(f"县 {code} 不存在 (unknown county {code})", extra={"county_code": code})


async def get_record(conn: asyncpg.Connection, *, scope: str, code: str) -> ItemRead:
    row = await conn.fetchrow(queries.GET_RECORD, scope, code)
    if row is None:
        raise NotFound(f"事项 {code} 不在 {scope} 清单中 (unknown item {code} in scope {scope})",
                       extra={"scope": scope, "code": code})
    return to_read(row)


async def item_history(conn: asyncpg.Connection, *, scope: str, code: str) -> list[EntryRead]:
    await get_record(conn, scope=scope, code=code)
    return [to_entry(r) for r in await conn.fetch(queries.ITEM_ENTRIES, scope, code)]


async def entries(conn: asyncpg.Connection, *, start: int, limit: int) -> EntryPage:
    limit = max(1, min(limit, ENTRY_PAGE_MAX))
    rows = await conn.fetch(queries.ENTRIES_FROM, start, limit)
    total = int(await conn.fetchval(queries.LAST_ENTRY_NUMBER))
    page = [to_entry(r) for r in rows]
    next_start = page[-1].entry_number + 1 if page and page[-1].entry_number < total else None
    return EntryPage(entries=page, next_start=next_start, total=total)


# ---- writing entries ----

def _check_item_shape(item: ItemCreate) -> None:
    if item.list not in LISTS_OF_KIND[item.kind]:
        raise _invalid(
            "list", f"{item.kind} 类事项的清单只能是 {'/'.join(LISTS_OF_KIND[item.kind])} "
            f"(a {item.kind} belongs to one of the lists {', '.join(LISTS_OF_KIND[item.kind])})",
            rule="registry.kind-list")


def _check_expiry(item: ItemCreate, start: datetime.date) -> None:
    if item.expires_on is not None and item.expires_on <= start:
        raise _invalid(
            "expires_on", f"失效日期 {item.expires_on} 不得早于生效日期 {start} "
            f"(the expiry {item.expires_on} must come after the start {start})", rule="registry.expiry-after-start")


async def _template_prohibition(conn: asyncpg.Connection, *, county_code: str, code: str) -> asyncpg.Record | None:
    """The template item (national or provincial) that forbids this code, if any."""
    templates = template_scopes(county_code)[:2]
    for row in await conn.fetch(queries.TEMPLATE_RECORDS, templates, code):
        if row["list"] in NEGATIVE_LISTS and row["status"] == "active":
            return row
    return None


def item_fields(item: ItemCreate) -> dict[str, str | None]:
    """The fields of an item whose words the policy engine reads."""
    return {"title": item.title, "content": item.content, "authority": item.authority,
            "data_needs": item.data_needs, "time_limit": item.time_limit}


def item_role(item: ItemCreate, role: str | None = None) -> str:
    """The community's role in a listed item: its own duty (responsible), or assisting."""
    return role or ("responsible" if item.list == "duty" else "assisting")


async def _refuse_by_policy(conn: asyncpg.Connection, *, scope: str, item: ItemCreate, role: str | None,
                            prefix: str = "item.") -> None:
    """An item that asks something prohibited never gets onto a list, however it is labelled: 422 with the
    rule and the document (the same engine as screening and the check)."""
    if item.list in NEGATIVE_LISTS:
        return
    engine = await COUNTY_RULES.engine(conn, scope if len(scope) == 6 else None)
    fields = {f"{prefix}{name}": value for name, value in item_fields(item).items()}
    verdict = judge(fields, role=item_role(item, role), engine=engine)
    ask = digital.item_ask(item, field=prefix.rstrip("."))
    if ask is not None:  # an app, account or group: its owner's level, filing number, demands
        verdict = digital.combined(verdict, digital.findings([ask]))
    error = refusal(verdict)
    if error is not None:
        raise error


def _refuse_prohibited(row: asyncpg.Record) -> ServiceError:
    return ValidationFailed(
        f"上级清单禁止该事项：{row['title']}（{row['scope']} {row['code']}） (a template level forbids this item: "
        f"{row['scope']} list '{row['list']}' item {row['code']})",
        rule="registry.template-prohibits", extra={"scope": row["scope"], "code": row["code"]},
    )


async def _refuse_plaques_over_limit(conn: asyncpg.Connection, *, county_code: str, item: ItemCreate,
                                     on: datetime.date) -> None:
    """A plaque on the outside wall past the county's limit (exterior_plaques_max, default 2) is refused: an
    exterior plaque, or an interior plaque or mechanism whose words put its board outside."""
    adding = plaques.boards_of(item.kind, item.list, item.title, item.content)
    if item.kind != "plaque" or adding <= 0:
        return
    allowed = (await load_settings(conn, county_code=county_code)).exterior_plaques_max
    existing = plaques.exterior_count(await effective_items(conn, county_code=county_code, as_of=on))
    reason = plaques.over_limit(existing=existing, adding=adding, allowed=allowed)
    if reason is not None:
        raise plaques.refusal(reason)


def entry_leaf(*, number: int, entered_at: datetime.datetime, entry_type: str, scope: str, code: str, status: str,
               effective_from: datetime.date, actor: str, reason: str, source_ref: str,
               item_json: dict[str, Any]) -> bytes:
    """The entry's canonical JSON (sorted keys, UTF-8): the leaf of the register's Merkle tree."""
    return canonical({
        "entry-number": number, "entry-timestamp": entered_at, "type": entry_type, "scope": scope, "key": code,
        "status": status, "effective-from": effective_from, "actor": actor, "reason": reason,
        "source-ref": source_ref, "item": item_json,
        "item-hash": "sha-256:" + hashlib.sha256(canonical(item_json)).hexdigest(),
    })


async def _write(
    conn: asyncpg.Connection, *, actor: Actor, scope: str, entry_type: str, status: str, item: ItemCreate,
    created_from: datetime.date, effective_from: datetime.date, reason: str, source_ref: str,
    before: dict[str, Any] | None,
) -> ItemRead:
    number: int = await conn.fetchval(queries.NEXT_ENTRY_NUMBER)
    entered_at = datetime.datetime.now(datetime.UTC)
    item_json = msgspec.to_builtins(item)
    actor_name = f"{actor.actor_type}:{actor.actor_id}" if actor.actor_id else (actor.actor_name or actor.actor_type)
    leaf = entry_leaf(number=number, entered_at=entered_at, entry_type=entry_type, scope=scope, code=item.code,
                      status=status, effective_from=effective_from, actor=actor_name, reason=reason,
                      source_ref=source_ref, item_json=item_json)
    await conn.execute(queries.INSERT_ENTRY, number, scope, item.code, entry_type, status, effective_from,
                       entered_at, actor_name, reason, source_ref, item_json, leaf, hashlib.sha256(leaf).digest())
    row = await conn.fetchrow(queries.UPSERT_ITEM, scope, item.code, item.kind, item.list, item.title, item.content,
                              status, created_from, effective_from, item.expires_on, number, item_json)
    record = to_read(row)
    written.wrote("registry")
    jurisdiction = None if scope == "national" else scope
    await audit.record(conn, actor=actor, action=f"registry.{entry_type}", subject_type="registry_item",
                       subject_id=f"{scope}/{item.code}", jurisdiction=jurisdiction,
                       change={"entry_number": number, "status": status, "effective_from": effective_from,
                               "before": before, "after": item_json},
                       detail={"reason": reason, "source_ref": source_ref})
    return record


async def add_item(conn: asyncpg.Connection, *, actor: Actor, scope: str, item: ItemCreate,
                   effective_from: datetime.date, reason: str, source_ref: str = "",
                   role: str | None = None) -> ItemRead:
    await check_scope(conn, scope=scope)
    _check_item_shape(item)
    _check_expiry(item, effective_from)
    await _refuse_by_policy(conn, scope=scope, item=item, role=role)
    await certificates.refuse_retaining_cancelled(conn, scope=scope, item=item)
    await conn.execute(queries.LOCK_LOG)
    existing = await conn.fetchrow(queries.GET_RECORD_FOR_UPDATE, scope, item.code)
    if existing is not None:
        raise Conflict(f"事项代码 {item.code} 已在 {scope} 清单中 (item {item.code} is already on the {scope} list; "
                       "amend it instead)", extra={"scope": scope, "code": item.code})
    if len(scope) == 6:
        await _refuse_plaques_over_limit(conn, county_code=scope, item=item, on=effective_from)
        if item.list not in NEGATIVE_LISTS:
            forbidding = await _template_prohibition(conn, county_code=scope, code=item.code)
            if forbidding is not None:
                raise _refuse_prohibited(forbidding)
        template = await conn.fetch(queries.TEMPLATE_RECORDS, template_scopes(scope)[:2], item.code)
        if template:
            raise Conflict(f"事项代码 {item.code} 已在上级清单中 (item {item.code} is on the template list "
                           f"{template[0]['scope']}; the county amends, suspends or retires it instead)",
                           extra={"scope": template[0]["scope"], "code": item.code})
    return await _write(conn, actor=actor, scope=scope, entry_type="add", status="active", item=item,
                        created_from=effective_from, effective_from=effective_from, reason=reason,
                        source_ref=source_ref, before=None)


async def admit_item(conn: asyncpg.Connection, *, actor: Actor, county_code: str, item: ItemCreate,
                     effective_from: datetime.date, reason: str, source_ref: str, role: str | None = None) -> ItemRead:
    """Put an admitted matter on a county's list ('add' entry citing the admission request), the
    community in `role` (as the request asked).

    Raises ValidationFailed (rule registry.template-prohibits) when a template level forbids it, or the
    policy rule's family when the matter asks something prohibited.
    """
    if len(county_code) != 6:
        raise _invalid("county_code", "须为县级代码 (a county code has 6 digits)")
    return await add_item(conn, actor=actor, scope=county_code, item=item, effective_from=effective_from,
                          reason=reason, source_ref=source_ref, role=role)


async def _current(conn: asyncpg.Connection, *, scope: str, code: str) -> tuple[asyncpg.Record, bool]:
    """The record to change, locked; for a county without its own record of a template item, the
    template's record (the county's first entry then overrides it). Second value: it is the county's own."""
    row = await conn.fetchrow(queries.GET_RECORD_FOR_UPDATE, scope, code)
    if row is not None:
        return row, True
    if len(scope) == 6:
        rows = await conn.fetch(queries.TEMPLATE_RECORDS, template_scopes(scope)[:2], code)
        if rows:
            row = max(rows, key=lambda r: len(r["scope"]) if r["scope"] != "national" else 0)
            if row["list"] in NEGATIVE_LISTS:
                raise _refuse_prohibited(row)
            return row, False
    raise NotFound(f"事项 {code} 不在 {scope} 清单中 (unknown item {code} in scope {scope})",
                   extra={"scope": scope, "code": code})


async def adjust(conn: asyncpg.Connection, *, actor: Actor, scope: str, code: str, entry_type: str,
                 effective_from: datetime.date, reason: str, source_ref: str = "",
                 changes: dict[str, Any] | None = None) -> ItemRead:
    """Amend, suspend, resume or retire an item, from `effective_from`."""
    await check_scope(conn, scope=scope)
    await conn.execute(queries.LOCK_LOG)
    row, own = await _current(conn, scope=scope, code=code)
    allowed_from, status_after = TRANSITIONS[entry_type]
    if row["status"] not in allowed_from:
        rule = "registry.retired-is-final" if row["status"] == "retired" else f"registry.{entry_type}-from"
        raise ValidationFailed(
            f"状态为 {row['status']} 的事项不能{entry_type} (an item that is {row['status']} cannot be "
            f"{entry_type}{'ed' if not entry_type.endswith('e') else 'd'}; allowed from: {', '.join(allowed_from)})",
            rule=rule, extra={"status": row["status"]})
    if effective_from < row["created_from"]:
        raise _invalid(
            "effective_from", f"生效日期 {effective_from} 早于事项设立日期 {row['created_from']} "
            f"(the effective date {effective_from} is before the item was created, {row['created_from']})",
            rule="registry.effective-after-creation")
    if own and effective_from < row["effective_from"]:
        raise _invalid(
            "effective_from", f"生效日期 {effective_from} 早于该事项已登记的变更日期 {row['effective_from']} "
            f"(an item's changes take effect in order: {effective_from} is before its latest change, "
            f"{row['effective_from']})", rule="registry.effective-in-order")
    current = dict(row["item"])
    if changes:
        unknown = sorted(set(changes) - set(ITEM_FIELDS))
        if unknown or "code" in changes:
            bad = unknown[0] if unknown else "code"
            raise _invalid(f"changes.{bad}", f"不能修改字段 {bad} (field {bad} cannot be changed)",
                                         rule="registry.amendable-fields")
        current.update(changes)
    try:
        item = msgspec.convert(current, ItemCreate, strict=False)
    except msgspec.ValidationError as exc:
        raise _invalid("changes", str(exc), rule="registry.item-fields") from exc
    _check_item_shape(item)
    _check_expiry(item, row["created_from"])
    await certificates.refuse_retaining_cancelled(conn, scope=scope, item=item)
    was = row["item"]
    if len(scope) == 6 and not plaques.is_exterior(was["kind"], was["list"], was["title"], was.get("content") or ""):
        # an item moved outside (by its list or its words) counts like a new board
        await _refuse_plaques_over_limit(conn, county_code=scope, item=item, on=effective_from)
    if len(scope) == 6 and own and changes and item.list not in NEGATIVE_LISTS:
        forbidding = await _template_prohibition(conn, county_code=scope, code=item.code)
        if forbidding is not None and forbidding["scope"] != scope:
            raise _refuse_prohibited(forbidding)
    if changes:
        await _refuse_by_policy(conn, scope=scope, item=item, role=None, prefix="changes.")
    return await _write(conn, actor=actor, scope=scope, entry_type=entry_type,
                        status=status_after or row["status"], item=item, created_from=row["created_from"],
                        effective_from=effective_from, reason=reason, source_ref=source_ref, before=row["item"])


async def retire_item(conn: asyncpg.Connection, *, actor: Actor, county_code: str, code: str,
                      effective_from: datetime.date, reason: str, source_ref: str) -> ItemRead:
    """Take an item off a county's list from a date (for a template item: the county excludes it)."""
    return await adjust(conn, actor=actor, scope=county_code, code=code, entry_type="retire",
                        effective_from=effective_from, reason=reason, source_ref=source_ref)


async def similar_items(conn: asyncpg.Connection, *, county_code: str, title: str, content: str,
                        limit: int = 5) -> list[SimilarItem]:
    """Items of the county's lists (templates included) closest to a title and content (pg_trgm)."""
    rows = await conn.fetch(queries.SIMILAR, template_scopes(county_code), title, content or title, limit)
    return [SimilarItem(scope=r["scope"], code=r["code"], title=r["title"], list=r["list"], kind=r["kind"],
                        similarity=round(float(r["similarity"]), 4)) for r in rows if r["similarity"] > 0]


# ---- effective lists, releases, differences ----

def _listed(row: asyncpg.Record) -> ListedItem:
    item = row["item"]
    expires = item.get("expires_on")
    return ListedItem(
        scope=row["scope"], code=row["code"], kind=item["kind"], list=item["list"], title=item["title"],
        content=item.get("content", ""), basis=item.get("basis"), basis_number=item.get("basis_number"),
        department=item.get("department"), status=row["status"], effective_from=row["effective_from"],
        expires_on=datetime.date.fromisoformat(expires) if expires else None, entry_number=row["entry_number"],
        item=item,
    )


async def effective_items(conn: asyncpg.Connection, *, county_code: str, as_of: datetime.date,
                          entry_cap: int | None = None) -> list[ListedItem]:
    """The county's list in force on `as_of` (as recorded up to `entry_cap`): the templates' items, each
    overridden by the county's own record of the same code, then only what is active and not expired."""
    scopes = template_scopes(county_code)
    rank = {s: i for i, s in enumerate(scopes)}
    rows = await conn.fetch(queries.EFFECTIVE, scopes, as_of, entry_cap if entry_cap is not None else 2**62)
    chosen: dict[str, asyncpg.Record] = {}
    for row in rows:
        held = chosen.get(row["code"])
        if held is None or rank[row["scope"]] > rank[held["scope"]]:
            chosen[row["code"]] = row
    items = []
    for row in chosen.values():
        listed = _listed(row)
        if listed.status == "active" and (listed.expires_on is None or as_of < listed.expires_on):
            items.append(listed)
    items.sort(key=lambda i: (i.kind, i.list, i.code))
    return items


async def upcoming_items(conn: asyncpg.Connection, *, county_code: str, after: datetime.date) -> list[ListedItem]:
    """What the county's list (its own items and its templates') has recorded to take effect after `after`:
    each entry as it will stand, in the order it takes effect (`status`: active = listed or amended;
    suspended or retired = taken off)."""
    await check_county(conn, code=county_code)
    rows = await conn.fetch(queries.UPCOMING, template_scopes(county_code), after)
    return [_listed(row) for row in rows]


async def effective_list_json(conn: asyncpg.Connection, *, county_code: str, community_code: str | None,
                              as_of: datetime.date | None, release: str | None, kind: str | None,
                              list_name: str | None, q: str | None) -> bytes:
    """The EffectiveList document, with its items built as JSON by PostgreSQL (same content as
    effective_items + filter_items, without decoding and re-encoding every item in Python)."""
    if community_code is None:  # a community's county is known to exist
        await check_county(conn, code=county_code)
    if release is not None:
        fixed: ReleaseRead | None = await get_release(conn, county_code=county_code, name=release)
        assert fixed is not None
        when, cap = fixed.release_date, fixed.entry_cap
    else:
        when, cap = as_of or today(), 2**62
        fixed = await release_on(conn, county_code=county_code, as_of=when)
    needle = q.strip().lower() if q and q.strip() else None
    items: str = await conn.fetchval(queries.EFFECTIVE_JSON, template_scopes(county_code), when, cap, kind,
                                     list_name, needle)
    head = msgspec.json.encode(EffectiveList(county_code=county_code, community_code=community_code, as_of=when,
                                             release=fixed, items=[]))
    assert head.endswith(b"[]}")  # items is the last field
    return head[:-3] + items.encode() + b"}"


async def scope_items(conn: asyncpg.Connection, *, scope: str, as_of: datetime.date | None) -> list[ListedItem]:
    """A scope's own items in force on a date, without any overlay."""
    await check_scope(conn, scope=scope)
    when = as_of or today()
    rows = await conn.fetch(queries.EFFECTIVE, [scope], when, 2**62)
    items = [i for i in map(_listed, rows)
             if i.status == "active" and (i.expires_on is None or when < i.expires_on)]
    items.sort(key=lambda i: (i.kind, i.list, i.code))
    return items


def filter_items(items: list[ListedItem], *, kind: str | None, list_name: str | None,
                 q: str | None) -> list[ListedItem]:
    out = items
    if kind:
        out = [i for i in out if i.kind == kind]
    if list_name:
        out = [i for i in out if i.list == list_name]
    if q:
        needle = q.strip().lower()
        out = [i for i in out if needle in i.title.lower() or needle in i.content.lower()
               or needle == i.code.lower() or needle in (i.basis or "").lower()]
    return out


async def release_on(conn: asyncpg.Connection, *, county_code: str, as_of: datetime.date) -> ReleaseRead | None:
    row = await conn.fetchrow(queries.RELEASE_ON, county_code, as_of)
    return to_release(row) if row else None


async def get_release(conn: asyncpg.Connection, *, county_code: str, name: str) -> ReleaseRead:
    row = await conn.fetchrow(queries.RELEASE, county_code, name)
    if row is None:
        raise NotFound(f"{county_code} 没有名为 {name} 的版本 (unknown release '{name}' of county {county_code})",
                       extra={"county_code": county_code, "release": name})
    return to_release(row)


async def list_releases(conn: asyncpg.Connection, *, county_code: str) -> list[ReleaseRead]:
    await check_county(conn, code=county_code)
    return [to_release(r) for r in await conn.fetch(queries.RELEASES, county_code)]


async def create_release(conn: asyncpg.Connection, *, actor: Actor, county_code: str,
                         data: ReleaseCreate) -> ReleaseRead:
    await check_county(conn, code=county_code)
    if data.filed_upward_on is not None and data.filed_upward_on < data.release_date:
        raise _invalid("filed_upward_on", "备案日期不得早于发布日期 (filing upward comes after the "
                                     "release date)", rule="registry.filed-after-release")
    # the log position now: taking the counter's row lock orders this release after every entry before it
    cap = int(await conn.fetchval(queries.LOCK_LOG))
    written.wrote("registry")
    row = await conn.fetchrow(queries.INSERT_RELEASE, county_code, data.name, data.release_date, data.issuing_body,
                              data.document_number, data.approving_government, data.filed_upward_on, cap,
                              actor.actor_name or actor.actor_type)
    release = to_release(row)
    await audit.record(conn, actor=actor, action="registry.release", subject_type="registry_release",
                       subject_id=f"{county_code}/{data.name}", jurisdiction=county_code, change=release)
    return release


async def list_at(conn: asyncpg.Connection, *, county_code: str, as_of: datetime.date | None = None,
                  release: str | None = None) -> tuple[datetime.date, ReleaseRead | None, list[ListedItem]]:
    """A county's list at a date, or exactly as a release fixed it."""
    await check_county(conn, code=county_code)
    if release is not None:
        fixed = await get_release(conn, county_code=county_code, name=release)
        items = await effective_items(conn, county_code=county_code, as_of=fixed.release_date,
                                      entry_cap=fixed.entry_cap)
        return fixed.release_date, fixed, items
    when = as_of or today()
    return when, await release_on(conn, county_code=county_code, as_of=when), await effective_items(
        conn, county_code=county_code, as_of=when)


async def difference(conn: asyncpg.Connection, *, county_code: str, from_release: str | None,
                     from_date: datetime.date | None, to_release: str | None,
                     to_date: datetime.date | None) -> ListDifference:
    if (from_release is None) == (from_date is None) or (to_release is None) == (to_date is None):
        raise _invalid("from", "须分别给出 from_release 或 from_date、to_release 或 to_date "
                                     "(give exactly one of from_release/from_date and of to_release/to_date)")
    _, _, before = await list_at(conn, county_code=county_code, as_of=from_date, release=from_release)
    _, _, after = await list_at(conn, county_code=county_code, as_of=to_date, release=to_release)
    old = {i.code: i for i in before}
    new = {i.code: i for i in after}
    out: list[ItemDifference] = []
    for code in sorted(old.keys() | new.keys()):
        a, b = old.get(code), new.get(code)
        if a is None and b is not None:
            out.append(ItemDifference(code=code, title=b.title, change="added"))
        elif b is None and a is not None:
            out.append(ItemDifference(code=code, title=a.title, change="removed"))
        elif a is not None and b is not None:
            fields = [FieldChange(field=f, before=a.item.get(f), after=b.item.get(f))
                      for f in ITEM_FIELDS if a.item.get(f) != b.item.get(f)]
            if a.scope != b.scope:
                fields.insert(0, FieldChange(field="scope", before=a.scope, after=b.scope))
            if fields:
                out.append(ItemDifference(code=code, title=b.title, change="changed", fields=fields))
    return ListDifference(county_code=county_code, from_=from_release or str(from_date), to=to_release or str(to_date),
                          differences=out)


# ---- import and export ----

EXPORT_COLUMNS = ("scope", *ITEM_FIELDS, "status", "effective_from", "entry_number")
LIST_FIELDS = ("applies_to", "report_fields", "user_demands")
IMPORT_EXTRA = ("effective_from", "reason", "source_ref")
IGNORED_ON_IMPORT = ("scope", "status", "entry_number")


def export_csv(items: list[ListedItem]) -> str:
    out = io.StringIO()
    writer = exports.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for i in items:
        row: list[Any] = [i.scope]
        for f in ITEM_FIELDS:
            value = i.item.get(f)
            row.append("|".join(value) if isinstance(value, list) else ("" if value is None else value))
        row += [i.status, i.effective_from.isoformat(), i.entry_number]
        writer.writerow(row)
    return "\ufeff" + out.getvalue()  # the BOM makes spreadsheet programs read the Chinese correctly


def _as_stored(item: dict[str, Any]) -> Any:
    """A stored item with the fields added since it was written at their defaults (an item written before
    `filing_number` existed is the same item as its export loaded again)."""
    try:
        return msgspec.to_builtins(msgspec.convert(item, ItemCreate, strict=False))
    except msgspec.ValidationError:
        return item


def _rows_from_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = reader.fieldnames or []
    missing = [c for c in ("kind", "list", "code", "title", "effective_from") if c not in fields]
    if missing:
        raise _invalid("body", f"CSV 缺少列 (missing columns): {', '.join(missing)}",
                                     rule="registry.import-columns")
    rows = []
    for line, raw in enumerate(reader, start=2):
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key is None or key in IGNORED_ON_IMPORT:
                continue
            value = (value or "").strip()
            if key in LIST_FIELDS:
                empty: list[str] | None = [] if key in ("report_fields", "user_demands") else None
                row[key] = [v for v in value.split("|") if v] if value else empty
                if row[key] is None:
                    del row[key]
            elif value != "":
                row[key] = value
        rows.append((line, row))
    return rows


def _rows_from_json(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise _invalid("body", f"JSON 无法解析 (malformed JSON: {exc})",
                                     rule="registry.import-format") from exc
    if isinstance(body, dict):
        body = body.get("items")
    if not isinstance(body, list):
        raise _invalid("body", "须为数组或 {\"items\": [...]} (a JSON array of items, or "
                                     "{\"items\": [...]})", rule="registry.import-format")
    return [(n, {k: v for k, v in (r.items() if isinstance(r, dict) else []) if k not in IGNORED_ON_IMPORT})
            for n, r in enumerate(body, start=1)]


async def import_items(conn: asyncpg.Connection, *, actor: Actor, scope: str, text: str, fmt: str,
                       partial: bool) -> ImportReport:
    """Load a list from CSV or JSON. Each row adds its item, amends it when it differs from the record,
    or is left alone when identical. Rows that break a rule are reported with their line (CSV) or
    position (JSON); unless `partial`, one bad row means nothing is loaded."""
    await check_scope(conn, scope=scope)
    rows = _rows_from_csv(text) if fmt == "csv" else _rows_from_json(text)
    problems: list[ImportRowProblem] = []
    loaded = 0
    for line, raw in rows:
        code = raw.get("code") if isinstance(raw.get("code"), str) else None
        extra = {k: raw.pop(k) for k in IMPORT_EXTRA if k in raw}
        try:
            item = msgspec.convert(raw, ItemCreate, strict=False)
            effective = msgspec.convert(extra.get("effective_from"), datetime.date, strict=False)
            reason = str(extra.get("reason") or "清单导入 (list import)")
        except msgspec.ValidationError as exc:
            problems.append(ImportRowProblem(line=line, code=code, reason=str(exc)))
            continue
        try:
            async with conn.transaction():  # a savepoint: a refused row leaves nothing behind
                existing = await conn.fetchrow(queries.GET_RECORD, scope, item.code)
                if existing is None:
                    await add_item(conn, actor=actor, scope=scope, item=item, effective_from=effective,
                                   reason=reason, source_ref=str(extra.get("source_ref") or ""))
                    loaded += 1
                elif _as_stored(existing["item"]) != msgspec.to_builtins(item):
                    await adjust(conn, actor=actor, scope=scope, code=item.code, entry_type="amend",
                                 effective_from=effective, reason=reason,
                                 source_ref=str(extra.get("source_ref") or ""), changes=msgspec.to_builtins(item))
                    loaded += 1
        except ServiceError as exc:
            rule = f" [{exc.rule}]" if exc.rule else ""
            params = "; ".join(f"{p.name}: {p.reason}" for p in exc.invalid_params or [])
            found = (exc.extra or {}).get("findings")
            problems.append(ImportRowProblem(line=line, code=item.code, reason=(exc.detail if found else
                                                                                  (params or exc.detail)) + rule,
                                             rule=exc.rule, findings=found))
    if problems and not partial:
        raise ValidationFailed(
            f"{len(problems)} 行有误，未导入任何行 ({len(problems)} bad rows; nothing loaded; ask for partial=true "
            "to load the good rows)", rule="registry.import-all-or-nothing",
            extra={"rejected": msgspec.to_builtins(problems)})
    report = ImportReport(loaded=loaded, rejected=problems, committed=True)
    await audit.record(conn, actor=actor, action="registry.import", subject_type="registry_list", subject_id=scope,
                       jurisdiction=None if scope == "national" else scope,
                       change={"loaded": loaded, "rejected": len(problems)})
    return report


# ---- "can my community issue this certificate?" ----

async def certificate_answer(conn: asyncpg.Connection, *, community_code: str, query: str) -> dict[str, Any]:
    """The county's certificate a resident's words mean (registry/certificates.py reads the words)."""
    county = await county_of_community(conn, code=community_code)
    items = [i for i in await effective_items(conn, county_code=county, as_of=today()) if i.kind == "certificate"]
    found = certificates.match_listed(query, items)
    national = None if found is not None else certificates.match_national(query)
    return {"county_code": county, "item": found[1] if found else None, "match": found[0] if found else national}
