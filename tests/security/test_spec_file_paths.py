"""Issue 11 point 7: a spec's `instructions:` file must lie inside the spec's folder.

Instructions are shown to every contractor on the project, so a spec naming
`../secret_area/leak.md`, an absolute path or a symlink out of its folder would
publish whatever the ops machine can read. Each is one clear problem; nothing is
created.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from hdops.cli.main import app
from hdops.domain.projects import load_project_spec, parse_project_spec
from hdops.errors import InvalidInput

SECRET = "TOP-SECRET-PAYROLL-KEY"


def _spec(instructions: str) -> dict[str, Any]:
    return {
        "name": "leaky",
        "title": "Leaky",
        "task": {"type": "pairwise", "fields": ["prompt", "response_a", "response_b"]},
        "instructions": instructions,
        "pay": {"per_task": "0.40", "currency": "USD"},
    }


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[Path]:
    """tmp/secret_area/leak.md (outside) and tmp/project/ (the spec's folder)."""
    (tmp_path / "secret_area").mkdir()
    (tmp_path / "secret_area" / "leak.md").write_text(SECRET, encoding="utf-8")
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "guide.md").write_text("# Guide\nBe kind.\n", encoding="utf-8")
    yield project


def _write(project: Path, instructions: str) -> Path:
    path = project / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec(instructions)), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        load_project_spec(path)
    assert SECRET not in str(info.value) + " ".join(info.value.problems)
    return info.value.problems


def test_a_file_in_a_subfolder_of_the_spec_is_read(layout: Path) -> None:
    assert load_project_spec(_write(layout, "docs/guide.md")).instructions.startswith("# Guide")


@pytest.mark.parametrize("name", ["../secret_area/leak.md", "docs/../../secret_area/leak.md"])
def test_a_relative_path_out_of_the_folder_is_refused(layout: Path, name: str) -> None:
    assert _problems(_write(layout, name)) == [f"instructions: {name} is outside the spec's folder"]


def test_an_absolute_path_is_refused(layout: Path) -> None:
    name = str(layout.parent / "secret_area" / "leak.md")
    assert _problems(_write(layout, name)) == [
        f"instructions: {name} must be a path relative to the spec's folder"
    ]


def test_a_symlink_out_of_the_folder_is_refused(layout: Path) -> None:
    os.symlink(layout.parent / "secret_area" / "leak.md", layout / "docs" / "link.md")
    assert _problems(_write(layout, "docs/link.md")) == [
        "instructions: docs/link.md is outside the spec's folder"
    ]


def test_a_spec_not_read_from_a_file_reads_no_file(layout: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(layout.parent / "secret_area")
    with pytest.raises(InvalidInput) as info:
        parse_project_spec(_spec("leak.md"))
    assert info.value.problems == [
        "instructions: leak.md is a file path, but this spec was not read from a file"
    ]


def test_the_cli_creates_nothing_and_says_one_line(
    layout: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    runner = CliRunner()
    spec = _write(layout, "../secret_area/leak.md")
    result = runner.invoke(app, ["project", "create", str(spec)])
    assert result.exit_code != 0
    assert SECRET not in result.stdout + result.stderr
    assert "outside the spec's folder" in result.stderr
    listed = runner.invoke(app, ["project", "list", "--json"])
    assert listed.exit_code == 0, listed.stderr
    assert "leaky" not in listed.stdout
