"""Issue 10, point 10 on the CLI: the same rate is printed the same way wherever it
appears (0.40, never 0.4 or 0.4000), in tables, JSON and CSV, and the hours line of
a statement adds up with the numbers it shows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hdops.cli.main import app
from hdops.clock import utcnow
from hdops.domain.weeks import IsoWeek
from hdops.store.db import Store
from tests.helpers import add_items, contractor, make_project
from tests.payout_data import answer, check_in


@pytest.fixture
def hdops(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    monkeypatch.setenv("HDOPS_OPS_TZ", "UTC")
    monkeypatch.delenv("HDOPS_MIN_HOURLY", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    yield run


def test_rates_and_hours_print_the_same_everywhere(
    hdops: Any, store: Store, tmp_path: Path
) -> None:
    week = IsoWeek.containing(utcnow(), "UTC").shift(-1)
    at = week.start("UTC") + timedelta(days=2)
    with store.unit_of_work() as s:
        items = add_items(s, make_project(s), 2)
        alice = contractor(s, "alice", hourly_rate="12")
        answer(s, alice, items[0], at)
        answer(s, alice, items[1], at + timedelta(hours=1))
        check_in(s, alice, at, at + timedelta(seconds=198), "12")  # 0.055 h

    project = json.loads(hdops("project", "show", "helpful-pairs", "--json").stdout)
    assert project["pay"] == {"per_task": "0.40", "currency": "USD"}
    assert "0.40 USD per task" in hdops("project", "show", "helpful-pairs").stdout
    people = json.loads(hdops("person", "list", "--json").stdout)
    assert people[0]["hourly_rate"] == "12.00"

    data = json.loads(hdops("payouts", "show", "--week", str(week), "--json").stdout)
    lines = {line["kind"]: line for line in data["statements"][0]["lines"]}
    assert lines["tasks"]["unit_amount"] == "0.40" and lines["tasks"]["quantity"] == "2"
    assert "× 0.40" in lines["tasks"]["description"]
    hours = lines["hours"]
    assert hours["description"] == "0.06 h checked in × 12.00/h"
    assert (hours["quantity"], hours["unit_amount"], hours["amount"]) == ("0.06", "12.00", "0.72")
    assert data["statements"][0]["hours"] == "0.06"

    text = hdops("payouts", "show", "--week", str(week), "--person", "alice").stdout
    assert "0.40" in text and "0.4000" not in text and " 0.4 " not in text

    out = tmp_path / "pay.csv"
    hdops("payouts", "export", "--week", str(week), "--out", str(out), "--include-draft")
    with out.open(encoding="utf-8", newline="") as fh:
        rows = {r["kind"]: r for r in csv.DictReader(fh)}
    assert rows["tasks"]["unit_amount"] == "0.40" and rows["tasks"]["amount"] == "0.80"
    assert (rows["hours"]["quantity"], rows["hours"]["unit_amount"]) == ("0.06", "12.00")
    assert Decimal(rows["hours"]["quantity"]) * Decimal(rows["hours"]["unit_amount"]) == Decimal(
        rows["hours"]["amount"]
    )
