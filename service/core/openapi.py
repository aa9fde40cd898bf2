"""OpenAPI helpers: every operation declares its problem responses the same way."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec

from service.core.errors import PROBLEM_MEDIA_TYPE, Problem

_DESCRIPTIONS = {
    400: "Malformed request (problem details)",
    401: "Not authenticated: token missing, wrong, expired or revoked (problem details)",
    403: "The caller's role does not cover this action or jurisdiction (problem details)",
    404: "Not found (problem details)",
    409: "Conflict: a concurrent change won, or the transition is not allowed (problem details)",
    413: "Body too large (problem details)",
    422: "Validation failed: the field and the rule are named (problem details)",
    429: "Too many requests (problem details)",
    503: "Database unavailable (problem details)",
}


def problems(*codes: int) -> dict[int, ResponseSpec]:
    """Problem responses for an operation; 400, 422 and 503 are always possible."""
    wanted = sorted({400, 422, 503, *codes})
    return {
        code: ResponseSpec(data_container=Problem, description=_DESCRIPTIONS[code], media_type=PROBLEM_MEDIA_TYPE,
                           generate_examples=False)
        for code in wanted
    }


AUTHED = (401, 403)


def document(app: Litestar) -> dict[str, Any]:
    """The OpenAPI document as plain JSON data (what `export-openapi` writes)."""
    data: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(app.openapi_schema.to_schema()))
    return data
