"""Authentication: API bearer tokens for departments, signed session cookies for web users.

Tokens are 32 random bytes from the CSPRNG, shown once, stored only as HMAC-SHA256(pepper, token).
The middleware resolves one Identity per request; the authorization guard (core/authz.py) decides.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import msgspec
from litestar.connection import ASGIConnection
from litestar.types import Receive, Scope, Send

from service.core import queries

TOKEN_PREFIX = "mr_"
LAST_USED_EVERY_S = 60
CACHE_TTL_S = 30


class Identity(msgspec.Struct, frozen=True):
    kind: Literal["user", "client", "anonymous"]
    id: int | None = None
    name: str = "anonymous"
    organisation: str | None = None
    organisation_level: str | None = None
    home_jurisdiction: str | None = None
    locale: str = "zh-CN"

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.id}" if self.id is not None else "anonymous"


ANONYMOUS = Identity(kind="anonymous")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(pepper: bytes, token: str) -> bytes:
    return hmac.new(pepper, token.encode(), hashlib.sha256).digest()


def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    identity: Identity = connection.scope.get("state", {}).get("identity", ANONYMOUS)
    return identity


class TokenProblem(Exception):
    def __init__(self, reason: str, client_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.client_id = client_id




class IdentityResolver:
    """Looks up tokens and session users, with a short cache so a check costs no database trip.

    A revocation is applied everywhere within a second: the `tokens` change topic clears the cache.
    """

    def __init__(self, pool: asyncpg.Pool, pepper: bytes) -> None:
        self._pool = pool
        self._pepper = pepper
        self._tokens: dict[bytes, tuple[float, Identity, datetime | None, int]] = {}
        self._users: dict[int, tuple[float, Identity | None, int]] = {}
        self._last_used: dict[int, float] = {}
        self._background: set[asyncio.Task[None]] = set()

    def clear(self) -> None:
        self._tokens.clear()
        self._users.clear()

    async def on_change(self, _pool: asyncpg.Pool) -> None:
        self.clear()

    async def from_token(self, token: str) -> Identity:
        digest = hash_token(self._pepper, token)
        now = time.monotonic()
        cached = self._tokens.get(digest)
        if cached is None or cached[0] < now:
            row = await self._pool.fetchrow(queries.TOKEN, digest)
            if row is None:
                raise TokenProblem("unknown token")
            if row["revoked_at"] is not None:
                raise TokenProblem("token revoked", row["client_id"])
            if row["disabled_at"] is not None:
                raise TokenProblem("client disabled", row["client_id"])
            identity = Identity(
                kind="client", id=row["client_id"], name=row["name"], organisation=row["organisation"],
                organisation_level=row["organisation_level"], home_jurisdiction=row["jurisdiction_code"],
            )
            cached = (now + CACHE_TTL_S, identity, row["expires_at"], row["id"])
            self._tokens[digest] = cached
        _, identity, expires_at, token_id = cached
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise TokenProblem("token expired", identity.id)
        self._touch(token_id)
        return identity

    def _touch(self, token_id: int) -> None:
        """Record last use at most once a minute per token, off the request's path."""
        now = time.monotonic()
        if self._last_used.get(token_id, 0) + LAST_USED_EVERY_S > now:
            return
        self._last_used[token_id] = now

        async def write() -> None:
            try:
                await self._pool.execute(queries.TOKEN_USED, token_id)
            except (OSError, asyncpg.PostgresError):
                self._last_used.pop(token_id, None)

        task = asyncio.create_task(write())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def from_session(self, user_id: int, generation: int) -> Identity | None:
        """The session's user, unless it signed out since (its generation moved on) or was disabled."""
        now = time.monotonic()
        cached = self._users.get(user_id)
        if cached is None or cached[0] < now:
            row = await self._pool.fetchrow(queries.USER, user_id)
            identity = None
            if row is not None and row["disabled_at"] is None:
                # a department's or street office's user speaks for its organisation, as its API client would
                identity = Identity(kind="user", id=row["id"], name=row["display_name"], locale=row["locale"],
                                    organisation=row["organisation"], organisation_level=row["organisation_level"],
                                    home_jurisdiction=row["jurisdiction_code"])
            cached = (now + CACHE_TTL_S, identity, row["session_generation"] if row is not None else -1)
            self._users[user_id] = cached
        return cached[1] if cached[2] == generation else None


async def authenticate(scope: Scope, receive: Receive, send: Send) -> None:
    """Resolves the Identity of the request into its state (service/core/path.py calls it for every
    request). It never refuses by itself except for a bad token: a token that is presented must be valid
    (401), whatever the route. A session is read only where the session cookie was loaded (web paths)."""
    state = scope.setdefault("state", {})  # type: ignore[typeddict-item]
    resolver: IdentityResolver | None = getattr(scope["app"].state, "identities", None)
    identity = ANONYMOUS
    header = None
    for key, value in scope["headers"]:
        if key == b"authorization":
            header = value
            break
    if resolver is not None and header is not None:
        scheme, _, token = header.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            state["auth_problem"] = ("malformed Authorization header", None)
        else:
            try:
                identity = await resolver.from_token(token.strip())
            except TokenProblem as exc:
                state["auth_problem"] = (exc.reason, exc.client_id)
    elif resolver is not None:
        session = scope.get("session")
        if session and isinstance(session, dict):
            user_id = session.get("uid")
            issued = session.get("iat", 0)
            generation = session.get("gen", 0)
            max_age = scope["app"].state.settings.session_max_age_s
            if isinstance(user_id, int) and isinstance(generation, int):
                if time.time() - float(issued) > max_age:
                    state["session_expired"] = True
                else:
                    identity = await resolver.from_session(user_id, generation) or ANONYMOUS
    state["identity"] = identity
    if "auth_problem" in state:
        from service.core.audit import refuse

        reason, client_id = state["auth_problem"]
        await refuse(ASGIConnection(scope, receive, send), status=401, action="auth.token",
                     subject_type="api_client", subject_id=str(client_id) if client_id else None,
                     reason=reason)
