"""Web users, API clients and their tokens, role assignments; signing in."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.core import audit
from service.core.audit import Actor
from service.core.auth import hash_token, new_token
from service.core.errors import Conflict, NotFound, ValidationFailed
from service.core.tree import JurisdictionTree, lookup
from service.identity import queries
from service.identity.schemas import (
    ClientCreate,
    ClientRead,
    RoleAssignmentRead,
    RoleGrant,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
)
from service.notifications import addresses

# argon2id with the library's defaults (RFC 9106 low-memory profile)
hasher = PasswordHasher()
# verified against when the username is unknown, so timing does not reveal which usernames exist
_DUMMY_HASH = hasher.hash("not-a-real-password")


async def create_user(conn: asyncpg.Connection, *, actor: Actor, data: UserCreate,
                      tree: JurisdictionTree | None = None) -> UserRead:
    """A web user. A department's or street office's user names its organisation, level and seat as an API
    client does (all three or none); its roles are granted the same way (`grant_role`)."""
    given = [data.organisation is not None, data.organisation_level is not None, data.jurisdiction_code is not None]
    if any(given) and not all(given):
        missing = next(name for name, ok in zip(("organisation", "organisation_level", "jurisdiction_code"), given,
                                                strict=True) if not ok)
        raise ValidationFailed.field(missing, "单位名称、单位层级和所在行政区划须同时填写 (organisation, "
                                     "organisation_level and jurisdiction_code come together)",
                                     rule="identity.organisation-whole")
    if data.jurisdiction_code is not None and await lookup(conn, data.jurisdiction_code, tree=tree) is None:
        raise ValidationFailed.field("jurisdiction_code", f"行政区划 {data.jurisdiction_code} 不存在 (unknown)")
    try:
        row = await conn.fetchrow(queries.INSERT_USER, data.username, data.display_name,
                                  hasher.hash(data.password), data.locale, data.organisation,
                                  data.organisation_level, data.jurisdiction_code)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"用户名 {data.username} 已存在 (username taken)") from exc
    user = UserRead(**dict(row))
    change = {"username": user.username, "display_name": user.display_name}
    if user.organisation is not None:
        change |= {"organisation": user.organisation, "organisation_level": user.organisation_level,
                   "jurisdiction_code": user.jurisdiction_code}
    await audit.record(conn, actor=actor, action="user.create", subject_type="user", subject_id=str(user.id),
                       jurisdiction=user.jurisdiction_code, change=change)
    return user


# Failed sign-ins from one address for one name: from the second on, each further try waits twice as long
# as the one before (1 s, 2 s, 4 s, ...), and at the county's maximum the address is blocked for that name.
BACKOFF_FROM = 2
BACKOFF_MAX_S = 60


class LoginResult:
    """`reason` is kept for the audit event only; the person is told one of two things (see web/routes)."""

    def __init__(self, *, user_id: int | None, reason: str | None, retry_after_s: int | None = None,
                 generation: int = 0) -> None:
        self.user_id = user_id
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.generation = generation


def backoff_s(failures: int) -> int:
    """How long a name and address wait after `failures` failures, before the next try is looked at."""
    return 0 if failures < BACKOFF_FROM else min(BACKOFF_MAX_S, 2 ** (failures - BACKOFF_FROM))


def client_key(pepper: bytes, address: str | None) -> bytes:
    """The address a sign-in came from, as a keyed hash: counted, never stored in clear."""
    return hash_token(pepper, f"login:{address or '-'}")


async def check_login(
    conn: asyncpg.Connection, *, username: str, password: str, client: bytes, max_failures: int, lockout_s: int
) -> LoginResult:
    """Verify a password, counting failures per name and address (`client`: see client_key).

    Known and unknown names take the same path and the same time, so no answer tells whether an account
    exists. The caller commits whatever this wrote, success or failure (failures must be kept).
    """
    now = datetime.now(UTC)
    counted = await conn.fetchrow(queries.LOGIN_FAILURES, username, client)
    if counted is not None:
        if counted["blocked_until"] is not None and counted["blocked_until"] > now:
            return LoginResult(user_id=None, reason="address blocked for this name",
                               retry_after_s=int((counted["blocked_until"] - now).total_seconds()) + 1)
        wait = backoff_s(counted["failures"]) - (now - counted["last_failed_at"]).total_seconds()
        if wait > 0:
            return LoginResult(user_id=None, reason="too soon after a failure", retry_after_s=int(wait) + 1)
    row = await conn.fetchrow(queries.USER_FOR_LOGIN, username)
    verified = False
    if row is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(_DUMMY_HASH, password)
        reason = "unknown user"
    else:
        with contextlib.suppress(VerificationError, InvalidHashError):
            verified = hasher.verify(row["password_hash"], password)
        reason = "wrong password"
        if verified and row["disabled_at"] is not None:
            verified, reason = False, "account disabled"
        elif verified and row["locked_until"] is not None and row["locked_until"] > now:
            verified, reason = False, "account locked by an administrator"
    if not verified:
        failed = await conn.fetchrow(queries.LOGIN_FAILED, username, client, max_failures, lockout_s)
        if failed["blocked_until"] is not None:
            return LoginResult(user_id=None, reason=f"{reason}; address now blocked for this name",
                               retry_after_s=lockout_s)
        return LoginResult(user_id=None, reason=reason)
    assert row is not None
    await conn.execute(queries.LOGIN_OK, username, client)
    if hasher.check_needs_rehash(row["password_hash"]):
        await conn.execute(queries.SET_PASSWORD, row["id"], hasher.hash(password))
    return LoginResult(user_id=row["id"], reason=None, generation=row["session_generation"])


async def end_sessions(conn: asyncpg.Connection, *, user_id: int) -> None:
    """Sign out: every session of the user stops working, in every process within a second."""
    await conn.execute(queries.END_SESSIONS, user_id)
    await conn.execute(queries.NOTIFY_TOKENS)


async def create_client(conn: asyncpg.Connection, *, actor: Actor, data: ClientCreate,
                        development: bool = False, tree: JurisdictionTree | None = None) -> ClientRead:
    if data.callback_url is not None:
        try:
            await addresses.check_public(data.callback_url, development=development)
        except addresses.CallbackRefused as exc:
            raise ValidationFailed.field("callback_url", str(exc), rule="callback.public-https") from exc
    if await lookup(conn, data.jurisdiction_code, tree=tree) is None:
        raise ValidationFailed.field("jurisdiction_code", f"行政区划 {data.jurisdiction_code} 不存在 (unknown)")
    try:
        row = await conn.fetchrow(queries.INSERT_CLIENT, data.name, data.organisation, data.organisation_level,
                                  data.jurisdiction_code, data.callback_url)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"客户端名称 {data.name} 已存在 (client name taken)") from exc
    client = ClientRead(**dict(row))
    await audit.record(conn, actor=actor, action="client.create", subject_type="api_client",
                       subject_id=str(client.id), jurisdiction=client.jurisdiction_code, change=client)
    return client


async def get_client(conn: asyncpg.Connection, *, client_id: int | None = None, name: str | None = None) -> ClientRead:
    row = await (conn.fetchrow(queries.GET_CLIENT, client_id) if client_id is not None
                 else conn.fetchrow(queries.GET_CLIENT_BY_NAME, name))
    if row is None:
        raise NotFound(f"客户端 {client_id or name} 不存在 (unknown client)")
    return ClientRead(**dict(row))


async def issue_token(
    conn: asyncpg.Connection, *, actor: Actor, pepper: bytes, client_id: int, data: TokenCreate
) -> TokenIssued:
    client = await get_client(conn, client_id=client_id)
    token = new_token()
    row = await conn.fetchrow(queries.INSERT_TOKEN, client.id, hash_token(pepper, token), token[:10],
                              data.label, data.expires_in_days)
    await audit.record(conn, actor=actor, action="token.create", subject_type="api_token", subject_id=str(row["id"]),
                       jurisdiction=client.jurisdiction_code,
                       change={"client_id": client.id, "prefix": row["prefix"], "label": data.label,
                               "expires_at": row["expires_at"].isoformat() if row["expires_at"] else None})
    return TokenIssued(id=row["id"], client_id=client.id, token=token, prefix=row["prefix"],
                       expires_at=row["expires_at"])


async def list_tokens(conn: asyncpg.Connection, *, client_id: int) -> list[TokenRead]:
    await get_client(conn, client_id=client_id)
    return [TokenRead(**dict(r)) for r in await conn.fetch(queries.LIST_TOKENS, client_id)]


async def client_jurisdictions(conn: asyncpg.Connection, *, client_id: int) -> list[str] | None:
    """The client's home and every jurisdiction where it holds a role (None: no such client)."""
    row = await conn.fetchrow(queries.CLIENT_JURISDICTIONS, client_id)
    if row is None:
        return None
    return [row["home"], *sorted(set(row["held"]) - {row["home"]})]


