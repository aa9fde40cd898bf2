"""The layers of CONTRIBUTING.md hold: SQL only in queries.py, and the import contracts of pyproject.toml."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest
from importlinter import cli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import lint_sql  # noqa: E402


def test_no_sql_outside_queries_modules() -> None:
    found = lint_sql.violations()
    assert not found, "SQL outside queries.py (move it to the area's queries.py):\n" + "\n".join(found)


def test_the_sql_lint_tells_sql_from_prose() -> None:
    source = textwrap.dedent('''
        """select the module docstring is prose, never looked at"""
        A = "select id from jurisdiction where code = $1"
        B = "insert into outbox (id) values ($1)"
        C = "update outbox set attempts = 1 where id = $1"
        D = "delete from outbox where id = $1"
        E = """
        with due as (select 1)
        select * from due
        """
        F = f"create table {name} (id int)"
        G = "revoke create on schema public from public"
        summary = "Create a jurisdiction under a parent"
        message = "select a county first"
        words = "update the list, then delete from memory"
        H = "select pg_try_advisory_xact_lock($1)"
    ''')
    lines = [line for line, *_ in lint_sql.findings(Path("x.py"), source)]
    tree = ast.parse(source)
    named = {t.targets[0].id: t.lineno for t in tree.body if isinstance(t, ast.Assign)}  # type: ignore[attr-defined]
    assert lines == sorted(named[n] for n in ("A", "B", "C", "D", "E", "F", "G", "H"))


def test_the_import_contracts_are_kept(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """import-linter's own runner on [tool.importlinter] of pyproject.toml (what `lint-imports` runs)."""
    monkeypatch.chdir(ROOT)
    code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert code == 0, capsys.readouterr().out[-8000:]


def test_no_test_module_imports_another_test_module() -> None:
    """Helpers several areas use live in tests/helpers/ (CONTRIBUTING.md, "Tests")."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1].startswith("test_"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}")
    assert not found, "\n".join(found)
