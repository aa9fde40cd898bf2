"""The core plugin: every cross-cutting concern installed in small steps."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import InitPluginProtocol
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusController
from litestar.template.config import TemplateConfig

from service.core.db import provide_connection
from service.core.errors import EXCEPTION_HANDLERS
from service.core.lifespan import lifespan
from service.core.observability import configure_logging
from service.core.path import RequestPath
from service.core.replica import provide_read_connection
from service.core.settings import Settings

SERVICE_ROOT = Path(__file__).resolve().parents[1]


class Metrics(PrometheusController):
    """/metrics in the Prometheus text format (not part of the JSON API's schema); the request series are
    recorded by service/core/metrics.py."""

    include_in_schema = False


class Core(InitPluginProtocol):
    def __init__(self, settings: Settings, routes: Sequence[Any] = (), *,
                 without: frozenset[str] = frozenset()) -> None:
        self.settings = settings
        self.routes = list(routes)  # every area's, handed over by service/app.py (core imports no area)
        # only a benchmark leaves pieces out: the service always runs with all of them
        self.without = without

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        configure_logging(self.settings.log_level)
        app_config.logging_config = None  # ours: JSON lines on stderr (core/observability.py)
        self._configure_state(app_config)
        self._configure_lifespan(app_config)
        self._configure_middleware(app_config)
        self._configure_errors(app_config)
        self._configure_openapi(app_config)
        self._configure_templates(app_config)
        self._configure_routes(app_config)
        return app_config

    def _configure_state(self, app_config: AppConfig) -> None:
        app_config.state = State({"settings": self.settings})
        app_config.dependencies["db"] = Provide(provide_connection)
        app_config.dependencies["read_db"] = Provide(provide_read_connection)

    def _configure_lifespan(self, app_config: AppConfig) -> None:
        app_config.lifespan = [*app_config.lifespan, lifespan]

    def _configure_middleware(self, app_config: AppConfig) -> None:
        secret = self.settings.secret_key
        session = CookieBackendConfig(
            # AES-GCM needs 32 bytes: derive them, so any length of secret works
            secret=hashlib.sha256(b"session:" + secret).digest(),
            # the cookie outlives the session by a day so an expired session can be told apart from none
            key="mr_session", max_age=self.settings.session_max_age_s + 86400, httponly=True, samesite="lax",
            secure=not self.settings.dev_mode, exclude=["^/api/", "^/metrics", "^/healthz", "^/readyz"],
        )
        csrf = CSRFConfig(
            secret=hashlib.sha256(b"csrf:" + secret).hexdigest(), cookie_name="mr_csrf",
            cookie_secure=not self.settings.dev_mode,
            cookie_samesite="strict", header_name="x-csrftoken",
            # the API authenticates with bearer tokens, never with cookies, so it needs no CSRF token
            exclude=["^/api/", "^/schema", "^/healthz", "^/readyz", "^/metrics", "^/static/"],
        )
        # one pure ASGI middleware for the whole path, the guard included (service/core/path.py); the session
        # and CSRF middleware run inside it for web paths only, so Litestar's csrf_config stays unset
        app_config.middleware = [
            DefineMiddleware(RequestPath, session=session, csrf=csrf, without=self.without), *app_config.middleware]

    def _configure_errors(self, app_config: AppConfig) -> None:
        app_config.exception_handlers = {**app_config.exception_handlers, **EXCEPTION_HANDLERS}

    def _configure_openapi(self, app_config: AppConfig) -> None:
        app_config.openapi_config = OpenAPIConfig(
            title="社区工作事项准入登记服务 Community matter-admission registry",
            version="0.1.0",
            description=(
                "Keeps the lists of matters that may be put on communities, answers whether a department may "
                "put a matter on a community (with the citation), takes admission and secondment requests, "
                "and keeps a verifiable audit log. Errors are RFC 9457 problem details."
            ),
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            components=Components(security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", description="API token (mr_...)"),
            }),
            use_handler_docstrings=True,
        )

    def _configure_templates(self, app_config: AppConfig) -> None:
        directories: list[Path | os.PathLike[Any] | str] = [
            p for p in sorted(SERVICE_ROOT.glob("*/templates")) if p.is_dir()]
        app_config.template_config = TemplateConfig(directory=directories, engine=JinjaTemplateEngine)

    def _configure_routes(self, app_config: AppConfig) -> None:
        app_config.route_handlers = [*app_config.route_handlers, *self.routes, Metrics]
