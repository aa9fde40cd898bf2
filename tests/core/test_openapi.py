"""The exported OpenAPI schema is what the code generates, and every operation is documented."""

from __future__ import annotations

import json

from service.app import create_app
from service.core.openapi import document
from service.core.settings import PROJECT_ROOT
from tests.conftest import make_settings


def generated(tmp_path) -> dict:
    return document(create_app(make_settings(None, tmp_path)))


def test_exported_schema_matches_the_code(tmp_path):
    exported = json.loads((PROJECT_ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert exported == generated(tmp_path), "openapi/openapi.json is stale: run `make openapi`"


def test_every_operation_has_an_id_a_summary_and_its_errors(tmp_path):
    schema = generated(tmp_path)
    seen = set()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            where = f"{method.upper()} {path}"
            assert op.get("operationId"), where
            assert op["operationId"][0].isupper(), f"{where}: operationId should be PascalCase"
            assert op["operationId"] not in seen, f"{where}: duplicate operationId"
            seen.add(op["operationId"])
            assert op.get("summary"), where
            if op["operationId"] != "Healthz":  # the liveness probe has no failure to describe
                assert {"400", "422", "503"} & set(op["responses"]), f"{where}: no error responses"
