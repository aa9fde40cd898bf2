"""The service's errors and their one mapping to RFC 9457 problem details."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.exceptions import NotFoundException as LitestarNotFound
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Receive, Scope, Send

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://matter-registry.example.gov.cn/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class InvalidParam(msgspec.Struct, omit_defaults=True):
    name: str
    reason: str
    rule: str | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    invalid_params: list[InvalidParam] | None = None
    rule: str | None = None
    allowed_transitions: list[str] | None = None
    extra: dict[str, Any] | None = None


class ServiceError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        invalid_params: list[InvalidParam] | None = None,
        rule: str | None = None,
        allowed: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.audit: Any = None  # a RefusalRecord when the raiser describes the refusal itself
        self.invalid_params = invalid_params
        self.rule = rule
        self.allowed = allowed
        self.extra = extra


class NotFound(ServiceError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ServiceError):
    status, slug, title = 409, "conflict", "Conflict"


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "Invalid state transition"


class Forbidden(ServiceError):
    status, slug, title = 403, "forbidden", "Forbidden"


class Unauthorized(ServiceError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class ValidationFailed(ServiceError):
    status, slug, title = 422, "validation-failed", "Validation failed"

    @classmethod
    def field(cls, name: str, reason: str, *, rule: str | None = None) -> ValidationFailed:
        return cls(reason, invalid_params=[InvalidParam(name=name, reason=reason, rule=rule)])


class BadRequest(ServiceError):
    status, slug, title = 400, "bad-request", "Bad request"


class RateLimited(ServiceError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(ServiceError):
    status, slug, title = 503, "unavailable", "Service unavailable"


# How a problem is shown on the web UI's pages (an HTML page in Chinese, not JSON): the web area
# registers its renderer for its path prefixes (`register_page_renderer`), so every error of a page,
# from whichever handler (an unknown /ui/ path, a bad query string, a refusal), answers as a page.
PageRenderer = Callable[[Request[Any, Any, Any], Problem, Any], Response[Any]]
_page_renderers: list[tuple[str, PageRenderer]] = []
# what the caller sees when PostgreSQL or the driver refuses a value: never their own text
VALUE_REFUSED = "输入的值无效或超出范围 (a value is invalid or out of range)"


def register_page_renderer(prefix: str, renderer: PageRenderer) -> None:
    if all(p != prefix for p, _ in _page_renderers):
        _page_renderers.append((prefix, renderer))


def _page_renderer(path: str) -> PageRenderer | None:
    return next((r for prefix, r in _page_renderers if path == prefix.rstrip("/") or path.startswith(prefix)), None)


def problem_response(
    request: Request[Any, Any, Any], problem: Problem, background: Any = None
) -> Response[Any]:
    renderer = _page_renderer(request.url.path)
    if renderer is not None:
        problem.request_id = request.scope.get("state", {}).get("request_id")
        return renderer(request, problem, background)
    problem.instance = problem.instance or request.url.path
    problem.request_id = request.scope.get("state", {}).get("request_id")
    headers = {"X-Request-ID": problem.request_id} if problem.request_id else {}
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="matter-registry"'
    return Response(problem, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers,
                    background=background)


def _service_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    from service.core.audit import refusal_task

    # every refusal is evidence: recorded on its own connection after the request rolled back
    audited = exc.audit is not None or exc.status in (401, 403, 409, 422, 429)
    background = refusal_task(request, exc, exc.status) if audited else None
    return problem_response(
        request,
        Problem(
            type=PROBLEM_BASE + exc.slug, title=exc.title, status=exc.status, detail=exc.detail,
            invalid_params=exc.invalid_params, rule=exc.rule, allowed_transitions=exc.allowed,
            extra=exc.extra,
        ),
        background,
    )


_AT = re.compile(r"at `\$\.?([^`]*)`")
_UNKNOWN = re.compile(r"unknown field `([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]*)`")
_MISSING_PARAM = re.compile(r"Missing required (?:query|path|header|cookie) parameter '([^']+)'")


def _field_from_message(message: str, fallback: str) -> str:
    """msgspec names the field in its message; lift it out so the client sees which one."""
    for pattern in (_UNKNOWN, _MISSING):
        m = pattern.search(message)
        if m:
            prefix = _AT.search(message)
            return f"{prefix.group(1)}.{m.group(1)}" if prefix and prefix.group(1) else m.group(1)
    m = _AT.search(message)
    if m and m.group(1):
        return m.group(1)
    return fallback


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    params: list[InvalidParam] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", ""))
            key = str(item.get("key") or "body")
            source = item.get("source")
            name = _field_from_message(message, "body" if key == "data" else key)
            if source in ("query", "path", "header", "cookie") and key != "data":
                name = key
            params.append(InvalidParam(name=name, reason=message))
    detail = exc.detail or "Validation failed"
    malformed = any("malformed" in p.reason.lower() for p in params) or "malformed" in detail.lower()
    status, slug, title = (400, "malformed-body", "Malformed body") if malformed else (
        422, "validation-failed", "Validation failed")
    if not params and not malformed:
        missing = _MISSING_PARAM.search(detail)
        name = missing.group(1) if missing else _field_from_message(detail, "body")
        params.append(InvalidParam(name=name, reason=detail))
    return problem_response(
        request, Problem(type=PROBLEM_BASE + slug, title=title, status=status, detail=detail, invalid_params=params)
    )


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    slugs = {400: "malformed-body", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
             413: "body-too-large", 429: "rate-limited", 503: "unavailable"}
    slug = slugs.get(exc.status_code, f"http-{exc.status_code}")
    return problem_response(
        request,
        Problem(type=PROBLEM_BASE + slug, title=slug.replace("-", " ").capitalize(), status=exc.status_code,
                detail=exc.detail),
    )


def _postgres(request: Request[Any, Any, Any], exc: asyncpg.PostgresError) -> Response[Any]:
    if isinstance(exc, asyncpg.UniqueViolationError | asyncpg.ForeignKeyViolationError
                  | asyncpg.ExclusionViolationError):
        detail = getattr(exc, "detail", None) or str(exc)
        return problem_response(
            request, Problem(type=PROBLEM_BASE + "conflict", title="Conflict", status=409, detail=detail)
        )
    if isinstance(exc, asyncpg.SerializationError | asyncpg.DeadlockDetectedError
                  | asyncpg.LockNotAvailableError):
        return problem_response(
            request, Problem(type=PROBLEM_BASE + "conflict", title="Conflict", status=409,
                             detail="a concurrent change won; reload and retry")
        )
    if isinstance(exc, asyncpg.CheckViolationError | asyncpg.NotNullViolationError
                  | asyncpg.StringDataRightTruncationError | asyncpg.DataError):
        # the database's own message names tables, constraints and values: logged, not shown
        log.warning("value refused by the database: %s", exc)
        return _out_of_range(request, exc)
    if isinstance(exc, asyncpg.CannotConnectNowError | asyncpg.ConnectionDoesNotExistError
                  | asyncpg.AdminShutdownError):
        return problem_response(
            request, Problem(type=PROBLEM_BASE + "unavailable", title="Service unavailable", status=503,
                             detail="数据库暂时不可用 (database unavailable)")
        )
    return _internal(request, exc)


def _out_of_range(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A value the driver cannot encode (an integer beyond int8, a date beyond the calendar) or the
    database refuses: 422 with a generic detail, audited as every 422 is."""
    error = ValidationFailed(VALUE_REFUSED)
    return _service_error(request, error)


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    # msgspec refuses JSON nested beyond its depth limit with RecursionError, not DecodeError
    log.warning("refused a body nested too deep on %s", request.url.path)
    return problem_response(
        request, Problem(type=PROBLEM_BASE + "malformed-body", title="Malformed body", status=400,
                         detail="请求体嵌套层级过深 (the body is nested too deeply)"),
    )


