"""`hdops run` wiring: the scheduler runs on the process's event loop with every
fixed job, and the weekly payouts job reaches the payouts service when built."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from bots.run import build_runtime
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.store.db import Store
from schedules import jobs
from schedules.scheduler import STATIC_JOBS


async def test_run_starts_the_scheduler_with_its_fixed_jobs(db_url: str, store: Store) -> None:
    settings = Settings(database_url=db_url, ops_tz="Europe/Berlin")
    runtime = build_runtime(store, settings)
    assert runtime.scheduler is not None
    assert runtime.health()["scheduler"] == "standby"
    task = asyncio.create_task(runtime.scheduler.run())
    try:
        for _ in range(200):
            if runtime.scheduler.running:
                break
            await asyncio.sleep(0.02)
        assert runtime.health()["scheduler"] == "leader"
        aps = runtime.scheduler.aps
        assert aps is not None
        held = {job.id: job for job in aps.get_jobs()}
        assert {spec.id for spec in STATIC_JOBS} <= set(held)
        payouts = held["hdops:weekly_payouts"]
        assert payouts.func_ref == "schedules.jobs:weekly_payouts"
        assert str(payouts.trigger) == "cron[day_of_week='mon', hour='9', minute='0']"
        assert str(payouts.trigger.timezone) == "Europe/Berlin"
        assert payouts.misfire_grace_time == 2 * 24 * 3600 and payouts.coalesce
        assert held["hdops:sweep"].func_ref == "schedules.jobs:sweep"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.05)
    assert not runtime.scheduler.running


def test_weekly_payouts_job_runs_the_payouts_service(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    jobs.install(store, Settings(), clock=clock)
    try:
        import hdops.services.payouts as payouts

        calls: list[datetime] = []

        def fake_run(session: object, now: datetime, settings: Settings | None = None) -> str:
            calls.append(now)
            return "drafted"

        monkeypatch.setattr(payouts, "run_weekly_payouts", fake_run)
        assert jobs.weekly_payouts() == "drafted" and calls == [clock.now()]
        monkeypatch.delattr(payouts, "run_weekly_payouts")
        caplog.set_level(logging.WARNING)
        assert jobs.weekly_payouts() is None
        assert "payouts not available" in caplog.text
    finally:
        jobs.uninstall()
