"""The one place admission touches the county lists: the registry's functions, nothing else."""

from __future__ import annotations

import datetime
from typing import Any

import asyncpg

from service.core.audit import Actor
from service.policy import plaques as registry_plaques
from service.registry import service as registry
from service.registry.schemas import ItemCreate


def item_from_request(row: asyncpg.Record, *, code: str, organisation_level: str | None, today: datetime.date
                      ) -> ItemCreate:
    body: dict[str, Any] = row["body"]
    resources = body.get("resources") or {}
    report = body.get("report_form") or {}
    # a digital matter: the item is the app, account or group its needs of the same kind describe
    need = next((n for n in body.get("digital_needs") or [] if n.get("kind") == row["list_name"]), None) \
        if row["kind"] == "digital" else None
    need = need or {}
    return ItemCreate(
        kind=row["kind"], list=row["list_name"], code=code, title=row["title"], content=body.get("content", ""),
        basis=body.get("basis"), basis_number=body.get("basis_number"),
        department=need.get("owner") or row["department"],
        department_level=(need.get("owner_level") if need.get("owner")  # type: ignore[arg-type]
                          else need.get("owner_level") or organisation_level),
        filing_number=need.get("filing_number"), user_demands=list(need.get("demands") or []),
        funding_yuan=resources.get("funding_yuan"), funding_source=resources.get("funding_source"),
        staff=resources.get("staff"), authority=resources.get("authority"), time_limit=body.get("time_limit"),
        data_needs=body.get("data_needs"), report_fields=list(report.get("fields") or []),
        frequency=report.get("frequency"),
        expires_on=datetime.date.fromisoformat(body["end_date"]) if body.get("end_date") else None,
        source_issuer=row["reviewing_body"], source_number=f"准入申请 {row['id']}", source_date=today,
    )


async def admit(conn: asyncpg.Connection, *, actor: Actor, row: asyncpg.Record, code: str,
                organisation_level: str | None, effective_from: datetime.date, today: datetime.date) -> None:
    """Approval writes the item into the county's list, in the decision's transaction."""
    await registry.admit_item(
        conn, actor=actor, county_code=row["county_code"],
        item=item_from_request(row, code=code, organisation_level=organisation_level, today=today),
        effective_from=effective_from, reason=f"准入申请 {row['id']} 经 {row['reviewing_body']} 审核同意",
        source_ref=f"admission_request:{row['id']}", role=row["body"].get("community_role"),
    )


async def retire(conn: asyncpg.Connection, *, actor: Actor, row: asyncpg.Record, effective_from: datetime.date,
                 reason: str) -> None:
    await registry.retire_item(conn, actor=actor, county_code=row["county_code"], code=row["item_code"],
                               effective_from=effective_from, reason=reason,
                               source_ref=f"admission_request:{row['id']}")


# below this trigram similarity a "similar item" is noise (unrelated items score 0.03–0.11 on the demo lists)
SIMILAR_AT_LEAST = 0.2


async def similar(conn: asyncpg.Connection, *, county_code: str, title: str, content: str,
                  own_item: str | None = None) -> list[Any]:
    """Listed items a reviewer should compare the request with: similar enough to matter, and not the item
    the request itself put on the list once approved (`own_item`)."""
    found = await registry.similar_items(conn, county_code=county_code, title=title, content=content)
    return [s for s in found if s.similarity >= SIMILAR_AT_LEAST and not (own_item and s.code == own_item
                                                                          and s.scope == county_code)]


async def listed_report_forms(conn: asyncpg.Connection, *, county_code: str, today: datetime.date) -> list[Any]:
    items = await registry.effective_items(conn, county_code=county_code, as_of=today)
    return [i for i in items if i.kind == "report"]


async def exterior_plaques(conn: asyncpg.Connection, *, county_code: str, today: datetime.date) -> int:
    return registry_plaques.exterior_count(await registry.effective_items(conn, county_code=county_code, as_of=today))
