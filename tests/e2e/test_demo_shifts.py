"""`hdops demo` runs a week of shifts: ops schedule it in chat, the scheduled jobs
remind, start shifts with a task and report the one contractor who never came."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from demo.simulation import DemoResult, run_demo
from hdops.store.db import Store
from hdops.store.orm import OutboxMessage, Shift, TimeEntry


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(3, tmp_path_factory.mktemp("demo-shifts") / "out", hours=1.0)


def test_demo_week_of_shifts(result: DemoResult) -> None:
    shifts = result.figures.shifts
    assert shifts is not None
    figures = shifts.week
    assert figures.week == "2026-W10"
    assert figures.shifts >= 8 * 4  # eight contractors, four or five weekdays each
    assert figures.reminders_15 == 8 and figures.started == 8
    assert shifts.pushed_at_start >= 1
    assert len(figures.no_shows) == 1
    assert "Shifts 2026-W10 (scheduled contractor-hours)" in result.report_text

    transcript = (result.out_dir / "transcript.txt").read_text(encoding="utf-8")
    assert "olga: /hdops shift add @alice 2026-03-02" in transcript
    assert "Reminder: your shift starts in 15 minutes" in transcript
    assert "Your shift has started" in transcript and "Your first task is below" in transcript
    assert transcript.count("bot → ops: == No-show ==") == 1
    assert f"No-show: {figures.no_shows[0]} has not checked in 10 min" in transcript

    store = Store.from_url(f"sqlite:///{result.out_dir / 'hdops-demo.db'}")
    try:
        with store.unit_of_work() as s:
            assert s.scalar(select(func.count(Shift.id))) == figures.shifts
            assert s.scalar(select(func.count(Shift.id)).where(Shift.status == "no_show")) == 1
            reminded = s.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.dedupe_key.like("job:shift:%:remind15")
                )
            )
            assert reminded == 8
            open_entries = s.scalar(
                select(func.count(TimeEntry.id)).where(TimeEntry.ended_at.is_(None))
            )
            assert open_entries == 0  # everyone checked out at the end of the day
    finally:
        store.dispose()
