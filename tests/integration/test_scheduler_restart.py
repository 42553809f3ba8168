"""The real scheduler (APScheduler + SQLAlchemyJobStore in the hdops database)
across restarts, on a controllable clock.

A "process" here is everything `hdops run` builds for scheduling: its own Store
(engine) and its own `SchedulerService` with an `AsyncIOScheduler` on the event
loop. Stopping one and starting another on the same database is a restart: all
that survives is what the database holds (the shifts, the outbox, the job store).

APScheduler reads the wall clock itself; the `time_travel` fixture points those
reads at the test's FakeClock, and the test wakes the scheduler after moving it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from sqlalchemy import select

from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.services.shifts import add_shifts
from hdops.store.db import Store
from hdops.store.orm import OutboxMessage
from schedules.scheduler import STATIC_JOBS, SYNC_JOB, SchedulerService
from tests.helpers import T0, contractor

TUE_9 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
REMIND = TUE_9 - timedelta(minutes=15)  # 08:45
REMINDER_JOB = "shift:1:remind15"


_CLOCK = FakeClock(T0)


class TravelledDatetime(datetime):
    """`datetime` whose `now()` is the test's clock. Module level, so the triggers
    APScheduler pickles into its job store (which may hold one) can be unpickled."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        now = _CLOCK.now()
        return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """APScheduler's own `datetime.now()` reads the fake clock too."""
    fake = FakeClock(T0)
    monkeypatch.setattr(f"{__name__}._CLOCK", fake)
    for module in (
        "apscheduler.schedulers.base",
        "apscheduler.executors.base",
        "apscheduler.triggers.interval",
    ):
        monkeypatch.setattr(f"{module}.datetime", TravelledDatetime)
    yield fake


class Process:
    """One scheduler process on the shared database."""

    def __init__(self, db_url: str, clock: FakeClock) -> None:
        self.store = Store.from_url(db_url)
        sync_only = tuple(job for job in STATIC_JOBS if job.id == SYNC_JOB)
        self.service = SchedulerService(self.store, Settings(), clock=clock, static_jobs=sync_only)
        self.events: list[JobExecutionEvent] = []

    async def start(self) -> None:
        aps = self.service.start()
        # Jobs are processed on the loop's next turn, so no event is missed here.
        aps.add_listener(
            self.events.append, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR
        )
        await self.until(lambda: self.ran(SYNC_JOB) >= 1)

    def ran(self, job_id: str, code: int = EVENT_JOB_EXECUTED) -> int:
        return sum(1 for e in self.events if e.job_id == job_id and e.code == code)

    async def until(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        for _ in range(int(timeout / 0.02)):
            errors = [e for e in self.events if e.code == EVENT_JOB_ERROR]
            assert not errors, errors[0].exception
            if done():
                await asyncio.sleep(0.05)  # let the job's commit and bookkeeping finish
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the scheduler did not get there in time")

    async def wake(self) -> None:
        assert self.service.aps is not None
        self.service.aps.wakeup()
        await asyncio.sleep(0.1)

    def held(self) -> set[str]:
        assert self.service.aps is not None
        return {job.id for job in self.service.aps.get_jobs()}

    async def stop(self) -> None:
        self.service.shutdown()
        await asyncio.sleep(0.05)
        self.store.dispose()


def schedule_tuesday_shift(db_url: str) -> None:
    store = Store.from_url(db_url)
    try:
        with store.unit_of_work() as s:
            alice = contractor(s, "alice")
            add_shifts(s, alice, "2026-03-03", "09:00-13:00", settings=Settings(), now=T0)
    finally:
        store.dispose()


def reminders(db_url: str) -> list[OutboxMessage]:
    store = Store.from_url(db_url)
    try:
        with store.unit_of_work() as s:
            return list(
                s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("%:remind15")))
            )
    finally:
        store.dispose()


async def test_restart_before_the_reminder_fires_it_exactly_once(
    db_url: str, clock: FakeClock
) -> None:
    schedule_tuesday_shift(db_url)
    first = Process(db_url, clock)
    await first.start()
    assert REMINDER_JOB in first.held()  # planned from the database, stored in it
    await first.stop()

    clock.set(REMIND - timedelta(minutes=5))  # down for a day, back before 08:45
    second = Process(db_url, clock)
    await second.start()
    assert REMINDER_JOB in second.held()
    assert reminders(db_url) == []
    clock.set(REMIND + timedelta(seconds=1))
    await second.wake()
    await second.until(lambda: second.ran(REMINDER_JOB) == 1)
    clock.set(REMIND + timedelta(minutes=3))
    await second.wake()
    second.service.nudge()  # a sync right after the run re-adds nothing
    await second.until(lambda: second.ran(SYNC_JOB) >= 2)
    assert REMINDER_JOB not in second.held()
    await second.stop()
    sent = reminders(db_url)
    assert len(sent) == 1 and sent[0].created_at == REMIND + timedelta(seconds=1)


async def test_down_across_the_reminder_within_grace_fires_once_late(
    db_url: str, clock: FakeClock
) -> None:
    schedule_tuesday_shift(db_url)
    first = Process(db_url, clock)
    await first.start()
    await first.stop()

    late = REMIND + timedelta(minutes=6)  # grace of the 15-minute reminder: 10 min
    clock.set(late)
    second = Process(db_url, clock)
    await second.start()
    await second.until(lambda: second.ran(REMINDER_JOB) == 1)
    await second.stop()

    third = Process(db_url, clock)  # and another restart right away: nothing again
    await third.start()
    assert third.ran(REMINDER_JOB) == 0 and REMINDER_JOB not in third.held()
    await third.stop()
    sent = reminders(db_url)
    assert len(sent) == 1 and sent[0].created_at == late


async def test_down_beyond_the_grace_skips_and_logs(
    db_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    schedule_tuesday_shift(db_url)
    first = Process(db_url, clock)
    await first.start()
    await first.stop()

    clock.set(REMIND + timedelta(minutes=11))
    second = Process(db_url, clock)
    await second.start()
    await second.until(lambda: second.ran(REMINDER_JOB, EVENT_JOB_MISSED) == 1)
    second.service.nudge()
    await second.until(lambda: second.ran(SYNC_JOB) >= 2)
    assert REMINDER_JOB not in second.held()  # the sync does not bring it back
    assert "shift:1:start" in second.held()  # the rest of the shift goes on
    await second.stop()
    assert reminders(db_url) == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("shift:1:remind15" in m and "was missed by" in m for m in messages)
    assert any(
        "scheduled job shift:1:remind15" in m and "missed its misfire grace: skipped" in m
        for m in messages
    )
