"""Authorization: one pycasbin enforcer per process, one guard that performs every check.

Who holds which role where lives in `role_assignment`; the enforcer is loaded from it at start
and kept current through LISTEN/NOTIFY (core/changes.py). A role held at a jurisdiction covers
its whole subtree: `allowed()` asks the enforcer for the target and for each ancestor in which
the subject holds any role, nearest first, so a decision is usually one enforcer call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import casbin
import msgspec
from casbin import persist
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from service.core import queries
from service.core.tree import SEQ_OVERLAP, JurisdictionTree

log = logging.getLogger(__name__)

ROLES = ("department", "street_office", "county_reviewer", "org_department", "community", "supervisor", "admin")


class _PolicyFile(persist.Adapter):  # type: ignore[misc]
    """Loads the base role permissions from policy.csv and the role assignments it is given."""

    def __init__(self, path: Path, assignments: list[list[str]]) -> None:
        self._path = path
        self._assignments = assignments

    def load_policy(self, model: Any) -> None:
        for line in self._path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                persist.load_policy_line(line, model)
        grouping = model.model["g"]["g"].policy
        for rule in self._assignments:  # appended directly: loading 100,000 takes under a second
            grouping.append(rule)


class _Enforcer(casbin.FastEnforcer):  # type: ignore[misc]
    """pycasbin's FastEnforcer, but the matcher is parsed once rather than on every decision.

    pycasbin builds a new evaluator (ast.parse + setup) per enforce() call; that was 60% of a
    decision's cost. The evaluator is kept per matcher text and given the current functions.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._evaluators: dict[str, Any] = {}
        super().__init__(*args, **kwargs)

    def _get_expression(self, expr: str, functions: Any = None) -> Any:
        evaluator = self._evaluators.get(expr)
        if evaluator is None:
            evaluator = casbin.FastEnforcer._get_expression(expr, functions)
            self._evaluators[expr] = evaluator
        else:
            evaluator.functions = functions
        return evaluator


# more changes than this at once (an import, a first start) rebuild the enforcer instead of patching it
REBUILD_OVER = 200
# answers remembered per process until a role or the jurisdiction tree changes (then forgotten at
# once); past this many distinct questions no more are kept
DECISIONS_MAX = 200_000


