"""The command-line tool: one clear line and a non-zero exit on failure."""

from __future__ import annotations

import json

from tests.conftest import fresh_database
from tests.helpers.cli import run_cli


def test_unreachable_database_is_one_clear_line(tmp_path):
    r = run_cli("migrate", database_url="postgresql://nobody:secret@127.0.0.1:1/none", data_dir=tmp_path)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("matter-registry migrate: cannot reach PostgreSQL")
    assert "secret" not in r.stderr  # the password is redacted


async def test_serve_refuses_when_the_schema_is_behind(server_url, tmp_path):
    empty = await fresh_database(server_url, template_name=None)
    r = run_cli("serve", database_url=empty, data_dir=tmp_path, extra_env={"MR_DEV": "1"})
    assert r.returncode == 1
    assert "schema is behind" in r.stderr
    assert "matter-registry migrate" in r.stderr


def test_create_token_prints_it_once_and_it_works(database, tmp_path):
    r = run_cli("create-token", "--client", "county-health", "--organisation", "长沙县卫生健康局",
                "--role", "department", "--jurisdiction", "430121", database_url=database, data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("mr_")
    # a bad role is refused with one line, nothing written
    bad = run_cli("create-token", "--client", "x-y-z", "--role", "emperor", "--jurisdiction", "430121",
                  database_url=database, data_dir=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1
    assert "role" in bad.stderr


def test_export_openapi_writes_the_schema(tmp_path):
    target = tmp_path / "openapi.json"
    r = run_cli("export-openapi", str(target), database_url="postgresql://unused/none", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(target.read_text())["openapi"].startswith("3.1")
