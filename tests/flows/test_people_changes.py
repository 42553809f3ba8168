"""Changing and deactivating people (`hdops person update|deactivate`), end to end on
the local chat: real core, outbox, store and the shift jobs on a fake scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from hdops.domain.weeks import parse_week
from hdops.services.deactivation import deactivate_person, reactivate_person
from hdops.services.payouts import show_week
from hdops.services.people import PersonChanges, update_person
from hdops.store.orm import Assignment, AuditEntry, Item, Shift, TimeEntry
from schedules import jobs
from tests.fakes.scheduler import FakeJobs
from tests.flows.conftest import Harness
from tests.helpers import T0, add_items, contractor, make_project, ops

TUE = "2026-03-03"
TUE_9 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def sched(harness: Harness) -> Iterator[FakeJobs]:
    fake = FakeJobs()
    jobs.install(harness.store, harness.core.settings, clock=harness.clock, scheduler=fake)
    yield fake
    jobs.uninstall()


def said(h: Harness, user: str) -> str:
    text = h.chat.last_notice(user)
    assert text is not None
    return text


def dms(h: Harness, user: str, containing: str) -> list[str]:
    return [m.text for m in h.chat.inbox(user) if containing in m.text]


def deactivate(h: Harness, ref: str) -> None:
    with h.store.unit_of_work() as s:
        deactivate_person(s, ref, settings=h.core.settings, now=h.clock.now())
    h.core.on_commit()


async def test_deactivated_alice_gets_no_tasks_shifts_or_reminders_but_keeps_her_pay(
    harness: Harness, sched: FakeJobs
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        project = make_project(s, overlap=1)
        add_items(s, project, 1)
        contractor(s, "alice", hourly_rate="20.00")
        contractor(s, "bob")
        ops(s, "otto")
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00")
    h.chat.command("otto", "/hdops shift add alice 2026-03-10 09:00-13:00")
    h.chat.command("alice", "/hdops checkin")  # Monday 09:00: paid time, and a task
    await h.flush()
    [task] = h.chat.open_tasks("alice")
    answer_a = task.message.controls()[0].action_id
    jobs.sync_shifts()
    assert any(job.startswith("shift:1:") for job in sched.jobs)

    h.clock.advance(timedelta(hours=2))
    deactivate(h, "alice")
    await h.flush()

    # Her task went back to the pool, and its message says why.
    assert "withdrawn and went back to the pool" in h.chat.messages[task.id].text
    assert h.chat.messages[task.id].message.controls() == []
    h.chat.command("bob", "/hdops next")
    await h.flush()
    assert len(h.chat.open_tasks("bob")) == 1  # the only item, free again
    # She is told once, and each cancelled shift the usual way.
    assert len(dms(h, "alice", "you won't get tasks or shifts any more")) == 1
    assert dms(h, "alice", "Your shift #1 on Tue 2026-03-03 09:00–13:00 UTC was cancelled.")
    assert dms(h, "alice", "Your shift #2 on Tue 2026-03-10 09:00–13:00 UTC was cancelled.")

    # Nothing gives her work any more.
    h.chat.command("alice", "/hdops next")
    assert "Your hdops work has ended (deactivated by ops)" in said(h, "alice")
    h.chat.command("alice", "/hdops resume")
    assert "so you can't get tasks" in said(h, "alice")
    h.chat.command("alice", "/hdops checkin")
    assert "can't check in" in said(h, "alice")
    # An answer she still sends (e.g. from a copy of the old message) is refused.
    late = h.core.action("console:alice", answer_a, [], "ev-late")
    assert late.message is not None and "no longer working with hdops" in late.message.plain()
    h.chat.command("otto", f"/hdops shift add alice {TUE} 15:00-16:00")
    assert "alice is deactivated, so they can't get shifts" in said(h, "otto")

    # The scheduler's sync drops every job of her shifts: no reminders, no start.
    jobs.sync_shifts()
    assert [job for job in sched.jobs if job.startswith(("shift:1:", "shift:2:"))] == []
    h.clock.set(TUE_9 + timedelta(hours=1))
    sched.run_due(h.clock.now())
    await h.flush()
    assert dms(h, "alice", "Reminder") == [] and dms(h, "alice", "starts") == []

    # History and pay are kept: her 2 checked-in hours are on this week's statement.
    with h.store.unit_of_work() as s:
        entry = s.scalars(select(TimeEntry)).one()
        assert entry.ended_at == T0 + timedelta(hours=2)
        assignment = s.get(Assignment, 1)
        assert assignment is not None and assignment.status == "expired"
        item = s.scalars(select(Item)).one()
        assert item.open_slots == 0  # re-claimed by bob, never over-filled
        assert [sh.status for sh in s.scalars(select(Shift).order_by(Shift.id))] == [
            "cancelled",
            "cancelled",
        ]
        week = show_week(s, parse_week("2026-W10", T0, "UTC"), h.clock.now(), h.core.settings)
        [alice] = [st for st in week.statements if st.name == "alice"]
        assert alice.seconds_worked == 7200 and alice.total == Decimal("40.00")
        [entry_audit] = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "person.deactivate")
        ).all()
        assert entry_audit.details["tasks_withdrawn"] == 1
        assert entry_audit.details["shifts_cancelled"] == [1, 2]
        assert entry_audit.details["checked_out"] is True


async def test_a_shift_in_progress_ends_now_and_a_swap_to_her_is_withdrawn(
    harness: Harness, sched: FakeJobs
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        make_project(s)
        contractor(s, "alice")
        contractor(s, "bob")
        ops(s, "otto")
    h.chat.command("otto", "/hdops shift add alice today 10:00-14:00")
    h.chat.command("otto", f"/hdops shift add bob {TUE} 09:00-13:00")
    h.chat.command("bob", "/hdops shift swap 2 @alice")
    h.clock.set(T0 + timedelta(hours=2))  # 11:00, alice's shift is on
    deactivate(h, "alice")
    await h.flush()
    with h.store.unit_of_work() as s:
        first, second = s.scalars(select(Shift).order_by(Shift.id)).all()
        assert (first.status, first.ends_at) == ("done", T0 + timedelta(hours=2))
        assert second.person_id != first.person_id and second.swap_to is None
    assert dms(h, "bob", "can no longer take over your shift #2")
    jobs.sync_shifts()
    assert [job for job in sched.jobs if job.startswith("shift:1:")] == []
    request = next(m for m in h.chat.inbox("alice") if "asks you to take over" in m.text)
    h.chat.press("alice", request.id, "Accept")
    assert "no longer open" in said(h, "alice")


async def test_reactivated_she_can_work_again(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        project = make_project(s)
        add_items(s, project, 2)
        contractor(s, "alice")
    deactivate(h, "alice")
    with h.store.unit_of_work() as s:
        assert deactivate_person(s, "alice", settings=h.core.settings, now=T0).already
        assert reactivate_person(s, "alice", now=T0) == ("alice", True)
        assert reactivate_person(s, "alice", now=T0) == ("alice", False)
    h.chat.command("alice", "/hdops next")
    await h.flush()
    assert len(h.chat.open_tasks("alice")) == 1


async def test_a_new_identity_reaches_her_and_a_removed_one_no_longer_does(
    harness: Harness,
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        project = make_project(s, skills=["medical"])
        add_items(s, project, 2)
        contractor(s, "alice")
    h.chat.command("alice", "/hdops next")
    assert "No task for you" in said(h, "alice")  # lacks the skill
    with h.store.unit_of_work() as s:
        _, done = update_person(
            s,
            "alice",
            PersonChanges(
                add_identities=["console:alice2"],
                remove_identities=["console:alice"],
                skills="medical",
            ),
        )
    assert [c.kind for c in done] == ["identity_remove", "identity_add", "skills"]
    h.chat.command("alice2", "/hdops next")
    await h.flush()
    assert len(h.chat.open_tasks("alice2")) == 1
    h.chat.command("alice", "/hdops next")
    assert "not registered with hdops" in said(h, "alice")


async def test_nobody_can_hand_a_shift_to_a_deactivated_person(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        make_project(s)
        contractor(s, "alice")
        contractor(s, "bob")
        ops(s, "otto")
    h.chat.command("otto", f"/hdops shift add bob {TUE} 09:00-13:00")
    deactivate(h, "alice")
    h.chat.command("bob", "/hdops shift swap 1 @alice")
    assert "alice is deactivated, so they can't take over shifts" in said(h, "bob")
    with h.store.unit_of_work() as s:
        assert s.scalars(select(Shift.swap_to)).one() is None
