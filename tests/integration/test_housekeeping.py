"""Housekeeping (issue 15 point 6): old platform event ids and old sent messages are
pruned by one daily job; what still matters stays — recent event ids (a redelivery
is still a no-op), pending and failed messages, keyed messages, message references."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.orm import MessageRef, OutboxMessage, ProcessedEvent
from schedules import jobs

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def _message(status: str, sent_days_ago: float | None, key: str | None) -> OutboxMessage:
    sent = None if sent_days_ago is None else NOW - timedelta(days=sent_days_ago)
    return OutboxMessage(
        kind="send",
        payload={},
        status=status,
        lane="ops",
        next_attempt_at=NOW - timedelta(days=200),
        created_at=NOW - timedelta(days=200),
        sent_at=sent,
        dedupe_key=key,
    )


def test_the_daily_job_prunes_what_outlived_its_use_and_keeps_the_rest(store: Store) -> None:
    with store.unit_of_work() as s:
        for event, days in (("slack:old", 8), ("slack:edge", 6.9), ("discord:new", 0)):
            assert outbox.first_delivery(s, event, NOW - timedelta(days=days))
        s.add_all(
            [
                _message("sent", 91, None),  # pruned
                _message("sent", 89, None),  # within 90 days
                _message("sent", 200, "qdigest:1:2:2025-W40"),  # its key still guards
                _message("failed", None, None),
                _message("pending", None, None),
            ]
        )
        s.add(MessageRef(key="assignment:1", platform="slack", channel="D1", message_id="1.2",
                         created_at=NOW - timedelta(days=400)))  # fmt: skip
    jobs.install(store, Settings(), clock=FakeClock(NOW), after_commit=lambda: None)
    try:
        first = jobs.housekeeping()
        again = jobs.housekeeping()
    finally:
        jobs.uninstall()
    assert (first.events, first.messages) == (1, 1)
    assert (again.events, again.messages) == (0, 0)
    with store.unit_of_work() as s:
        assert set(s.scalars(select(ProcessedEvent.event_id))) == {"slack:edge", "discord:new"}
        kept = s.execute(select(OutboxMessage.status, OutboxMessage.dedupe_key)).all()
        assert sorted(kept, key=str) == sorted(
            [("sent", None), ("sent", "qdigest:1:2:2025-W40"), ("failed", None), ("pending", None)],
            key=str,
        )
        assert s.scalar(select(func.count(MessageRef.id))) == 1
        # a redelivery of a kept event is still a no-op; a pruned one is long past retries
        assert not outbox.first_delivery(s, "slack:edge", NOW)


def test_retention_is_configured_and_bounded() -> None:
    settings = Settings(HDOPS_EVENT_RETENTION_DAYS="30", HDOPS_OUTBOX_RETENTION_DAYS="365")
    assert (settings.event_retention_days, settings.outbox_retention_days) == (30, 365)
    for bad in ("0", "-1", "NaN", "99999"):
        try:
            Settings(HDOPS_EVENT_RETENTION_DAYS=bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")
