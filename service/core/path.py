"""The request path: one pure ASGI middleware that does, in this order, what eleven layers did before.

For every HTTP request (Litestar runs app middleware after routing, so the route and its template are known):
  1. utf8_query   a raw UTF-8 query string read as UTF-8, not Latin-1 (service/core/querystring.py)
  2. request_id   X-Request-ID in and out, one JSON access-log line (service/core/observability.py)
  3. metrics      /metrics counters and histograms, a dict update (service/core/metrics.py)
  4. problems     anything raised below, before the response started, becomes its RFC 9457 problem (or a
                  Chinese page on the web UI) here, so that 2 and 3 see the status sent (service/core/errors.py)
  5. janitor      the request's set of written topics; no connection goes back to the pool inside a
                  transaction (service/core/written.py, service/core/db.py)
  6. session      the encrypted cookie: web paths only (not /api/, /metrics, /healthz, /readyz)
  7. auth         bearer token or session -> identity (service/core/auth.py)
  8. request_line NUL bytes, integers beyond bigint in path or query: 422 (service/core/inputs.py)
  9. read_your_writes  the change's marker on its response, only with a read replica (service/core/replica.py)
 10. csrf         web paths only, as before (the API authenticates with bearer tokens, never cookies)
 11. guard        the one guard, `service.core.authz.authorize`, on the route's handler; its refusal is
                  answered by the route's own exception handlers, as Litestar answers a guard's
A bearer request to the API passes 1-5, 7-9 and 11 as plain function calls: no session, no CSRF, no
Litestar middleware wrapper, no copy of the route handler (Litestar copies it for each guard it runs).

`without` (names of MIDDLEWARE_NAMES) leaves pieces out: only bench/middleware.py does, to measure them.
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from service.core import written as changes
from service.core.auth import authenticate
from service.core.authz import authorize
from service.core.db import release_leases
from service.core.errors import handler_for, send_problem
from service.core.inputs import check_request_line
from service.core.metrics import METRICS
from service.core.observability import REQUEST_ID_HEADER, log_access, request_id_of
from service.core.querystring import utf8_query_string
from service.core.replica import mark_response

# the pieces of the request path by name, in order (bench/middleware.py measures each by leaving it out)
MIDDLEWARE_NAMES = ("utf8_query", "request_id", "metrics", "problems", "janitor", "session", "auth",
                    "request_line", "read_your_writes", "csrf", "guard")
# paths that are never a browser's: no session cookie is read or written, no CSRF token asked for
NOT_WEB = ("/api/", "/metrics", "/healthz", "/readyz")


class RequestPath:
    def __init__(self, app: ASGIApp, *, session: CookieBackendConfig | None, csrf: CSRFConfig | None,
                 without: frozenset[str] = frozenset()) -> None:
        self.app = app
        on = {name: name not in without for name in MIDDLEWARE_NAMES}
        self.utf8_query, self.request_id, self.metrics = on["utf8_query"], on["request_id"], on["metrics"]
        self.problems, self.janitor, self.auth = on["problems"], on["janitor"], on["auth"]
        self.request_line, self.read_your_writes, self.guard = (on["request_line"], on["read_your_writes"],
                                                                on["guard"])
        # the web's pieces wrap the rest of the path: Litestar's own session and CSRF middleware
        self.session: ASGIApp | None = (session.middleware(self._identified)  # type: ignore[operator]
                                        if session is not None and on["session"] else None)
        self.csrf: ASGIApp | None = (CSRFMiddleware(app=self._guarded, config=csrf)
                                     if csrf is not None and on["csrf"] else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.utf8_query:
            raw = scope.get("query_string")
            if raw and not raw.isascii():
                scope["query_string"] = utf8_query_string(raw)  # the request's own scope, read by all below
        state = scope.setdefault("state", {})  # type: ignore[typeddict-item]
        request_id = request_id_of(scope["headers"]) if self.request_id else ""
        state["request_id"] = request_id
        started = time.perf_counter()
        mark = self.read_your_writes and getattr(scope["app"].state, "read_pool", None) is not None
        sent = [500, False]  # status, response started

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent[0], sent[1] = message["status"], True
                if mark:
                    mark_response(scope, message)
                if request_id:
                    headers = message.get("headers")
                    headers = list(headers) if headers else []
                    if not any(k.lower() == REQUEST_ID_HEADER for k, _ in headers):
                        headers.append((REQUEST_ID_HEADER, request_id.encode()))
                    message["headers"] = headers
            await send(message)

        method, path = scope["method"], scope["path"]
        counted = self.metrics and "/metrics" not in path
        template = scope.get("path_template", path)
        if counted:
            METRICS.started(method, template)
        try:
            token = changes.begin_request() if self.janitor else None
            try:
                if self.session is not None and not path.startswith(NOT_WEB):
                    await self.session(scope, receive, send_marked)
                else:
                    await self._identified(scope, receive, send_marked)
            finally:
                if token is not None:
                    changes.end_request(token)
                    await release_leases(scope)
        except Exception as exc:
            if sent[1] or not self.problems:
                raise
            await send_problem(scope, receive, send_marked, exc)
        finally:
            if counted:
                METRICS.ended(method, template, sent[0], time.perf_counter() - started)
            if request_id:
                log_access(request_id, method, path, sent[0], started)

    async def _identified(self, scope: Scope, receive: Receive, send: Send) -> None:
        """From the identity on: after the session cookie was read (web) or at once (API)."""
        if self.auth:
            await authenticate(scope, receive, send)
        if self.request_line:
            check_request_line(scope["path"], scope.get("query_string", b""))
        if self.csrf is not None and not scope["path"].startswith(NOT_WEB):
            await self.csrf(scope, receive, send)
        else:
            await self._guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.guard:
            handler = scope["route_handler"]  # type: ignore[typeddict-item]
            request: Request[Any, Any, Any] = handler.resolve_request_class()(scope=scope, receive=receive,
                                                                              send=send)
            try:
                await authorize(request, handler)
            except Exception as exc:
                # as Litestar answers a guard's refusal: by the route's exception handlers (a page's as a page)
                from litestar.middleware._internal.exceptions.middleware import get_exception_handler

                own = get_exception_handler(ScopeState.from_scope(scope).exception_handlers, exc)
                await send_problem(scope, receive, send, exc, own or handler_for(exc))
                return
        await self.app(scope, receive, send)
