"""Writing the audit trail.

A change of state writes its event on the request's connection, inside the request's transaction:
if the change rolls back, so does its event. A refusal (401, 403, 404 from the guard, a rule
violation) is evidence: it is written on its own connection and committed at once, so the
request's rollback cannot erase it.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, NoReturn

import asyncpg
import msgspec
from litestar.connection import ASGIConnection

from service.core import queries
from service.core.auth import Identity, identity_of
from service.core.errors import BadRequest, Forbidden, InvalidParam, NotFound, ServiceError, Unauthorized

log = logging.getLogger(__name__)

UNAUTHENTICATED = "未认证或令牌无效 (authentication required or token invalid)"
SECRET_KEYS = frozenset({"password", "password_hash", "token", "token_hash", "secret", "new_password"})


class Actor(msgspec.Struct, frozen=True):
    """Who acts and from where: taken from the request, or `system` for background work."""

    actor_type: str
    actor_id: str | None
    actor_name: str | None
    role: str | None = None
    request_id: str | None = None
    client_addr: str | None = None

    @classmethod
    def from_connection(cls, connection: ASGIConnection[Any, Any, Any, Any], role: str | None = None) -> Actor:
        from service.core.network import client_address, keyed_address

        identity: Identity = identity_of(connection)
        state = connection.scope.get("state", {})
        handler = connection.scope.get("route_handler")
        # a route that promises an anonymous caller's address is never kept (a complaint) records the
        # keyed hash only, in its refusals (a 429) as elsewhere
        keyed = identity.kind == "anonymous" and bool((getattr(handler, "opt", None) or {}).get("keyed_address"))
        return cls(
            actor_type=identity.kind, actor_id=str(identity.id) if identity.id is not None else None,
            actor_name=identity.name if identity.kind != "anonymous" else None, role=role,
            request_id=state.get("request_id"),
            client_addr=("hmac:" + keyed_address(connection, "complaint")) if keyed else client_address(connection),
        )


SYSTEM = Actor(actor_type="system", actor_id=None, actor_name="matter-registry")


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {_scrub(k): ("***" if k in SECRET_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str) and "\x00" in value:
        # jsonb cannot hold U+0000: a refused request carrying one is recorded with it made visible
        return value.replace("\x00", "\\u0000")
    return value


def digest(change: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, UTF-8) of what changed."""
    return hashlib.sha256(msgspec.json.encode(msgspec.to_builtins(change), order="sorted")).hexdigest()


def statement(
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str | None = None,
    jurisdiction: str | None = None,
    outcome: str = "ok",
    status_code: int | None = None,
    change: Any = None,
    detail: dict[str, Any] | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """The INSERT of one audit event and its arguments (for `record`, or `db.write_together`)."""
    change_builtins = _scrub(msgspec.to_builtins(change)) if change is not None else None
    body = _scrub(detail or {})
    if change_builtins is not None:
        body = {**body, "change": change_builtins}
    return queries.AUDIT_INSERT, (
        actor.actor_type, actor.actor_id, actor.actor_name, actor.role, actor.request_id,
        actor.client_addr, _scrub(action), _scrub(subject_type), _scrub(subject_id), _scrub(jurisdiction), outcome,
        status_code,
        digest(change_builtins) if change_builtins is not None else None, body,
    )


async def record(conn: asyncpg.Connection | asyncpg.Pool, *, actor: Actor, action: str, subject_type: str,
                 **fields: Any) -> int:
    """Write one audit event in the caller's transaction; `fields` are `statement`'s optional ones."""
    sql, args = statement(actor=actor, action=action, subject_type=subject_type, **fields)
    event_id: int = await conn.fetchval(sql, *args)
    return event_id


async def record_apart(pool: asyncpg.Pool, **kwargs: Any) -> None:
    """Record on a connection of its own, committed now, whatever becomes of the request."""
    try:
        async with pool.acquire(timeout=5) as conn:
            await record(conn, **kwargs)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        log.exception("could not write audit event for %s", kwargs.get("action"))


async def refuse(
    connection: ASGIConnection[Any, Any, Any, Any],
    *,
    status: int,
    action: str,
    subject_type: str,
    reason: str,
    subject_id: str | None = None,
    jurisdiction: str | None = None,
) -> NoReturn:
    """Raise the problem for a refusal; the error handler records it apart (see core/errors.py)."""
    error: ServiceError
    if status == 401:
        # one message whatever the reason (unknown, expired, revoked, disabled): the caller learns nothing
        # about a token it holds; the audit event below keeps the reason
        error = Unauthorized(UNAUTHENTICATED)
    elif status == 404:
        error = NotFound(f"未找到 (not found{': ' + subject_id if subject_id else ''})")
    else:
        error = Forbidden(f"无权执行此操作 (forbidden: {reason})")
    error.audit = RefusalRecord(action=action, subject_type=subject_type, subject_id=subject_id,
                                jurisdiction=jurisdiction, reason=reason)
    raise error


async def refuse_repeated_parameter(connection: ASGIConnection[Any, Any, Any, Any], *, name: str) -> NoReturn:
    """400 for a query parameter given twice: the guard and the handler must read one value."""
    reason = f"查询参数 {name} 只能给出一次"
    error = BadRequest(reason, invalid_params=[InvalidParam(name=name, reason=reason, rule="query.repeated")],
                       rule="query.repeated")
    error.audit = RefusalRecord(action="request.repeated-parameter", subject_type="request", subject_id=name,
                                jurisdiction=None, reason=f"query parameter {name} repeated")
    raise error


def refusal_task(connection: ASGIConnection[Any, Any, Any, Any], error: ServiceError, status: int) -> Any:
    """A background task that records a refused request on its own connection."""
    from litestar.background_tasks import BackgroundTask

    pool = getattr(connection.app.state, "pool", None)
    if pool is None:
        return None
    spec = error.audit if isinstance(error.audit, RefusalRecord) else None
    if spec is None:
        handler = connection.scope.get("route_handler")
        name = getattr(handler, "operation_id", None) or getattr(handler, "name", None) or connection.url.path
        spec = RefusalRecord(action=str(name), subject_type=str((getattr(handler, "opt", {}) or {}).get(
            "subject_type", "request")), subject_id=None, jurisdiction=connection.scope.get("state", {}).get(
            "domain"), reason=error.detail)
    outcome = "denied" if status in (401, 403, 404) else "refused"
    detail: dict[str, Any] = {"reason": spec.reason, "path": connection.url.path, "method": connection.scope.get(
        "method")}
    if error.rule:
        detail["rule"] = error.rule
    if error.invalid_params:
        detail["invalid_params"] = msgspec.to_builtins(error.invalid_params)
    return BackgroundTask(
        record_apart, pool, actor=Actor.from_connection(connection), action=spec.action,
        subject_type=spec.subject_type, subject_id=spec.subject_id, jurisdiction=spec.jurisdiction,
        outcome=outcome, status_code=status, detail=detail,
    )


class RefusalRecord(msgspec.Struct, frozen=True):
    action: str
    subject_type: str
    subject_id: str | None
    jurisdiction: str | None
    reason: str