async def token_jurisdictions(conn: asyncpg.Connection, *, token_id: int) -> list[str] | None:
    """What managing a token needs: the same jurisdictions as managing its client."""
    client_id = await conn.fetchval(queries.TOKEN_CLIENT_ID, token_id)
    return None if client_id is None else await client_jurisdictions(conn, client_id=client_id)


async def principal_jurisdictions(conn: asyncpg.Connection, *, principal_type: str, principal_id: int) -> list[str]:
    """Every jurisdiction where a user or client holds a role (and a client's home)."""
    codes = await conn.fetchval(queries.PRINCIPAL_JURISDICTIONS, principal_type, principal_id)
    return sorted(codes or [])


async def assignment_jurisdictions(conn: asyncpg.Connection, *, assignment_id: int) -> list[str] | None:
    """What revoking an assignment needs: its own jurisdiction and every other one its holder has."""
    row = await conn.fetchrow(queries.ASSIGNMENT_PRINCIPAL, assignment_id)
    if row is None:
        return None
    held = await principal_jurisdictions(conn, principal_type=row["principal_type"], principal_id=row["principal_id"])
    return [row["jurisdiction_code"], *[c for c in held if c != row["jurisdiction_code"]]]


async def revoke_token(conn: asyncpg.Connection, *, actor: Actor, token_id: int) -> TokenRead:
    row = await conn.fetchrow(queries.REVOKE_TOKEN, token_id)
    if row is None:
        raise NotFound(f"令牌 {token_id} 不存在 (unknown token)")
    await conn.execute(queries.NOTIFY_TOKENS)
    token = TokenRead(**dict(row))
    await audit.record(conn, actor=actor, action="token.revoke", subject_type="api_token", subject_id=str(token_id),
                       change={"revoked_at": token.revoked_at.isoformat() if token.revoked_at else None})
    return token


