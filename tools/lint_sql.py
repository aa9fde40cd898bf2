"""SQL lives in queries.py: list every string in service/ outside a queries.py module that reads as SQL.

Run by `make lint` and by tests/test_layers.py. Prints `path:line: text` for each one and exits 1.
A string counts as SQL when it starts with a statement keyword followed by the structure of that
statement (`select ... from`, `insert into t`, `update t set`, `delete from t`, `with x as (`,
`create table`, `grant ... on`, ...), so prose such as a summary "Create a jurisdiction" does not.
Docstrings and other bare string statements are not looked at. An f-string is read with each
placeholder as a name.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "service"

# modules that may build SQL that no constant can hold, and why (they may not hold constant SQL either)
DYNAMIC_ALLOWED = {
    "service/core/db.py": "write_together joins the statements it is handed into one CTE; recreate_database "
                          "names a database (an identifier cannot be a $n parameter)",
    "service/core/roles.py": "GRANT and CREATE/ALTER ROLE statements name a role and tables (identifiers) "
                             "and a password literal, which PostgreSQL takes in no parameter",
}

_SQL = re.compile(
    r"""^\s*(?:
        select\s+(?:distinct\s+)?\S.*?(?:\bfrom\b|\w\(|::|\$\d|\bcurrent_user\b)
      | insert\s+into\s+\w+
      | update\s+\w+(?:\s+\w+)?\s+set\b
      | delete\s+from\s+\w+
      | with\s+(?:recursive\s+)?\w+\s*(?:\([^)]*\)\s*)?as\s+(?:not\s+)?(?:materialized\s+)?\(
      | (?:create|alter|drop)\s+(?:or\s+replace\s+)?(?:unique\s+)?(?:temp(?:orary)?\s+)?
        (?:table|index|view|function|procedure|trigger|role|user|database|schema|extension|sequence|type|policy
           |materialized\s+view)\b
      | (?:grant|revoke)\s+[\w\s,]+?\bon\b
      | copy\s+\w+.*?\b(?:from|to)\b
      | (?:notify|listen|unlisten)\s+\w+
      | truncate\s+(?:table\s+)?\w+
      | lock\s+table\s+\w+
      | vacuum\b | analyze\s+\w+
    )""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


def looks_like_sql(text: str) -> bool:
    return bool(_SQL.match(text))


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
    return None


def findings(path: Path, source: str) -> list[tuple[int, str, bool]]:
    """(line, first line of the text, whether it is an f-string) for each SQL-looking string."""
    tree = ast.parse(source, filename=str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant | ast.JoinedStr):
            skipped.add(id(node.value))  # docstrings, attribute docstrings: never executed
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(v) for v in node.values)  # read as the whole f-string
    out = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        text = _text(node)
        if text is not None and looks_like_sql(text):
            out.append((node.lineno, text.strip().splitlines()[0][:100], isinstance(node, ast.JoinedStr)))
    return sorted(out)


def violations(root: Path = SERVICE) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "queries.py":
            continue
        rel = path.relative_to(ROOT).as_posix()
        for line, text, dynamic in findings(path, path.read_text(encoding="utf-8")):
            if dynamic and rel in DYNAMIC_ALLOWED:
                continue
            found.append(f"{rel}:{line}: SQL outside queries.py: {text}")
    return found


def main() -> int:
    found = violations()
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} SQL string(s) outside queries.py: move them to the area's queries.py "
              "(CONTRIBUTING.md, 'Layers')", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
