"""`hdops payouts …` end to end on the test database: show, adjust, approve, export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from hdops.cli.main import app
from hdops.clock import utcnow
from hdops.domain.weeks import IsoWeek
from hdops.services import disputes
from hdops.services.people import get_person
from hdops.store.db import Store
from hdops.store.orm import AuditEntry, PayoutLine, PayoutStatement
from tests.helpers import add_items, contractor, make_project, ops
from tests.payout_data import answer


@pytest.fixture
def hdops(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    monkeypatch.setenv("HDOPS_OPS_TZ", "UTC")
    monkeypatch.delenv("HDOPS_MIN_HOURLY", raising=False)
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    yield run


@pytest.fixture
def last_week(store: Store) -> IsoWeek:
    """Answers in last week (by the real clock the CLI uses) by alice and a contractor
    whose display name is a spreadsheet formula."""
    week = IsoWeek.containing(utcnow(), "UTC").shift(-1)
    at = week.start("UTC") + timedelta(days=2)
    with store.unit_of_work() as s:
        p = make_project(s)
        items = add_items(s, p, 3)
        alice = contractor(s, "alice")
        evil = contractor(s, "mallory", display_name='=HYPERLINK("http://x","y")')
        ops(s, "otto")
        answer(s, alice, items[0], at)
        answer(s, alice, items[1], at + timedelta(hours=1))
        answer(s, evil, items[2], at, status="rejected", reason="+cmd|' /C calc'!A0")
    return week


def test_show_adjust_approve_export(
    hdops: Any, last_week: IsoWeek, tmp_path: Path, store: Store
) -> None:
    week = str(last_week)
    data = json.loads(hdops("payouts", "show", "--week", "last", "--json").stdout)
    assert data["week"] == week and data["status"] == "draft"
    assert data["totals"] == {"USD": "0.80"}
    alice = next(s for s in data["statements"] if s["person"] == "alice")
    assert alice["total"] == "0.80" and alice["tasks"] == 2
    assert isinstance(alice["total"], str)  # exact decimal strings for scripts, never floats

    # a negative amount is an argument, not an option
    adj = json.loads(
        hdops(
            "payouts", "adjust", "alice", "-0.30", "--reason", "duplicate", "--week", week, "--json"
        ).stdout
    )
    assert adj["amount"] == "-0.30" and adj["week"] == week
    bad = hdops("payouts", "adjust", "alice", "1.005", "--reason", "x", ok=False)
    assert bad.exit_code == 2 and "2 decimal places" in bad.stderr

    # export refuses a draft unless asked for a preview
    out = tmp_path / "pay.csv"
    refused = hdops("payouts", "export", "--week", week, "--out", str(out), ok=False)
    assert refused.exit_code == 1 and "not approved" in refused.stderr

    # nobody has seen the statements since the adjustment: approve shows them instead
    unseen = hdops("payouts", "approve", "--week", week, "--json", ok=False)
    assert unseen.exit_code == 3 and "changed since they were last shown" in unseen.stderr
    shown = json.loads(unseen.stdout)
    assert shown["result"] == "changed" and shown["totals"] == {"USD": "0.50"}
    assert shown["status"] == "draft"
    approved = json.loads(hdops("payouts", "approve", "--week", week, "--json").stdout)
    assert approved["result"] == "approved" and approved["totals"] == {"USD": "0.50"}
    again = json.loads(hdops("payouts", "approve", "--week", week, "--json").stdout)
    assert again["result"] == "already"
    late = hdops("payouts", "adjust", "alice", "5", "--reason", "late", "--week", week, ok=False)
    assert late.exit_code == 1 and "approved" in late.stderr

    summary = json.loads(
        hdops("payouts", "export", "--week", week, "--out", str(out), "--json").stdout
    )
    assert summary["rows"] == 3 and summary["status"] == "approved"
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["amount"] for r in rows if r["person"] == "alice"] == ["0.80", "-0.30"]
    evil = next(r for r in rows if r["person"] == "mallory")
    assert evil["display_name"].startswith("'=")  # neutralised, shown as text
    assert evil["description"].startswith("helpful-pairs: 1 rejected answer")
    assert "reason: +cmd" in evil["description"] and evil["amount"] == "0.00"
    for row in rows:
        for name in ("person", "display_name", "description", "project"):
            assert not row[name].startswith(("=", "+", "-", "@", "\t", "\r")), row
    total = sum(Decimal(r["amount"]) for r in rows)
    assert total == Decimal("0.50")

    with store.unit_of_work() as s:
        assert {st.status for st in s.scalars(select(PayoutStatement))} == {"approved"}
        actions = {e.action: e for e in s.scalars(select(AuditEntry))}
        assert actions["payout.approve"].details["via"] == "cli"
        assert actions["payout.approve"].details["os_user"]
        assert actions["payout.adjust"].details["amount"] == "-0.30"


def test_approve_warns_below_floor_and_needs_force(
    hdops: Any, last_week: IsoWeek, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HDOPS_MIN_HOURLY", "100.00")
    week = str(last_week)
    hdops("payouts", "show", "--week", week)
    warned = hdops("payouts", "approve", "--week", week, "--as", "otto", ok=False)
    assert warned.exit_code == 3
    assert "below the floor of 100.00" in warned.stderr and "--force" in warned.stderr
    done = hdops("payouts", "approve", "--week", week, "--as", "otto", "--force")
    assert "approved" in done.stdout
    refused = hdops("payouts", "approve", "--week", week, "--as", "alice", ok=False)
    assert "Only ops" in refused.stderr


def test_show_one_person_and_help(hdops: Any, last_week: IsoWeek) -> None:
    shown = hdops("payouts", "show", "--person", "alice")
    assert "alice" in shown.stdout and "mallory" not in shown.stdout
    for sub in ("show", "approve", "export", "adjust", "disputes", "resolve"):
        assert "--" in hdops("payouts", sub, "--help").stdout
    assert json.loads(hdops("payouts", "disputes", "--json").stdout) == []


def test_show_lists_open_disputes(hdops: Any, last_week: IsoWeek, store: Store) -> None:
    """`payouts show` ends with the week's open disputes, so ops see what is
    contested before approving (the lines were unreachable after a refactor)."""
    hdops("payouts", "show", "--week", "last")  # drafts the week
    with store.unit_of_work() as s:
        alice = get_person(s, "alice")
        line_id = s.scalars(
            select(PayoutLine.id)
            .join(PayoutStatement, PayoutStatement.id == PayoutLine.statement_id)
            .where(PayoutStatement.person_id == alice.id)
        ).first()
        assert line_id is not None
        opened = disputes.open_dispute(s, alice, line_id, "I answered three, not two", utcnow())
    shown = hdops("payouts", "show", "--week", "last").stdout
    assert f"open dispute #{opened.id} by alice" in shown
    assert "I answered three, not two" in shown
