"""`hdops shift|shifts|coverage|availability` on the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hdops.cli.main import app

DAY = date(2031, 1, 7)  # a Tuesday well after any clock this runs on
WEEK = "{}-W{:02d}".format(*DAY.isocalendar()[:2])


@pytest.fixture
def hdops(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    monkeypatch.setenv("HDOPS_OPS_TZ", "Europe/London")
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    yield run


def test_shift_commands_from_the_cli(hdops: Any, tmp_path: Path) -> None:
    hdops("person", "add", "alice", "--console", "alice", "--role", "contractor")
    hdops("person", "add", "bob", "--console", "bob", "--role", "contractor", "--tz", "Asia/Tokyo")
    added = hdops("shift", "add", "alice", DAY.isoformat(), "09:00-13:00", "--weekly", "2")
    assert "Scheduled 2 weekly shifts for alice, #1–#2" in added.stdout
    assert "Europe/London" in added.stdout
    clash = hdops("shift", "add", "alice", DAY.isoformat(), "12:00-14:00", ok=False)
    assert clash.exit_code == 1 and "clashes with alice's shift #1" in clash.stderr
    hdops("availability", "add", "bob", "mon-fri", "09:00-17:00")
    warned = hdops("shift", "add", "bob", DAY.isoformat(), "09:00-13:00")
    assert "outside bob's declared availability" in warned.stdout  # 18:00 in Tokyo
    assert "tue  09:00-17:00  Asia/Tokyo" in hdops("availability", "list", "bob").stdout

    listing = hdops("shift", "list", "--week", WEEK).stdout
    assert "alice" in listing and "bob" in listing and "09:00–13:00" in listing
    rows = json.loads(hdops("shift", "list", "alice", "--week", WEEK, "--json").stdout)
    assert [r["id"] for r in rows] == [1] and rows[0]["status"] == "scheduled"

    assert (
        "Moved shift #3 of bob"
        in hdops("shift", "move", "3", DAY.isoformat(), "01:00-05:00").stdout
    )
    assert "Cancelled shift #2" in hdops("shift", "cancel", "2").stdout
    assert "no shift #9" in hdops("shift", "cancel", "9", ok=False).stderr

    coverage = json.loads(hdops("coverage", "--week", WEEK, "--json").stdout)
    tuesday = next(d for d in coverage["days"] if d["day"] == DAY.isoformat())
    assert tuesday == {"day": DAY.isoformat(), "hours": 8.0, "shifts": 2}
    assert coverage["target_hours"] == 8.0 and len(coverage["gaps"]) == 6
    chart = tmp_path / "coverage.png"
    text = hdops("coverage", "--week", WEEK, "--chart", str(chart)).stdout
    assert "Gaps:" in text and chart.read_bytes().startswith(b"\x89PNG")

    feed = hdops("shifts", "ics", "--person", "alice").stdout
    assert feed.startswith("BEGIN:VCALENDAR") and feed.count("BEGIN:VEVENT") == 2
    ics = tmp_path / "alice.ics"
    hdops("shifts", "ics", "--person", "alice", "--out", str(ics))
    assert b"STATUS:CANCELLED" in ics.read_bytes()
    assert "Cleared 5" in hdops("availability", "clear", "bob").stdout


def test_shift_help(hdops: Any) -> None:
    for args in (["shift", "--help"], ["shift", "add", "--help"], ["shifts", "ics", "--help"]):
        assert hdops(*args).exit_code == 0
    assert "--weekly" in hdops("shift", "add", "--help").stdout
