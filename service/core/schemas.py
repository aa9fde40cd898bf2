"""Base classes for request and response models (msgspec)."""

from __future__ import annotations

import msgspec


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body: unknown fields are refused."""


class Output(msgspec.Struct, kw_only=True):
    """A response body."""


class Page(msgspec.Struct, kw_only=True):
    next_cursor: str | None = None
