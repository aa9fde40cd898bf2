"""Loading the demo data once; the credentials it creates are shown once."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import asyncpg
import msgspec

from service.admission.demo import load_admission
from service.core.audit import SYSTEM
from service.core.db import connect
from service.core.migrate import migrate
from service.core.roles import user_of
from service.core.settings import PROJECT_ROOT
from service.demo import data, queries
from service.identity import service as identity
from service.identity.schemas import ClientCreate, RoleGrant, TokenCreate, UserCreate
from service.jurisdictions import service as jurisdictions
from service.registry.demo import load as load_registry
from service.secondments.demo import load as load_secondments

# Areas append loaders for their own demo data (lists, workers, ...); each gets the connection.
AREA_LOADERS: list[Callable[[asyncpg.Connection], Awaitable[None]]] = []
AREA_LOADERS.append(load_secondments)
AREA_LOADERS.append(load_registry)
AREA_LOADERS.append(load_admission)  # after the registry: an approval writes to its lists


class Credentials(msgspec.Struct):
    users: list[tuple[str, str, str, str]]  # username, password, role, jurisdiction
    tokens: list[tuple[str, str, str, str]]  # client, token, role, jurisdiction


async def is_loaded(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(queries.LOADED, data.COUNTY))


async def load(conn: asyncpg.Connection, *, pepper: bytes) -> Credentials | None:
    """Load everything in one transaction; None when the demo data is already there."""
    if await is_loaded(conn):
        return None
    async with conn.transaction():
        csv_lines = ["code,parent_code,level,name,population"] + [
            f"{c},{p},{lvl},{n},{'' if pop is None else pop}" for c, p, lvl, n, pop in data.JURISDICTIONS
        ]
        await jurisdictions.import_csv(conn, actor=SYSTEM, text="\n".join(csv_lines), partial=False,
                                       may_manage=lambda _code: True)
        creds = Credentials(users=[], tokens=[])
        for username, display, role, where in data.USERS:
            password = secrets.token_urlsafe(12)
            organisation, level, seat = data.USER_ORGANISATIONS.get(username, (None, None, None))
            user = await identity.create_user(conn, actor=SYSTEM, data=UserCreate(
                username=username, display_name=display, password=password, organisation=organisation,
                organisation_level=level, jurisdiction_code=seat))  # type: ignore[arg-type]
            await identity.grant_role(conn, actor=SYSTEM, data=RoleGrant(
                principal_type="user", principal_id=user.id, role=role, jurisdiction_code=where))  # type: ignore[arg-type]
            creds.users.append((username, password, role, where))
        for name, organisation, level, home, role, where in data.CLIENTS:
            client = await identity.create_client(conn, actor=SYSTEM, data=ClientCreate(
                name=name, organisation=organisation, organisation_level=level,  # type: ignore[arg-type]
                jurisdiction_code=home))
            await identity.grant_role(conn, actor=SYSTEM, data=RoleGrant(
                principal_type="client", principal_id=client.id, role=role, jurisdiction_code=where))  # type: ignore[arg-type]
            issued = await identity.issue_token(conn, actor=SYSTEM, pepper=pepper, client_id=client.id,
                                                data=TokenCreate(label="demo", expires_in_days=365))
            creds.tokens.append((name, issued.token, role, where))
        for loader in AREA_LOADERS:
            await loader(conn)
    return creds


async def migrate_and_load(url: str, *, pepper: bytes, service_url: str | None = None) -> Credentials:
    """A new database made ready to use: migrated, with the demo data loaded (benchmarks and tests).

    `url` signs in as the owner, who migrates. With `service_url` (the same database, as the service's
    role), that role is granted its rights and loads the demo data itself, as the service would.
    """
    conn = await connect(url)
    try:
        await migrate(conn, PROJECT_ROOT / "migrations", grant_to=user_of(service_url) if service_url else None)
    finally:
        await conn.close()
    conn = await connect(service_url or url)
    try:
        creds = await load(conn, pepper=pepper)
    finally:
        await conn.close()
    if creds is None:
        raise RuntimeError("the demo data was already loaded in this database")
    return creds


def describe(creds: Credentials) -> str:
    lines = ["Demo web users (sign in at /login):", f"  {'username':<14} {'password':<18} role @ jurisdiction"]
    lines += [f"  {u:<14} {p:<18} {r} @ {j}" for u, p, r, j in creds.users]
    lines += ["", "Demo API tokens (send as 'Authorization: Bearer <token>'):"]
    lines += [f"  {c:<20} {r} @ {j}\n    {t}" for c, t, r, j in creds.tokens]
    return "\n".join(lines)
