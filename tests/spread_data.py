"""A small project whose spread of work is worked out by hand: shared by the
distribution tests (tests/integration/test_distribution.py) and the chat ones."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from hdops.domain.weeks import IsoWeek
from hdops.store.db import Store
from hdops.store.orm import Assignment
from tests.helpers import T0, add_items, contractor, make_project
from tests.payout_data import answer

W10 = IsoWeek(2026, 10)  # T0 is Monday 2026-03-02 09:00 UTC
W11 = IsoWeek(2026, 11)
SUNDAY_LATE = datetime(2026, 3, 8, 23, 30, tzinfo=T0.tzinfo)  # W10 in UTC, W11 in Berlin


def build_spread(store: Store) -> None:
    """W10: alice 4, bob 2 (one late on Sunday), carol 1 (+1 rejected), erin offered
    a task she let expire, dave never offered one. W11: alice 1, frank 3. Elsewhere:
    alice answers in another project."""
    with store.unit_of_work() as s:
        p = make_project(s, overlap=5)
        items = add_items(s, p, 6)
        alice, bob, carol, dave, erin, frank = (
            contractor(s, n, display_name=n.title())
            for n in ("alice", "bob", "carol", "dave", "erin", "frank")
        )
        for i in range(4):
            answer(s, alice, items[i], T0 + timedelta(minutes=i))
        answer(s, bob, items[0], T0)
        answer(s, bob, items[1], SUNDAY_LATE)
        answer(s, carol, items[0], T0)
        answer(s, carol, items[1], T0, status="rejected")
        version = s.scalar(select(Assignment.instruction_version_id).limit(1))
        s.add(
            Assignment(
                item_id=items[5].id,
                project_id=p.id,
                person_id=erin.id,
                status="expired",
                offered_at=T0,
                leased_until=T0 + timedelta(minutes=20),
                closed_at=T0 + timedelta(minutes=20),
                instruction_version_id=version,
            )
        )
        next_week = T0 + timedelta(days=7)
        answer(s, alice, items[4], next_week)
        for i in range(3):
            answer(s, frank, items[i], next_week)
        other = make_project(s, name="other-pairs", title="Other pairs")
        (elsewhere,) = add_items(s, other, 1)
        answer(s, alice, elsewhere, T0)
        del dave  # holds the role, never worked on the project