async def grant_role(conn: asyncpg.Connection, *, actor: Actor, data: RoleGrant,
                     tree: JurisdictionTree | None = None) -> RoleAssignmentRead:
    if not await conn.fetchval(queries.PRINCIPAL_EXISTS, data.principal_type, data.principal_id):
        raise ValidationFailed.field("principal_id", f"{data.principal_type} {data.principal_id} 不存在 (unknown)")
    if await lookup(conn, data.jurisdiction_code, tree=tree) is None:
        raise ValidationFailed.field("jurisdiction_code", f"行政区划 {data.jurisdiction_code} 不存在 (unknown)")
    try:
        row = await conn.fetchrow(queries.INSERT_ROLE, data.principal_type, data.principal_id, data.role,
                                  data.jurisdiction_code, f"{actor.actor_type}:{actor.actor_id or actor.actor_name}")
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("该角色已授予 (this role is already held there)") from exc
    grant = RoleAssignmentRead(**dict(row))
    await audit.record(conn, actor=actor, action="role.grant", subject_type="role_assignment",
                       subject_id=str(grant.id), jurisdiction=grant.jurisdiction_code, change=grant)
    return grant


async def get_role(conn: asyncpg.Connection, *, assignment_id: int) -> RoleAssignmentRead:
    row = await conn.fetchrow(queries.GET_ROLE, assignment_id)
    if row is None:
        raise NotFound(f"角色授予 {assignment_id} 不存在 (unknown role assignment)")
    return RoleAssignmentRead(**dict(row))


async def revoke_role(conn: asyncpg.Connection, *, actor: Actor, assignment_id: int) -> RoleAssignmentRead:
    row = await conn.fetchrow(queries.REVOKE_ROLE, assignment_id,
                              f"{actor.actor_type}:{actor.actor_id or actor.actor_name}")
    if row is None:
        await get_role(conn, assignment_id=assignment_id)
        raise Conflict("该角色授予已撤销 (already revoked)")
    grant = RoleAssignmentRead(**dict(row))
    await audit.record(conn, actor=actor, action="role.revoke", subject_type="role_assignment",
                       subject_id=str(assignment_id), jurisdiction=grant.jurisdiction_code,
                       change={"revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None})
    return grant


async def list_roles(conn: asyncpg.Connection, *, principal_type: str, principal_id: int) -> list[RoleAssignmentRead]:
    return [RoleAssignmentRead(**dict(r)) for r in await conn.fetch(queries.LIST_ROLES, principal_type, principal_id)]