class Authorizer:
    def __init__(self, policies_dir: Path, tree: JurisdictionTree) -> None:
        self.tree = tree
        self._policies_dir = policies_dir
        # subject -> {jurisdiction: {roles}}, the same assignments the enforcer holds
        self.held: dict[str, dict[str, set[str]]] = {}
        self._by_id: dict[int, tuple[str, str, str]] = {}
        self.last_seq = 0
        self.enforcer = self._build([])
        # (subject, object, action, jurisdiction) -> `allowed`, under the roles and tree of _decisions_at
        self._decisions: dict[tuple[str, str, str, str], bool] = {}
        self._decisions_at: tuple[int, int] = (-1, -1)

    def _build(self, assignments: list[list[str]]) -> _Enforcer:
        # FastEnforcer indexes the role permissions by (object, action): positions 2 and 3
        enforcer = _Enforcer(
            str(self._policies_dir / "model.conf"), _PolicyFile(self._policies_dir / "policy.csv", assignments),
            cache_key_order=[2, 3],
        )
        enforcer.enable_log = False
        # assignments are written to PostgreSQL by the services, never through the adapter
        enforcer.enable_auto_save(False)
        return enforcer

    async def refresh(self, conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(queries.ASSIGNMENTS_SINCE, max(0, self.last_seq - SEQ_OVERLAP)) if self.last_seq else []
        if self.last_seq == 0 or len(rows) > REBUILD_OVER:
            return await self._rebuild(conn)
        added: list[list[str]] = []
        for r in rows:
            rule = (r["subject"], r["role"], r["jurisdiction_code"])
            known = r["id"] in self._by_id
            if r["active"] and not known:
                self._remember(r["id"], rule)
                added.append(list(rule))
            elif not r["active"] and known:
                del self._by_id[r["id"]]
                self._forget(rule)
            self.last_seq = max(self.last_seq, r["change_seq"])
        for grouping in added:
            if not self.enforcer.has_named_grouping_policy("g", *grouping):
                self.enforcer.add_named_grouping_policy("g", *grouping)
        return len(rows)

    async def _rebuild(self, conn: asyncpg.Connection) -> int:
        seq = await conn.fetchval(queries.ASSIGNMENTS_SEQ)
        rows = await conn.fetch(queries.ASSIGNMENTS_ACTIVE)
        self.held, self._by_id = {}, {}
        for r in rows:
            self._remember(r["id"], (r["subject"], r["role"], r["jurisdiction_code"]))
        # built aside and swapped in, so no decision ever sees a half-loaded enforcer
        self.enforcer = self._build([list(rule) for rule in set(self._by_id.values())])
        self.last_seq = seq
        return len(rows)

    def _remember(self, assignment_id: int, rule: tuple[str, str, str]) -> None:
        self._by_id[assignment_id] = rule
        self.held.setdefault(rule[0], {}).setdefault(rule[2], set()).add(rule[1])

    def _forget(self, rule: tuple[str, str, str]) -> None:
        subject, role, dom = rule
        if any(v == rule for v in self._by_id.values()):
            return  # another active assignment grants the same thing
        roles = self.held.get(subject, {}).get(dom)
        if roles is not None:
            roles.discard(role)
            if not roles:
                del self.held[subject][dom]
        self.enforcer.remove_named_grouping_policy("g", subject, role, dom)

    def allowed(self, subject: str, obj: str, act: str, domain: str) -> bool:
        """May the subject do `act` on `obj` at `domain` (a role held there or above it)?

        Remembered until a role or the jurisdiction tree changes: the enforcer costs ~0.1 ms a question,
        and refreshes move last_seq, which empties the memory, so a revocation applies at once."""
        stamp = (self.last_seq, self.tree.last_seq)
        if stamp != self._decisions_at:
            self._decisions = {}
            self._decisions_at = stamp
        key = (subject, obj, act, domain)
        decision = self._decisions.get(key)
        if decision is None:
            held = self.held.get(subject)
            decision = held is not None and bool(held) and any(
                dom in held and self.enforcer.enforce(subject, dom, obj, act) for dom in self.tree.chain(domain))
            if len(self._decisions) < DECISIONS_MAX:
                self._decisions[key] = decision
        return decision

    def domains_allowing(self, subject: str, obj: str, act: str) -> list[str]:
        """Every jurisdiction at which the subject may do `act` on `obj` (its subtree included)."""
        held = self.held.get(subject, {})
        return sorted(d for d in held if self.enforcer.enforce(subject, d, obj, act))

    def roles_of(self, subject: str) -> dict[str, set[str]]:
        return self.held.get(subject, {})


class Permission(msgspec.Struct, frozen=True):
    """Declared on a route handler as opt={"permission": Permission(...)}.

    `domain` resolves the jurisdiction the request acts on (or several, all of which must be
    covered, e.g. a node and its new parent); None means "anywhere the subject holds
    the permission" (listings then filter to those jurisdictions; bodies naming targets are checked
    by the service with `Authorizer.allowed`).
    """

    obj: str
    act: str
    domain: Callable[[ASGIConnection[Any, Any, Any, Any]], Awaitable[str | list[str] | None]] | None = None
    # when the subject may not act, answer 404 rather than 403 so existence does not leak
    hide: bool = False
    # an action on a resource the subject may see with this act (e.g. "read"): refused with 403 where
    # the subject sees the resource, 404 where it does not (as the hidden read answers)
    visible_with: str | None = None


def body_domain(field: str) -> Callable[[ASGIConnection[Any, Any, Any, Any]], Awaitable[str | None]]:
    """The jurisdiction named by a field of the JSON body (None when the body cannot be read)."""

    async def resolve(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
        try:
            body = await connection.json()  # type: ignore[attr-defined]
        except Exception:  # a malformed body is answered by the body's own validation
            return None
        code = body.get(field) if isinstance(body, dict) else None
        return code if isinstance(code, str) else None

    return resolve


def path_domain(param: str) -> Callable[[ASGIConnection[Any, Any, Any, Any]], Awaitable[str | None]]:
    async def resolve(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
        return str(connection.path_params[param])

    return resolve


def _library_route(handler: BaseRouteHandler) -> bool:
    """Litestar's own routes: the OpenAPI documents and /metrics."""
    fn = getattr(handler, "fn", None)
    return getattr(fn, "__module__", "").startswith("litestar.")


def _repeated_query_parameter(connection: ASGIConnection[Any, Any, Any, Any],
                              handler: BaseRouteHandler) -> str | None:
    """The first query parameter given more than once that the route does not take as a list.

    A resolver reads one value and a handler may bind another (Litestar binds the last): with two
    values the guard could decide on one jurisdiction and the handler serve the other. So no route
    takes a repeated parameter unless it declares it in opt={"repeatable": {...}}."""
    if not connection.scope.get("query_string"):
        return None  # nothing to repeat (most requests): no parsing
    repeatable = handler.opt.get("repeatable", ())
    seen: set[str] = set()
    for key, _ in connection.query_params.multi_items():
        if key in seen and key not in repeatable:
            return key
        seen.add(key)
    return None


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The one guard. Every route passes it: the request path calls it with the route's handler
    (service/core/path.py, installed by the core plugin)."""
    from service.core.audit import refuse, refuse_repeated_parameter
    from service.core.auth import identity_of

    repeated = _repeated_query_parameter(connection, handler)
    if repeated is not None:
        await refuse_repeated_parameter(connection, name=repeated)
    permission: Permission | None = handler.opt.get("permission")
    if permission is None:
        if handler.opt.get("public") or _library_route(handler):
            return
        if handler.opt.get("authenticated"):
            if identity_of(connection).kind == "anonymous":
                await refuse(connection, status=401, action="route.authenticated", subject_type="route",
                             reason="not authenticated")
            return
        # fail closed: a route that declares neither a permission nor public=True is nobody's
        log.error("route %s declares no permission; refusing", connection.url.path)
        await refuse(connection, status=403, action="route.undeclared", subject_type="route",
                     reason="route declares no permission")
    identity = identity_of(connection)
    if identity.kind == "anonymous":
        await refuse(connection, status=401, action=f"{permission.obj}.{permission.act}",
                     subject_type=permission.obj, reason="not authenticated")
    authorizer: Authorizer = connection.app.state.authorizer
    if permission.domain is None:
        if authorizer.domains_allowing(identity.subject, permission.obj, permission.act):
            return
        await refuse(connection, status=403, action=f"{permission.obj}.{permission.act}",
                     subject_type=permission.obj, reason="role does not grant this action")
    resolved = await permission.domain(connection)
    if resolved is None:
        # the target could not be read (a malformed body): the body's own validation will answer,
        # provided the subject may do this somewhere at all
        if authorizer.domains_allowing(identity.subject, permission.obj, permission.act):
            return
        await refuse(connection, status=403, action=f"{permission.obj}.{permission.act}",
                     subject_type=permission.obj, reason="role does not grant this action")
    domains = [resolved] if isinstance(resolved, str) or resolved is None else list(resolved)
    for domain in domains:
        if domain is not None and authorizer.tree.get(domain) is None:
            await refuse(connection, status=404, action=f"{permission.obj}.{permission.act}",
                         subject_type=permission.obj, subject_id=domain, reason="unknown jurisdiction")
        if domain is None or not authorizer.allowed(identity.subject, permission.obj, permission.act, domain):
            hidden = permission.hide or (permission.visible_with is not None and (domain is None or not (
                authorizer.allowed(identity.subject, permission.obj, permission.visible_with, domain))))
            await refuse(connection, status=404 if hidden else 403,
                         action=f"{permission.obj}.{permission.act}", subject_type=permission.obj,
                         jurisdiction=domain, reason="role does not cover this jurisdiction")
    connection.scope.setdefault("state", {})["domain"] = domains[0]
