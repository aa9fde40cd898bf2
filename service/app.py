"""The ASGI application: `create_app()` and nothing else."""

from __future__ import annotations

from litestar import Litestar

from service.core.plugin import Core
from service.core.settings import Settings, load_settings
from service.routes import ROUTES


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    # the body limit is read from the constructor only (a plugin's change to it is ignored)
    return Litestar(plugins=[Core(settings, ROUTES)], request_max_body_size=settings.max_body_bytes)
