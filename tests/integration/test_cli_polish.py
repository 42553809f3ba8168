"""Issue 10, point 13 on the CLI: `coverage --chart` says where the PNG is, and
`person list` never cuts or breaks a word, whatever the terminal's width."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from hdops.cli.common import out


def test_coverage_chart_says_where_it_was_written(
    hdops: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = hdops("coverage", "--chart", "cov.png").stdout
    written = tmp_path / "cov.png"
    assert written.read_bytes().startswith(b"\x89PNG")
    assert f"chart written to {written.resolve()}" in text
    data = json.loads(hdops("coverage", "--chart", "again.png", "--json").stdout)
    assert data["chart"] == str((tmp_path / "again.png").resolve())


WORDS = (
    "bartholomew-longname",
    "slack:U0BARTHOLOMEW",
    "discord:123456789012345678",
    "console:bartholomew",
    "America/Argentina/Buenos_Aires",
    "cardiothoracic-surgery",
    "radiology-imaging",
    "18.50",
)


@pytest.mark.parametrize("width", [200, 80, 50, 30])
def test_person_list_never_breaks_a_word(
    hdops: Any, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    hdops(
        "person", "add", "bartholomew-longname", "--slack", "U0BARTHOLOMEW",
        "--discord", "123456789012345678", "--console", "bartholomew", "--role", "contractor",
        "--role", "ops", "--tz", "America/Argentina/Buenos_Aires", "--hourly-rate", "18.5",
        "--skills", "cardiothoracic-surgery,radiology-imaging",
    )  # fmt: skip
    hdops("person", "add", "rita", "--slack", "U0RES1", "--role", "researcher")
    monkeypatch.setattr(out, "width", width)
    text = hdops("person", "list").stdout
    assert "…" not in text
    tokens = set(re.findall(r"[^\s,│]+", text))
    for word in WORDS:
        assert word in tokens, (word, text)
    assert "18.50 USD" in text
    if width >= 200:
        assert "identities" in text.splitlines()[1]  # the table when it fits
