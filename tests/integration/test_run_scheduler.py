"""`hdops run` wiring: the scheduler runs on the process's event loop with every
fixed job, and the weekly payouts job drafts through the payouts service."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from bots.runtime import bootstrap
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.store.db import Store
from hdops.store.orm import OutboxMessage, PayoutStatement, PayoutWeek
from schedules import jobs
from schedules.scheduler import STATIC_JOBS
from tests.helpers import add_items, contractor, make_project, ops, researcher
from tests.payout_data import answer


async def test_run_starts_the_scheduler_with_its_fixed_jobs(db_url: str, store: Store) -> None:
    settings = Settings(database_url=db_url, ops_tz="Europe/Berlin")
    runtime = bootstrap(settings, store, scheduler=True, with_metrics=True)
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


def test_weekly_payouts_job_drafts_last_week_through_the_service(store: Store) -> None:
    """The job, as APScheduler calls it, drafts last week's statements and queues
    each contractor's statement and the ops summary (no stand-in for the service)."""
    monday = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    with store.unit_of_work() as s:
        project = make_project(s)
        items = add_items(s, project, 2)
        answer(s, contractor(s, "alice"), items[0], monday + timedelta(hours=10))
        ops(s, "otto")
    clock = FakeClock(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    woken: list[bool] = []
    jobs.install(
        store, Settings(ops_tz="UTC"), clock=clock, after_commit=lambda: woken.append(True)
    )
    try:
        jobs.weekly_payouts()
        again = jobs.weekly_payouts()  # a second run drafts nothing new
    finally:
        jobs.uninstall()
    with store.unit_of_work() as s:
        assert s.scalars(select(PayoutWeek.week)).all() == ["2026-W10"]
        statement = s.scalars(select(PayoutStatement)).one()
        assert statement.total == Decimal("0.40") and statement.status == "draft"
        kinds = s.scalars(select(OutboxMessage.kind)).all()
    assert len(kinds) >= 2  # alice's statement and the ops summary
    assert woken == [True, True]
    assert again is not None


def test_quality_digest_job_tells_each_researcher_once_a_week(store: Store) -> None:
    """The Monday job, through the real service: rita and sam (the project's
    researchers) each get last week's digest once, a second run sends nothing, and
    nobody else gets it."""
    monday = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    with store.unit_of_work() as s:
        project = make_project(s, researchers=["console:rita", "console:sam"])
        items = add_items(s, project, 3)
        gold = add_items(s, project, 1, gold={"choice": "a"}, prefix="gold")
        alice, bob = contractor(s, "alice"), contractor(s, "bob")
        # (a,a) (b,b) (a,a) and the gold item (a,b): nominal alpha = 1 - 0.25/(30/56)
        labels = {(alice, 1): "b", (bob, 1): "b", (bob, 3): "b"}
        for n, item in enumerate(items + gold):
            for hour, who in ((10, alice), (11, bob)):
                given = answer(s, who, item, monday + timedelta(hours=hour))
                given.answer = {"choice": labels.get((who, n), "a")}
        rita, sam = researcher(s, "rita"), researcher(s, "sam")
        ops(s, "otto")
        readers = {rita.id, sam.id}
    clock = FakeClock(datetime(2026, 3, 9, 9, 30, tzinfo=UTC))
    jobs.install(store, Settings(ops_tz="UTC"), clock=clock, after_commit=lambda: None)
    try:
        first = jobs.quality_digest()
        again = jobs.quality_digest()
    finally:
        jobs.uninstall()
    assert (first, again) == (2, 0)
    with store.unit_of_work() as s:
        rows = s.scalars(select(OutboxMessage)).all()
        sent_to = {r.payload["target"]["person"] for r in rows}
        texts = [r.payload["message"]["text"] for r in rows]
    assert sent_to == readers
    assert all("Quality digest 2026-W10" in t for t in texts)
    assert all("Agreement (Krippendorff's alpha): 0.53." in t for t in texts)
    assert all("Gold accuracy: 50% (1 of 2)" in t for t in texts)  # bob's b on the gold a
    assert all("top 20 % of contractors gave 50% of the answers" in t for t in texts)
