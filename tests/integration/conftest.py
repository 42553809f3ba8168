"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hdops.cli.main import app


@pytest.fixture
def hdops(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Run `hdops ARGS…` against the test database; returns the typer Result."""
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    yield run
