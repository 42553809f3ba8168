"""Issue 10, point 1: a check-in left open is never paid as a week of work.

It closes by itself after a stretch without activity (the sweep, every minute)
at the last activity; the contractor is told and may correct it with a reason
(button → form, or `/hdops checkin fix`), which ops see; statements never count
an open check-in, and a week cannot be approved while one is still open in it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hdops.services import payouts
from hdops.services.people import get_person
from hdops.store.orm import AuditEntry, ContractorProfile, PayoutStatement, TimeEntry
from tests.flows.conftest import Harness
from tests.helpers import T0, add_items, contractor, make_project, ops

MONDAY_AFTER = T0 + timedelta(days=7)  # the job drafts 2026-W10


def people(h: Harness) -> None:
    with h.store.unit_of_work() as s:
        project = make_project(s, overlap=1)
        add_items(s, project, 20)
        contractor(s, "alice", hourly_rate="20.00")
        contractor(s, "bob", hourly_rate="20.00")
        ops(s, "otto")


def entry(h: Harness, name: str = "alice") -> TimeEntry:
    """The person's latest check-in, as stored."""
    with h.store.unit_of_work() as s:
        found = s.scalars(
            select(TimeEntry)
            .where(TimeEntry.person_id == get_person(s, name).id)
            .order_by(TimeEntry.id.desc())
        ).first()
        assert found is not None
        s.expunge(found)
        return found


async def sweep_at(h: Harness, minutes: int) -> None:
    h.clock.set(T0 + timedelta(minutes=minutes))
    h.core.sweep()
    await h.flush()


async def test_idle_check_in_closes_at_last_activity_and_can_be_corrected(
    harness: Harness,
) -> None:
    h = harness
    people(h)
    h.chat.command("alice", "/hdops checkin")  # 09:00
    await h.flush()
    h.clock.set(T0 + timedelta(minutes=10))
    task = h.chat.open_tasks("alice")[0]
    h.chat.press("alice", task.id, "Tie")  # 09:10: her last activity
    await h.flush()

    await sweep_at(h, 39)  # 29 minutes without activity: still checked in
    assert entry(h).ended_at is None
    await sweep_at(h, 41)
    closed = entry(h)
    assert closed.ended_at == T0 + timedelta(minutes=10) and closed.auto_closed
    told = h.chat.inbox("alice")[-1]
    assert "closed at 09:10 UTC, your last activity" in told.text
    assert "nothing happened for 30 minutes" in told.text and "10 min recorded" in told.text
    assert "/hdops checkin fix HH:MM REASON" in told.message.plain()
    with h.store.unit_of_work() as s:
        profile = s.scalars(select(ContractorProfile)).first()
        assert profile is not None and not profile.available  # no pushes to nobody
    assert h.chat.channel("ops") == []  # routine: ops hear of corrections only

    # She was reading the instructions until 09:35: the button opens a form.
    form = h.chat.press("alice", told.id, "Correct it").form
    assert form is not None and [f.name for f in form.fields] == ["until", "reason"]
    assert form.fields[0].initial == "09:10"
    bad = h.chat.submit("alice", {"until": "09:35", "reason": ""})
    assert "reason" in bad.form_errors and entry(h).ended_at == T0 + timedelta(minutes=10)
    done = h.chat.submit("alice", {"until": "09:35", "reason": "read the new instructions"})
    assert done.message is not None and "now ends at 09:35 UTC (35 min)" in done.message.plain()
    await h.flush()
    assert entry(h).ended_at == T0 + timedelta(minutes=35)
    posted = h.chat.channel("ops")[-1].text
    assert "alice corrected their check-in" in posted and "now it ends at 09:35" in posted
    assert "Reason: read the new instructions" in posted
    with h.store.unit_of_work() as s:
        fix = s.scalars(select(AuditEntry).where(AuditEntry.action == "time.fix")).one()
        assert fix.details["reason"] == "read the new instructions"
        assert fix.details["before"].startswith("2026-03-02T09:10")


async def test_any_activity_keeps_a_check_in_open(harness: Harness) -> None:
    h = harness
    people(h)
    h.chat.command("alice", "/hdops checkin")
    for minute in (25, 50, 75):  # a command now and then, never 30 minutes apart
        await sweep_at(h, minute)
        h.chat.command("alice", "/hdops pause" if minute != 50 else "/hdops resume")
    await sweep_at(h, 104)
    assert entry(h).ended_at is None
    await sweep_at(h, 106)
    assert entry(h).ended_at == T0 + timedelta(minutes=75)


