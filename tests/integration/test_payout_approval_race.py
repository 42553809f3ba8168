"""Approving a week while the Monday job drafts it, on PostgreSQL (SQLite runs one
writer at a time, so the two cannot interleave there).

Ops approve what they have seen. The approval locks the week's row; the draft takes
the same lock, so a draft that starts during an approval waits for it, then finds
the week approved and leaves it alone. Without the lock the draft would rewrite a
statement between the approval's last look and its commit, and ops would approve
figures nobody saw."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.domain.weeks import IsoWeek
from hdops.errors import Conflict
from hdops.services import payouts
from hdops.services.people import get_person
from hdops.store.db import Store
from hdops.store.orm import Adjustment, PayoutStatement, PayoutWeek, TimeEntry
from tests.helpers import add_items, contractor, make_project, ops
from tests.payout_data import answer, check_in

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(60)]

W10 = IsoWeek(2026, 10)
MON = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
MONDAY_RUN = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # the job's time: it drafts W10
UTC_SETTINGS = Settings(ops_tz="UTC")


def _waiting_on_a_lock(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def _race_an_approval(
    store: Store, monkeypatch: pytest.MonkeyPatch, meanwhile: Any, competitor: Any
) -> dict[str, Any]:
    """Approve W10 in one thread, stopped after its last look at the statements and
    before it marks them; then run `meanwhile()` (committed) and `competitor(session)`
    in a second thread; let the approval go on once the competitor waits on a lock
    (or is done). Returns each side's result or exception."""
    paused, go = threading.Event(), threading.Event()
    real_week_view = payouts.week_view

    def week_view(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "approver" and not paused.is_set():
            paused.set()
            assert go.wait(30)
        return real_week_view(*args, **kwargs)

    monkeypatch.setattr(payouts.approval, "week_view", week_view)
    outcome: dict[str, Any] = {}

    def approve() -> None:
        try:
            with store.unit_of_work() as s:
                result = payouts.approve_week(
                    s, payouts.Actor(None, "cli"), W10, MONDAY_RUN, UTC_SETTINGS
                )
                outcome["approve"] = result.status
        except BaseException as exc:  # surfaced by the caller
            outcome["approve"] = exc

    def compete() -> None:
        try:
            with store.unit_of_work() as s:
                outcome["competitor"] = competitor(s)
        except BaseException as exc:  # surfaced by the caller
            outcome["competitor"] = exc

    approver = threading.Thread(target=approve, name="approver")
    approver.start()
    assert paused.wait(30)
    meanwhile()
    other = threading.Thread(target=compete, name="competitor")
    other.start()
    deadline = time.monotonic() + 10
    while other.is_alive() and not _waiting_on_a_lock(store) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.set()
    approver.join(30)
    other.join(30)
    return outcome


def _alice_with_a_drafted_week(store: Store) -> tuple[int, Decimal]:
    """alice's W10: three answers and a check-in from Sunday 20:00 to the week's end
    (4 h); drafted, as ops see it. Returns the check-in and the total."""
    with store.unit_of_work() as s:
        project = make_project(s)
        alice = contractor(s, "alice", hourly_rate="20.00")
        ops(s, "otto")
        for i, item in enumerate(add_items(s, project, 3)):
            answer(s, alice, item, MON + timedelta(days=2, hours=i))
        entry = check_in(
            s, alice, MON + timedelta(days=6, hours=20), MON + timedelta(days=7), "20.00"
        )
        payouts.draft_week(s, W10, MONDAY_RUN, UTC_SETTINGS)
        payouts.mark_shown(s, W10)  # ops looked at it (`hdops payouts show`)
        entry_id = entry.id
    with store.read() as s:
        seen = s.scalars(select(PayoutStatement.total)).one()
    assert seen == Decimal("81.20")  # 3 x 0.40 + 4 h x 20.00
    return entry_id, seen


def _assert_approved_as_seen(store: Store, seen: Decimal) -> None:
    with store.read() as s:
        week = s.get(PayoutWeek, str(W10))
        assert week is not None and week.status == "approved"
        stmt = s.scalars(select(PayoutStatement)).one()
        assert stmt.status == "approved"
        assert stmt.total == seen  # exactly what ops saw; changes go to a later week
        assert sum(line.amount for line in stmt.lines) == seen
        assert s.scalars(select(Adjustment).where(Adjustment.week == str(W10))).all() == []


def test_approve_racing_the_monday_draft_approves_what_ops_saw_postgres(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_id, seen = _alice_with_a_drafted_week(store)

    def correct_the_check_out() -> None:  # alice's check-out corrected: 21:00, 1 h not 4
        with store.unit_of_work() as s:
            fixed = s.get(TimeEntry, entry_id)
            assert fixed is not None
            fixed.ended_at = MON + timedelta(days=6, hours=21)

    outcome = _race_an_approval(
        store,
        monkeypatch,
        correct_the_check_out,
        lambda s: payouts.run_weekly_payouts(s, MONDAY_RUN, UTC_SETTINGS),
    )
    assert outcome["approve"] == "approved", outcome
    assert not isinstance(outcome["competitor"], BaseException), outcome
    _assert_approved_as_seen(store, seen)


def test_an_adjustment_racing_the_approval_waits_and_is_refused_postgres(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, seen = _alice_with_a_drafted_week(store)

    def bonus(s: Session) -> object:
        otto = payouts.Actor(get_person(s, "otto"), "chat")
        return payouts.add_adjustment(
            s, otto, "alice", "25.00", "weekend bonus", W10, MONDAY_RUN, UTC_SETTINGS
        )

    outcome = _race_an_approval(store, monkeypatch, lambda: None, bonus)
    assert outcome["approve"] == "approved", outcome
    refused = outcome["competitor"]
    assert isinstance(refused, Conflict) and "is approved" in refused.message, outcome
    _assert_approved_as_seen(store, seen)
