"""The demo is a client of the product: it simulates and renders, and reads every
figure through `hdops.services`. SQL belongs in `hdops/store`, so no module of the
demo imports SQLAlchemy or the ORM (import-linter checks the same in `lint-imports`;
this runs with the tests)."""

from __future__ import annotations

import ast
from pathlib import Path

import demo

FORBIDDEN = ("sqlalchemy", "hdops.store.orm")


def _imported(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN)


def test_the_demo_imports_no_sqlalchemy_and_no_orm() -> None:
    folder = Path(demo.__file__).parent
    sources = sorted(folder.rglob("*.py"))
    assert len(sources) >= 5  # the package, not an empty folder
    found = {
        f"{path.relative_to(folder)}: {name}"
        for path in sources
        for name in _imported(ast.parse(path.read_text(encoding="utf-8")))
        if _forbidden(name)
    }
    assert not found, sorted(found)


def test_the_check_sees_every_form_of_import() -> None:
    for line in (
        "import sqlalchemy",
        "from sqlalchemy.orm import Session",
        "from hdops.store.orm import Answer",
        "from hdops.store import orm",
        "def f():\n    from sqlalchemy import select",
    ):
        assert any(_forbidden(n) for n in _imported(ast.parse(line))), line
    assert not any(_forbidden(n) for n in _imported(ast.parse("from hdops.store.db import Store")))
