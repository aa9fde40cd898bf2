"""A province's certificate template: its own additions to the national list of 民发〔2020〕20号.

A province publishes a list of certificates its residents' committees shall not issue (Hubei's first batch
has 21). `load` reads one (ProvincialCertificates: the document with its number, and the names) into the
province's template scope (`/api/v1/registry/scopes/{province}/items`), one cancelled certificate per
name that is not already national, each citing the provincial document; a name that is a national
certificate under the province's wording (by its name or a near name) is reported, not added. Every
county of the province then answers the certificate question with it, and `refuse_retaining_cancelled`
keeps any county from retaining it. Loading the same list again changes nothing.

Codes: C-<province>-NN in the list's order.
"""

from __future__ import annotations

import datetime

import asyncpg

from service.core.audit import Actor
from service.core.errors import ValidationFailed
from service.registry import certificates, queries
from service.registry import service as registry
from service.registry.schemas import (
    ItemCreate,
    ProvincialCertificateRead,
    ProvincialCertificates,
    ProvincialLoadReport,
)


def _invalid(name: str, reason: str, *, rule: str) -> ValidationFailed:
    """A 422 naming the field, the rule in the problem's `rule` too."""
    error = ValidationFailed.field(name, reason, rule=rule)
    error.rule = rule
    return error


def citation(data: ProvincialCertificates) -> str:
    d = data.document
    return f"《{d.title}》（{d.issuer}，{d.number}，{d.date.isoformat()}）"


async def load(conn: asyncpg.Connection, *, actor: Actor, scope: str, data: ProvincialCertificates,
               effective_from: datetime.date | None = None) -> ProvincialLoadReport:
    """Load a province's list into its scope (through the registry's add_item: every rule and audit applies)."""
    if scope != data.province or len(scope) != 2:
        raise _invalid("province", f"省级清单只能载入该省的清单范围 (the list of province "
                                     f"{data.province} loads into scope {data.province}, not {scope})",
                                     rule="registry.provincial-scope")
    await registry.check_scope(conn, scope=data.province)
    seen: set[str] = set()
    for i, cert in enumerate(data.certificates):
        key = certificates.normalise(cert.name)
        if key in seen:
            raise _invalid(f"certificates[{i}].name", f"证明事项“{cert.name}”重复 (listed twice)",
                                         rule="registry.provincial-duplicate")
        seen.add(key)
    doc = data.document
    when = effective_from or doc.date
    out: list[ProvincialCertificateRead] = []
    number = 0
    for cert in data.certificates:
        national = certificates.cancelled_nationally(cert.name)
        if national is not None:
            out.append(ProvincialCertificateRead(name=cert.name, outcome="national",
                                                 national_name=national.official_name))
            continue
        number += 1
        code = f"C-{data.province}-{number:02d}"
        existing = await conn.fetchrow(queries.GET_RECORD, data.province, code)
        if existing is not None:
            if existing["title"] != cert.name:
                raise _invalid(
                    "certificates", f"{data.province} 清单中 {code} 已是“{existing['title']}”，与“{cert.name}”不符 "
                    f"(code {code} already holds another certificate; amend the list item instead)",
                    rule="registry.provincial-conflict")
            out.append(ProvincialCertificateRead(name=cert.name, outcome="unchanged", code=code))
            continue
        item = ItemCreate(
            kind="certificate", list="cancelled", code=code, title=cert.name,
            content=f"基层群众性自治组织不予出具{cert.name}", basis=f"《{doc.title}》", basis_number=doc.number,
            issued_instead_by=cert.issued_instead_by or certificates.RESPONSIBLE_DEPARTMENT,
            department_level="province", source_issuer=doc.issuer, source_number=doc.number, source_date=doc.date)
        await registry.add_item(conn, actor=actor, scope=data.province, item=item, effective_from=when,
                                reason=doc.list_name or doc.title, source_ref=f"provincial:{doc.number}")
        out.append(ProvincialCertificateRead(name=cert.name, outcome="added", code=code))
    return ProvincialLoadReport(province=data.province, document=citation(data), certificates=out)