async def test_check_in_fix_refuses_bad_input_and_changes_nothing(harness: Harness) -> None:
    h = harness
    people(h)
    h.chat.command("alice", "/hdops checkin fix 10:00 forgot")
    assert "no check-in that was closed automatically" in (h.chat.last_notice("alice") or "")
    h.chat.command("alice", "/hdops checkin")
    h.chat.command("bob", "/hdops checkin")
    await sweep_at(h, 31)
    first = entry(h)
    assert first.ended_at == T0
    h.chat.command("alice", "/hdops checkin")  # 09:31, back again
    h.clock.set(T0 + timedelta(minutes=40))
    for text, error in [
        ("/hdops checkin fix 09:20", "Usage: /hdops checkin fix HH:MM REASON"),
        ("/hdops checkin fix 9.20 was working", "is not a time like 09:00"),
        ("/hdops checkin fix 09:35 was working", "overlaps your next check-in, from Mon 09:31"),
        ("/hdops checkin fix 08:59 was working", "Tue 08:59 UTC is still to come"),
    ]:
        h.chat.command("alice", text)
        assert error in (h.chat.last_notice("alice") or ""), text
    assert entry(h).ended_at is None  # the new check-in
    with h.store.unit_of_work() as s:
        assert s.get(TimeEntry, first.id).ended_at == T0  # type: ignore[union-attr]
    # a forged button for bob's check-in is refused
    bob = entry(h, "bob")
    reply = h.core.action("console:alice", f"hd:timefix:{bob.id}", [], "forged-1")
    assert reply.message is not None and "not yours" in reply.message.plain()
    # a check-in longer than the longest shift is refused
    h.clock.set(T0 + timedelta(days=2))
    h.chat.command("bob", "/hdops checkin fix 01:30 long day")  # Tue 01:30: 16 h 30 min
    assert "can't be longer than 16 hours" in (h.chat.last_notice("bob") or "")
    assert entry(h, "bob").ended_at == T0
    with h.store.unit_of_work() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "time.fix")).all() == []


async def test_an_open_check_in_is_never_paid_and_blocks_approval(harness: Harness) -> None:
    """The demo's Farah: checks in, pauses, never checks out. Before: 158.53 h."""
    h = harness
    people(h)
    h.chat.command("alice", "/hdops checkin")
    h.clock.set(T0 + timedelta(minutes=20))
    h.chat.command("alice", "/hdops pause")
    # nothing sweeps (the process was down): the check-in is still open on Monday
    h.clock.set(MONDAY_AFTER)
    with h.store.unit_of_work() as s:
        payouts.run_weekly_payouts(s, h.clock.now(), h.core.settings)
        assert s.scalars(select(PayoutStatement)).all() == []  # nothing paid for it
    reply = h.chat.command("otto", "/hdops payouts approve last")
    assert reply.message is not None
    refusal = reply.message.plain()
    assert "can't be approved yet: still checked in: alice (since Mon 2026-03-02 09:00)" in refusal

    h.core.sweep()  # back up: the check-in closes at her last activity
    await h.flush()
    closed = entry(h)
    assert closed.ended_at == T0 + timedelta(minutes=20)
    view = h.chat.command("otto", "/hdops payouts --week last").message
    assert view is not None and "0.33" in view.plain()  # 20 min = 0.33 h, not 158
    with h.store.unit_of_work() as s:
        statement = s.scalars(select(PayoutStatement)).one()
        assert statement.seconds_worked == 20 * 60


async def test_a_check_in_of_an_approved_week_cannot_be_corrected(harness: Harness) -> None:
    h = harness
    people(h)
    h.chat.command("alice", "/hdops checkin")
    h.chat.command("bob", "/hdops checkin")
    h.clock.set(T0 + timedelta(minutes=5))
    h.chat.command("bob", "/hdops checkout")  # bob checked out himself
    await sweep_at(h, 31)
    assert entry(h).ended_at == T0  # alice: closed by itself
    h.clock.set(MONDAY_AFTER)
    h.chat.command("otto", "/hdops payouts --week last")  # shown ...
    approved = h.chat.command("otto", "/hdops payouts approve last").message  # ... approved
    assert approved is not None and "Approved payouts for 2026-W10" in approved.plain()

    h.chat.command("alice", "/hdops checkin fix 09:45 reviewed the guidelines")
    assert "2026-W10 is already approved" in (h.chat.last_notice("alice") or "")
    assert entry(h).ended_at == T0
    # only a check-in hdops closed by itself can be corrected by its contractor
    bobs = entry(h, "bob")
    reply = h.core.action("console:bob", f"hd:timefix:{bobs.id}", [], "bob-1")
    assert reply.message is not None and "closed automatically" in reply.message.plain()


async def test_an_idle_close_never_runs_past_the_shifts_end(harness: Harness) -> None:
    h = harness
    people(h)
    h.chat.command("otto", "/hdops shift add @alice today 09:00-10:00")
    h.chat.command("alice", "/hdops checkin")
    assert "Shift until 10:00" in (h.chat.last_notice("alice") or "")
    h.clock.set(T0 + timedelta(minutes=70))
    h.chat.command("alice", "/hdops pause")  # 10:10, after the shift
    await sweep_at(h, 101)
    closed = entry(h)
    assert closed.shift_id is not None and closed.ended_at == T0 + timedelta(hours=1)
