"""`hdops demo` ends with the Monday payout job: its summary agrees with the database."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from demo.simulation import DemoResult, run_demo
from hdops.store.db import Store
from hdops.store.orm import Answer, PayoutStatement

HOURS = 0.5


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, DemoResult]:
    base = tmp_path_factory.mktemp("demo-pay")
    return run_demo(7, base / "a", hours=HOURS), run_demo(7, base / "b", hours=HOURS)


def test_demo_report_shows_the_weeks_payouts(demo: tuple[DemoResult, DemoResult]) -> None:
    result, again = demo
    pay = result.figures.payouts
    assert pay is not None and pay.week == "2026-W10" and pay.status == "draft"
    assert "Payouts 2026-W10 (Mon 2 Mar – Sun 8 Mar 2026)" in result.report_text
    assert pay.statements_sent == len(pay.rows) and pay.summary_posted
    assert pay.chart is not None and pay.chart.read_bytes().startswith(b"\x89PNG")

    store = Store.from_url(f"sqlite:///{result.out_dir / 'hdops-demo.db'}")
    try:
        with store.unit_of_work() as s:
            accepted = s.scalar(select(func.count(Answer.id)).where(Answer.status == "accepted"))
            paid = s.scalar(select(func.sum(PayoutStatement.total)))
            tasks = s.scalar(select(func.sum(PayoutStatement.tasks)))
            rates = set(s.scalars(select(Answer.pay_rate)))
    finally:
        store.dispose()
    assert tasks == accepted == sum(r.tasks for r in pay.rows)
    assert rates == {Decimal("0.40")} and paid == Decimal("0.40") * (accepted or 0)
    assert pay.totals == [f"{paid:,.2f} USD"]

    transcript = (result.out_dir / "transcript.txt").read_text(encoding="utf-8")
    assert "bot → ops: == Payouts 2026-W10" in transcript
    assert transcript.count("== Your statement 2026-W10") == len(pay.rows)

    # the same seed gives the same report, payouts and chart included
    assert again.report_text == result.report_text
    assert again.figures.payouts is not None and again.figures.payouts.chart is not None
    assert Path(again.figures.payouts.chart).read_bytes() == pay.chart.read_bytes()
