"""Shift rules without a database: parsing, local time and DST, availability,
coverage, and the job plan the scheduler's sync works from."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hdops.domain import shifts as rules
from hdops.domain.weeks import IsoWeek, parse_week
from hdops.errors import InvalidInput
from hdops.services.scheduling import PlannedJob, ScheduledJob, apply_shift_jobs, plan_shift_jobs

LONDON = ZoneInfo("Europe/London")
MON = date(2026, 3, 2)


def test_time_ranges() -> None:
    assert rules.parse_time_range("09:00-13:00") == rules.TimeRange(540, 780)
    assert rules.parse_time_range("9:30–17:00").minutes == 450
    night = rules.parse_time_range("22:00-02:00")
    assert night.overnight and night.minutes == 240
    assert rules.parse_time_range("18:00-24:00").minutes == 360
    for bad in ("9-13", "09:00", "25:00-26:00", "09:00-09:00", "06:00-23:00"):
        with pytest.raises(InvalidInput):
            rules.parse_time_range(bad)


def test_dates_weeks_and_days() -> None:
    assert rules.parse_date("today", MON) == MON
    assert rules.parse_date("tomorrow", MON) == date(2026, 3, 3)
    assert rules.parse_date("mon", MON) == MON  # today included
    assert rules.parse_date("Sunday", MON) == date(2026, 3, 8)
    assert rules.parse_date("2026-12-01", MON) == date(2026, 12, 1)
    assert parse_week("next", date(2026, 3, 4)).monday() == date(2026, 3, 9)
    assert parse_week(None, date(2026, 3, 4)).monday() == MON  # shifts default to this week
    assert parse_week("2026-W14", MON).monday() == date(2026, 3, 30)
    assert str(IsoWeek.of(date(2026, 3, 30))) == "2026-W14"
    assert rules.parse_days("mon-fri") == [0, 1, 2, 3, 4]
    assert rules.parse_days("sat,sun") == [5, 6]
    assert rules.parse_days("fri-mon") == [0, 4, 5, 6]
    for bad_date in ("someday", "2026-02-30"):
        with pytest.raises(InvalidInput):
            rules.parse_date(bad_date, MON)
    with pytest.raises(InvalidInput):
        parse_week("2026-W60", MON)
    with pytest.raises(InvalidInput):
        rules.parse_days("weekdays")


def test_weekly_series_keeps_local_time_across_both_dst_changes() -> None:
    spring = rules.weekly(date(2026, 3, 23), rules.parse_time_range("09:00-10:00"), LONDON, 2)
    assert [s.astimezone(LONDON).hour for s, _ in spring] == [9, 9]
    assert [s.hour for s, _ in spring] == [9, 8]
    autumn = rules.weekly(date(2026, 10, 19), rules.parse_time_range("09:00-10:00"), LONDON, 2)
    assert [s.hour for s, _ in autumn] == [8, 9]
    with pytest.raises(InvalidInput):
        rules.weekly(MON, rules.parse_time_range("09:00-10:00"), LONDON, 0)


def test_nonexistent_and_repeated_local_times() -> None:
    # 01:30 does not exist on 2026-03-29 in London: it is read as 02:30 BST.
    skipped = rules.local_to_utc(date(2026, 3, 29), 90, LONDON)
    assert skipped == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert skipped.astimezone(LONDON).hour == 2
    # 01:30 happens twice on 2026-10-25: the first (BST) one is meant.
    assert rules.local_to_utc(date(2026, 10, 25), 90, LONDON) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_availability_windows() -> None:
    windows = [rules.Window(d, 9 * 60, 17 * 60, "Europe/London") for d in range(5)]
    start, end = rules.occurrence(MON, rules.parse_time_range("10:00-12:00"), LONDON)
    assert rules.within_availability(windows, start, end)
    start, end = rules.occurrence(MON, rules.parse_time_range("16:00-18:00"), LONDON)
    assert not rules.within_availability(windows, start, end)
    night = [rules.Window(0, 22 * 60, 2 * 60, "UTC")]
    start, end = rules.occurrence(MON, rules.parse_time_range("23:00-01:30"), ZoneInfo("UTC"))
    assert rules.within_availability(night, start, end)


def test_minutes_per_day_split_at_local_midnight() -> None:
    utc = ZoneInfo("UTC")
    shifts = [
        rules.occurrence(MON, rules.parse_time_range("09:00-13:00"), utc),
        rules.occurrence(MON, rules.parse_time_range("22:00-02:00"), utc),
    ]
    assert rules.minutes_per_day(shifts, MON, utc) == [360, 120, 0, 0, 0, 0, 0]


def _shift(**kw: Any) -> Any:
    base = {
        "id": 7,
        "revision": 0,
        "status": "scheduled",
        "role": "contractor",
        "starts_at": datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 3, 3, 13, 0, tzinfo=UTC),
        "created_at": datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
    }
    base.update(kw)
    return SimpleNamespace(**base)


def test_job_plan_of_a_shift() -> None:
    plan = {job.id: job for job in plan_shift_jobs(_shift())}
    assert sorted(plan) == [
        "shift:7:close",
        "shift:7:end",
        "shift:7:noshow",
        "shift:7:remind15",
        "shift:7:remind24h",
        "shift:7:start",
    ]
    assert plan["shift:7:remind15"].func == "schedules.jobs:shift_reminder"
    assert plan["shift:7:remind15"].grace == timedelta(minutes=10)
    assert plan["shift:7:start"].grace == timedelta(hours=4)
    assert plan["shift:7:close"].grace is None
    assert plan["shift:7:noshow"].kwargs == {"shift_id": 7, "revision": 0, "kind": "noshow"}
    researcher = {job.id for job in plan_shift_jobs(_shift(role="researcher"))}
    assert "shift:7:noshow" not in researcher
    late = {
        job.id for job in plan_shift_jobs(_shift(created_at=datetime(2026, 3, 3, 8, 0, tzinfo=UTC)))
    }
    assert "shift:7:remind24h" not in late  # told when it was created


class Jobs:
    def __init__(self) -> None:
        self.held: dict[str, PlannedJob] = {}
        self.calls: list[str] = []

    def put(self, job: PlannedJob) -> None:
        self.held[job.id] = job
        self.calls.append(f"put {job.id}")

    def remove(self, job_id: str) -> None:
        self.held.pop(job_id, None)
        self.calls.append(f"remove {job_id}")

    def scheduled(self, prefix: str) -> dict[str, ScheduledJob]:
        return {k: ScheduledJob(k, j.run_at, j.kwargs) for k, j in self.held.items()}


def test_apply_adds_replaces_only_what_changed_and_removes_the_rest() -> None:
    jobs = Jobs()
    first = plan_shift_jobs(_shift())
    apply_shift_jobs(jobs, jobs.scheduled(""), first, [])
    assert len(jobs.calls) == 6
    jobs.calls.clear()
    result = apply_shift_jobs(jobs, jobs.scheduled(""), first, [])
    assert jobs.calls == [] and not (result.added or result.replaced or result.removed)
    moved = plan_shift_jobs(_shift(revision=1, starts_at=datetime(2026, 3, 3, 10, 0, tzinfo=UTC)))
    result = apply_shift_jobs(jobs, jobs.scheduled(""), moved, [])
    assert len(result.replaced) == 6
    result = apply_shift_jobs(jobs, jobs.scheduled(""), [], [])  # cancelled
    assert len(result.removed) == 6 and jobs.held == {}