def _connection_lost(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    return problem_response(
        request, Problem(type=PROBLEM_BASE + "unavailable", title="Service unavailable", status=503,
                         detail="数据库暂时不可用 (database unavailable)")
    )


def _broken_connection(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # asyncpg gave up on a connection mid-protocol: the database terminated it (a shutdown or restart)
    # between two queries; logged in case it is ever something else
    log.warning("database connection in a broken state: %s", exc)
    return _connection_lost(request, exc)


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(
        request,
        Problem(type=PROBLEM_BASE + "internal", title="Internal error", status=HTTP_500_INTERNAL_SERVER_ERROR,
                detail="内部错误，已记录 (internal error, logged)"),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ServiceError: _service_error,
    ValidationException: _validation,
    NotAuthorizedException: _http,
    PermissionDeniedException: _http,
    LitestarNotFound: _http,
    HTTPException: _http,
    asyncpg.PostgresError: _postgres,
    OverflowError: _out_of_range,
    RecursionError: _too_deep,
    asyncpg.InterfaceError: _connection_lost,
    asyncpg.InternalClientError: _broken_connection,
    ConnectionError: _connection_lost,
    OSError: _connection_lost,
    Exception: _internal,
}


def handler_for(exc: Exception) -> Callable[[Request[Any, Any, Any], Any], Response[Any]]:
    """The handler of EXCEPTION_HANDLERS for this exception (the nearest class in its MRO)."""
    for cls in type(exc).__mro__:
        if cls in EXCEPTION_HANDLERS:
            handler: Callable[[Request[Any, Any, Any], Any], Response[Any]] = EXCEPTION_HANDLERS[cls]
            return handler
    return _internal


async def send_problem(scope: Scope, receive: Receive, send: Send, exc: Exception,
                       handler: Callable[[Request[Any, Any, Any], Any], Response[Any]] | None = None) -> None:
    """Answer `exc` as its problem (by `handler`, or the nearest of EXCEPTION_HANDLERS). service/core/path.py
    does this for an error raised anywhere in the request path before the response started, inside its
    access log and metrics, so both see the status actually sent (a refused token's 401, a CSRF failure's
    403), never a 500 for what the caller receives as a refusal."""
    request: Request[Any, Any, Any] = Request(scope, receive, send)
    response = (handler or handler_for(exc))(request, exc)
    await response.to_asgi_response(app=None, request=request)(scope, receive, send)
