"""The ASGI application: `create_app()` and nothing else."""

from __future__ import annotations

from litestar import Litestar

from service.core.plugin import Core
from service.core.settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> Litestar:
    return Litestar(plugins=[Core(settings or load_settings())])
