"""Arbitrary JSON, query strings and path values thrown at every operation's parser: never a 5xx, and
every refusal of the API an RFC 9457 problem (issue 12, "Proof, in CI").

Hypothesis draws an operation of the OpenAPI document, a caller (anonymous or a demo role), path values,
query parameters (the operation's own names and others) and a body: a JSON object with the operation's
field names holding values of any JSON type (deep, huge, empty, odd characters), or JSON that is not an
object at all, or bytes that are not JSON. Bounded in examples, so it stays a few seconds.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from service.app import create_app
from service.core.openapi import document
from tests.conftest import bearer

EXAMPLES = 150
CALLERS = ["province-admin", "county-reviewer-api", "civil-affairs", "xingsha-office", "songya-community",
           "county-supervisor", "county-orgdept-api", None]

_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
            | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(max_size=40) | st.sampled_from(["", " ", "\u200b", "\x00", "9999-12-31", "0001-01-01",
                                                       "2026-02-30", "430121", "430121001001", "-infinity",
                                                       "T-D-001", "\ud800".encode("utf-8", "surrogatepass")
                                                       .decode("utf-8", "replace"), "x" * 5000]))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=12), inner, max_size=4), max_leaves=12)


def _operations(app: Any) -> list[tuple[str, str, dict[str, Any], list[str]]]:
    schema = document(app)
    components = schema.get("components", {}).get("schemas", {})
    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            fields: list[str] = []
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "")
            if ref:
                fields = list(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
            found.append((method.upper(), path, op, fields))
    return sorted(found, key=lambda o: (o[1], o[0]))


@pytest.fixture
def sync_client(settings):
    with TestClient(app=create_app(settings), raise_server_exceptions=False) as client:
        yield client


# no shrinking: a failure is reported as drawn (the draws are printed), in seconds rather than minutes
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_no_input_makes_any_operation_fail_with_a_server_error(data, sync_client, template):
    operations = _operations(sync_client.app)
    method, path, op, fields = data.draw(st.sampled_from(operations), label="operation")
    params = [p for p in op.get("parameters", []) if isinstance(p, dict)]
    url = path
    for p in params:
        if p.get("in") == "path":
            value = data.draw(st.integers(min_value=-(2**70), max_value=2**70).map(str)
                              | st.text(min_size=1, max_size=20), label=p["name"])
            url = url.replace("{" + p["name"] + "}", quote(value, safe="") or "x")
    names = [p["name"] for p in params if p.get("in") == "query"] + ["x", "cursor", "since", "until"]
    query = data.draw(st.lists(st.tuples(st.sampled_from(names), st.text(max_size=30)), max_size=4), label="query")
    caller = data.draw(st.sampled_from(CALLERS), label="caller")
    headers = bearer(template.tokens[caller]) if caller else {}
    kind = data.draw(st.sampled_from(["fields", "any", "bytes", "deep"]), label="body kind") \
        if method in ("POST", "PUT", "PATCH") else None
    content: bytes | None = None
    if kind == "fields":
        body = data.draw(st.fixed_dictionaries({}, optional={f: _json for f in fields}), label="body")
        content = json.dumps(body, ensure_ascii=data.draw(st.booleans())).encode("utf-8", "surrogatepass")
    elif kind == "any":
        content = json.dumps(data.draw(_json, label="body")).encode("utf-8", "surrogatepass")
    elif kind == "bytes":
        content = data.draw(st.binary(max_size=200), label="body")
    elif kind == "deep":
        depth = data.draw(st.integers(min_value=100, max_value=20_000), label="depth")
        content = ("[" * depth + "]" * depth).encode()
    if content is not None:
        headers = {**headers, "content-type": "application/json"}
    response = sync_client.request(method, url, params=query, content=content, headers=headers)
    assert response.status_code < 500, f"{method} {url} {query} -> {response.status_code}: {response.text[:300]}"
    if url.startswith("/api/") and response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text[:200]
