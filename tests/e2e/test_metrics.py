"""GET /metrics of `hdops run` (Slack HTTP mode): every series from the first scrape,
then moving as alice works — on the real bolt app, outbox, scheduler and store."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import aiohttp

from bots import metrics
from bots.metrics import NextTaskLatency
from bots.runtime import bootstrap
from hdops import intents
from hdops.chat import Message
from hdops.config import Settings
from hdops.services.delivery import Delivered
from hdops.services.people import add_person
from hdops.store.db import Store
from tests.e2e.slack_system import SlackWorld, slack_world
from tests.fakes.slack.server import FakeSlack

pytest_plugins = ["tests.fakes.slack.fixtures"]  # the fake_slack fixture


async def scrape(w: SlackWorld) -> str:
    base = (w.fake.app_url or "").rsplit("/slack/events", 1)[0]
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return await resp.text()


def sample(text: str, series: str) -> float:
    """The value of one exposed series, e.g. `hdops_outbox_depth`."""
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"{series} not exposed"
    return float(found.group(1))


EVERY_SERIES_FROM_THE_START = [
    'hdops_events_total{kind="command",platform="slack"}',
    'hdops_events_total{kind="action",platform="slack"}',
    'hdops_events_total{kind="view_submission",platform="slack"}',
    'hdops_events_total{kind="thread_reply",platform="slack"}',
    'hdops_event_errors_total{kind="action",platform="slack"}',
    'hdops_events_unreadable_total{kind="command",platform="slack"}',
    "hdops_click_to_next_task_seconds_count",
    'hdops_click_to_next_task_seconds_bucket{le="1.0"}',
    'hdops_scheduler_lag_seconds_count{job="hdops:sweep"}',
    'hdops_scheduler_lag_seconds_count{job="shift:remind15"}',
    'hdops_scheduled_job_errors_total{job="hdops:weekly_payouts"}',
    'hdops_scheduled_jobs_missed_total{job="shift:start"}',
    "hdops_outbox_sent_total",
    "hdops_outbox_failed_total",
    "hdops_outbox_depth",
    "hdops_outbox_oldest_pending_age_seconds",
    "hdops_outbox_failed_messages",
    "hdops_clarifications_open",
    "hdops_clarifications_oldest_open_age_seconds",
    "hdops_answers_stored_total",
    "hdops_store_up",
    "process_resident_memory_bytes",
]


async def test_every_series_is_there_before_the_first_event_and_moves_with_the_work(
    store: Store, fake_slack: FakeSlack
) -> None:
    async with slack_world(store, fake_slack, "http") as w:
        first = await scrape(w)
        for series in EVERY_SERIES_FROM_THE_START:
            sample(first, series)
        for series in (
            "hdops_outbox_depth",
            "hdops_clarifications_open",
            "hdops_answers_stored_total",
            "hdops_outbox_oldest_pending_age_seconds",
        ):
            assert sample(first, series) == 0.0, series
        assert sample(first, "hdops_store_up") == 1.0
        clicks = sample(first, "hdops_click_to_next_task_seconds_count")
        actions = sample(first, 'hdops_events_total{kind="action",platform="slack"}')

        # Alice takes a task and answers it: one click that brings her next task.
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        await fake_slack.click_button(w.alice, task, "A is better")
        await w.settle()
        after = await scrape(w)
        assert sample(after, "hdops_answers_stored_total") == 1.0
        assert sample(after, 'hdops_events_total{kind="action",platform="slack"}') == actions + 1
        assert sample(after, "hdops_click_to_next_task_seconds_count") == clicks + 1
        assert sample(after, "hdops_outbox_sent_total") >= 3  # task, recorded edit, next task

        # A question stays open; a message nobody can receive yet waits in the outbox.
        await fake_slack.slash_command(w.alice, "/hdops", "ask which one is first?")
        with store.unit_of_work() as s:
            zed = add_person(s, "zed", identities=["discord:42"], roles=["contractor"])
            an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
            intents.dm(s, zed.id, Message(text="hello"), an_hour_ago)
        await w.settle()
        later = await scrape(w)
        assert sample(later, "hdops_clarifications_open") == 1.0
        assert sample(later, "hdops_clarifications_oldest_open_age_seconds") >= 0.0
        assert sample(later, "hdops_outbox_depth") == 1.0
        assert sample(later, "hdops_outbox_oldest_pending_age_seconds") >= 3600.0


def test_a_click_is_paired_with_the_task_message_it_caused_only() -> None:
    latency = NextTaskLatency()
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def task_dm(user: str, created: float, sent: float, ref: str = "assignment:7") -> Delivered:
        return Delivered(
            "slack", "dm", user, ref, t0 + timedelta(seconds=created), t0 + timedelta(seconds=sent)
        )

    before = latency.histogram.collect()[0].samples
    count = next(s.value for s in before if s.name.endswith("_count"))
    total = next(s.value for s in before if s.name.endswith("_sum"))
    latency.clicked("slack", "U1", t0, t0 + timedelta(seconds=0.2))
    latency.sent(task_dm("U2", 0.1, 0.5))  # someone else's task
    latency.sent(task_dm("U1", 0.1, 0.5, ref="clar:3"))  # not a task message
    latency.sent(task_dm("U1", 5.0, 6.0))  # written after the click was handled
    latency.sent(task_dm("U1", 0.1, 0.7))  # the one
    latency.sent(task_dm("U1", 0.1, 0.9))  # the click was paired already
    after = latency.histogram.collect()[0].samples
    assert next(s.value for s in after if s.name.endswith("_count")) == count + 1
    assert abs(next(s.value for s in after if s.name.endswith("_sum")) - total - 0.7) < 1e-9


async def test_scheduler_lag_is_observed_from_the_first_job(db_url: str, store: Store) -> None:
    runtime = bootstrap(Settings(database_url=db_url), store, scheduler=True, with_metrics=True)
    assert runtime.scheduler is not None
    before = metrics.value("hdops_scheduler_lag_seconds_count", job="hdops:sync")
    task = asyncio.create_task(runtime.scheduler.run())
    try:
        for _ in range(250):
            if metrics.value("hdops_scheduler_lag_seconds_count", job="hdops:sync") > before:
                break
            await asyncio.sleep(0.02)
        assert metrics.value("hdops_scheduler_lag_seconds_count", job="hdops:sync") == before + 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_a_task_sent_before_the_core_call_returns_is_paired() -> None:
    """The outbox may send the next task the moment the core commits, before its call
    has returned to the adapter: the click is known from the start."""
    latency = NextTaskLatency()
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    before = latency.histogram.collect()[0].samples
    count = next(s.value for s in before if s.name.endswith("_count"))
    with latency.handling("slack", "U1", t0):
        latency.sent(
            Delivered("slack", "dm", "U1", "assignment:7", t0 + timedelta(seconds=0.1), t0)
        )
    after = latency.histogram.collect()[0].samples
    assert next(s.value for s in after if s.name.endswith("_count")) == count + 1
