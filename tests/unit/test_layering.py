"""All SQL lives in `hdops/store` (issue 12): services, commands, the CLI, render and
domain call store functions and never build a query themselves.

Checked on the source: outside `hdops/store`, no module imports SQLAlchemy's
statement builders (select, func, update, …) and none runs a statement through a
session (`.execute(`, `.scalar(`, `.scalars(`). ORM identity lookups
(`session.get`) and adding objects stay allowed: they are the unit of work, not SQL.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "hdops"
BUILDERS = {
    "select",
    "insert",
    "update",
    "delete",
    "func",
    "text",
    "and_",
    "or_",
    "exists",
    "case",
    "literal_column",
    "bindparam",
    "union_all",
}
RUNNERS = {"execute", "scalar", "scalars"}
MODULES = sorted(p for p in ROOT.rglob("*.py") if "store" not in p.relative_to(ROOT).parts)


def sql_outside_the_store(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            if node.module == "sqlalchemy.sql" or (node.module or "").startswith("sqlalchemy.sql."):
                found.append(f"line {node.lineno}: imports {node.module}")
            found += [
                f"line {node.lineno}: imports {a.name} from {node.module}"
                for a in node.names
                if a.name in BUILDERS
            ]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in RUNNERS
            and isinstance(node.func.value, ast.Name | ast.Attribute)
            and "session" in ast.unparse(node.func.value)
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node.func)}(…)")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_outside_the_store(path: Path) -> None:
    assert sql_outside_the_store(path) == []


def test_the_check_finds_sql(tmp_path: Path) -> None:
    sample = tmp_path / "leaky.py"
    sample.write_text(
        "from sqlalchemy import func, select\n"
        "def f(session):\n"
        "    return session.scalars(select(X).where(func.count() > 1))\n",
        encoding="utf-8",
    )
    assert len(sql_outside_the_store(sample)) == 3
