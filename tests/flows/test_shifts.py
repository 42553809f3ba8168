"""Shifts end to end on the local chat, with a controllable clock.

Ops schedule by command; the scheduled jobs (`schedules.jobs`) run through an
in-memory scheduler that a test moves minute by minute, exactly as `hdops run`
would run them: the shift sync plans them from the database, the job functions
act through the services, and the outbox delivers to the local chat.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hdops.store.orm import Shift, TimeEntry
from schedules import jobs
from tests.fakes.scheduler import FakeJobs
from tests.flows.conftest import Harness
from tests.helpers import T0, add_items, contractor, make_project, ops, researcher

# T0 is Monday 2026-03-02 09:00 UTC; shifts below are on Tuesday.
TUE = "2026-03-03"
TUE_9 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def sched(harness: Harness) -> Iterator[FakeJobs]:
    fake = FakeJobs()
    jobs.install(harness.store, harness.core.settings, clock=harness.clock, scheduler=fake)
    yield fake
    jobs.uninstall()


async def run_until(h: Harness, fake: FakeJobs, until: datetime) -> None:
    """Move the clock like the scheduler process lives through time: sync, run the
    due jobs, deliver what they queued, then jump to the next job's time (or at most
    30 minutes on, so the sync keeps planning ahead) until `until`."""
    while True:
        jobs.sync_shifts()
        fake.run_due(h.clock.now())
        await h.flush()
        now = h.clock.now()
        if now >= until:
            return
        upcoming = [job.run_at for job in fake.jobs.values() if job.run_at > now]
        h.clock.set(min([until, now + timedelta(minutes=30), *upcoming]))


def said(h: Harness, user: str) -> str:
    text = h.chat.last_notice(user)
    assert text is not None
    return text


def dms(h: Harness, user: str, containing: str) -> list[str]:
    return [m.text for m in h.chat.inbox(user) if containing in m.text]


def ops_posts(h: Harness, containing: str) -> list[str]:
    return [m.text for m in h.chat.channel("ops") if containing in m.text]


def people(h: Harness) -> None:
    with h.store.unit_of_work() as s:
        project = make_project(s, overlap=1)
        add_items(s, project, 10)
        contractor(s, "alice")
        contractor(s, "bob")
        ops(s, "otto")


async def test_reminder_fires_15_minutes_before_once(harness: Harness, sched: FakeJobs) -> None:
    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add @alice {TUE} 09:00-13:00")
    assert "Scheduled alice: #1 Tue 2026-03-03 09:00–13:00 UTC" in said(h, "otto")
    await h.flush()
    assert dms(h, "alice", "New shift for you: Tue 2026-03-03 09:00–13:00 UTC")

    await run_until(h, sched, TUE_9 - timedelta(minutes=16))
    assert dms(h, "alice", "starts in 15 minutes") == []
    assert len(dms(h, "alice", "you have a shift tomorrow")) == 1  # 24 h before
    await run_until(h, sched, TUE_9 - timedelta(minutes=15))
    assert len(dms(h, "alice", "starts in 15 minutes")) == 1
    # A duplicate run (two schedulers for a moment, a re-added job) sends nothing.
    jobs.shift_reminder(1, 0, "remind15")
    await run_until(h, sched, TUE_9 - timedelta(minutes=5))
    assert len(dms(h, "alice", "starts in 15 minutes")) == 1
    assert "shift:1:remind15" in sched.ran


async def test_first_task_pushed_at_shift_start(harness: Harness, sched: FakeJobs) -> None:
    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00")
    await run_until(h, sched, TUE_9 - timedelta(minutes=1))
    assert h.chat.open_tasks("alice") == []
    await run_until(h, sched, TUE_9)
    assert len(h.chat.open_tasks("alice")) == 1
    started = dms(h, "alice", "Your shift has started")
    assert len(started) == 1 and "first task is below" in started[0]
    assert "/hdops checkin" in started[0]
    # She answers; the next task follows, because she is on shift.
    task = h.chat.open_tasks("alice")[0]
    h.chat.press("alice", task.id, "Tie")
    await h.flush()
    assert len(h.chat.open_tasks("alice")) == 1


async def test_no_show_reported_once_and_not_for_who_checked_in(
    harness: Harness, sched: FakeJobs
) -> None:
    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00")
    h.chat.command("otto", f"/hdops shift add bob {TUE} 09:00-13:00")
    await run_until(h, sched, TUE_9 + timedelta(minutes=2))
    h.chat.command("alice", "/hdops checkin")
    assert "Checked in at 09:02 UTC. Shift until 13:00" in said(h, "alice")
    await run_until(h, sched, TUE_9 + timedelta(minutes=9))
    assert ops_posts(h, "No-show") == []
    await run_until(h, sched, TUE_9 + timedelta(minutes=10))
    reports = ops_posts(h, "No-show")
    assert len(reports) == 1 and "bob has not checked in 10 min after" in reports[0]
    jobs.shift_no_show(2, 0)  # a duplicate run
    await run_until(h, sched, TUE_9 + timedelta(hours=1))
    assert len(ops_posts(h, "No-show")) == 1
    with h.store.unit_of_work() as s:
        statuses = {pid: st for pid, st in s.execute(select(Shift.person_id, Shift.status))}
    assert sorted(statuses.values()) == ["no_show", "scheduled"]


async def test_weekly_shift_stays_at_local_nine_across_dst(
    harness: Harness, sched: FakeJobs
) -> None:
    """Europe/London goes to summer time on Sunday 2026-03-29."""
    h = harness
    people(h)
    h.chat.command("otto", "/hdops tz Europe/London")
    h.chat.command("otto", "/hdops shift add alice 2026-03-23 09:00-13:00 --weekly 3")
    reply = said(h, "otto")
    assert "Scheduled 3 weekly shifts for alice, #1–#3" in reply
    with h.store.unit_of_work() as s:
        starts = list(s.scalars(select(Shift.starts_at).order_by(Shift.starts_at)))
    assert starts == [
        datetime(2026, 3, 23, 9, 0, tzinfo=UTC),  # GMT
        datetime(2026, 3, 30, 8, 0, tzinfo=UTC),  # BST: still 09:00 local
        datetime(2026, 4, 6, 8, 0, tzinfo=UTC),
    ]
    h.clock.set(datetime(2026, 3, 23, 0, 0, tzinfo=UTC))
    h.chat.command("otto", "/hdops shift list alice --week 2026-W14")
    listing = said(h, "otto")
    assert "Mon 2026-03-30  09:00–13:00" in listing and "Europe/London" in listing
    # The reminder follows the local time too: 08:45 BST is 07:45 UTC.
    await run_until(h, sched, datetime(2026, 3, 30, 7, 44, tzinfo=UTC))
    assert len(dms(h, "alice", "starts in 15 minutes")) == 1  # only the first week's
    await run_until(h, sched, datetime(2026, 3, 30, 7, 45, tzinfo=UTC))
    assert len(dms(h, "alice", "starts in 15 minutes")) == 2


async def test_clashing_shift_refused_with_the_clash_named(harness: Harness) -> None:
    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00")
    h.chat.command("otto", f"/hdops shift add alice {TUE} 12:00-16:00")
    assert (
        "clashes with alice's shift #1 Tue 2026-03-03 09:00–13:00 UTC. Nothing was scheduled"
        in said(h, "otto")
    )
    h.chat.command("otto", "/hdops shift add alice 2026-03-18 09:30-10:30")
    h.chat.command("otto", "/hdops shift add alice wed 09:00-10:00 --weekly 3")
    # The series' third week clashes: the whole series is refused.
    assert "clashes with alice's shift #2 Wed 2026-03-18 09:30–10:30 UTC" in said(h, "otto")
    h.chat.command("otto", f"/hdops shift add alice {TUE} 13:00-16:00")  # back to back: fine
    assert "Scheduled alice: #3" in said(h, "otto")
    with h.store.unit_of_work() as s:
        assert len(s.scalars(select(Shift)).all()) == 3


async def test_outside_availability_is_allowed_with_a_warning(harness: Harness) -> None:
    h = harness
    people(h)
    h.chat.command("alice", "/hdops availability add mon-fri 08:00-12:00")
    assert "Availability added: mon,tue,wed,thu,fri 08:00-12:00 UTC" in said(h, "alice")
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-11:00")
    assert "⚠" not in said(h, "otto")
    h.chat.command("otto", f"/hdops shift add alice {TUE} 11:00-14:00")
    reply = said(h, "otto")
    assert "Scheduled alice: #2" in reply and "outside alice's declared availability" in reply
    h.chat.command("alice", "/hdops availability list")
    assert "tue  08:00-12:00  UTC" in said(h, "alice")
    h.chat.command("alice", "/hdops availability clear")
    assert "Cleared 5" in said(h, "alice")


async def test_commands_parse_dates_options_and_refuse_politely(harness: Harness) -> None:
    h = harness
    people(h)
    h.chat.command("alice", f"/hdops shift add bob {TUE} 09:00-13:00")
    assert "Only ops can use /hdops shift add" in said(h, "alice")
    h.chat.command("otto", "/hdops shift add bob someday 09:00-13:00")
    assert "'someday' is not a date" in said(h, "otto")
    h.chat.command("otto", "/hdops shift add bob tomorrow 9-13")
    assert "not a time like 09:00" in said(h, "otto")
    h.chat.command("otto", "/hdops shift add bob today 08:00-10:00")
    assert "would start in the past" in said(h, "otto")
    h.chat.command("otto", "/hdops shift add bob tomorrow 22:00-02:00 --tz Asia/Tokyo")
    assert "Scheduled bob: #1 Tue 2026-03-03 22:00–02:00 (+1 day) Asia/Tokyo" in said(h, "otto")
    h.chat.command("otto", "/hdops shift add bob wed 09:00-10:00 --weekly x")
    assert "--weekly must be a whole number" in said(h, "otto")
    h.chat.command("otto", "/hdops shift add bob wed 09:00-10:00 --colour red")
    assert "Unknown option --colour" in said(h, "otto")
    h.chat.command("otto", "/hdops shift add otto wed 09:00-10:00")
    assert "otto is not a contractor" in said(h, "otto")
    # A contractor sees their own shifts only.
    h.chat.command("bob", "/hdops shift list")
    assert "#" not in said(h, "bob") or "Shifts 2026-W10 — bob" in said(h, "bob")
    assert "22:00–02:00 (+1 day)" not in said(h, "bob")  # bob reads UTC: 13:00–17:00
    assert "13:00–17:00" in said(h, "bob")
    h.chat.command("bob", "/hdops shift list alice")
    assert "only see your own shifts" in said(h, "bob")


async def test_cancel_and_move_tell_the_contractor_at_once(
    harness: Harness, sched: FakeJobs
) -> None:
    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00")
    h.chat.command("otto", f"/hdops shift add alice {TUE} 14:00-16:00")
    await run_until(h, sched, T0 + timedelta(minutes=1))
    assert "shift:1:remind15" in sched.jobs and "shift:2:start" in sched.jobs
    h.chat.command("otto", "/hdops shift move 1 wed 10:00-12:00")
    assert "Moved shift #1 of alice to Wed 2026-03-04 10:00–12:00 UTC" in said(h, "otto")
    h.chat.command("otto", "/hdops shift cancel 2")
    assert "Cancelled shift #2" in said(h, "otto")
    await h.flush()
    assert dms(h, "alice", "was moved: now Wed 2026-03-04 10:00–12:00 UTC (was Tue")
    assert dms(h, "alice", "Your shift #2 on Tue 2026-03-03 14:00–16:00 UTC was cancelled")
    await run_until(h, sched, T0 + timedelta(minutes=2))
    assert not any(j.startswith("shift:2:") for j in sched.jobs)  # cancelled: no jobs
    # Jobs follow the move (those within the scheduler's 48 h horizon exist yet).
    assert sched.jobs["shift:1:remind24h"].run_at == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert "shift:1:remind15" not in sched.jobs
    await run_until(h, sched, TUE_9 + timedelta(hours=8))
    assert dms(h, "alice", "starts in 15 minutes") == []  # nothing at the old time
    h.chat.command("otto", "/hdops shift cancel 2")
    assert "already cancelled" in said(h, "otto")


async def test_swap_asks_the_other_who_accepts(harness: Harness, sched: FakeJobs) -> None:
    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00")
    h.chat.command("alice", "/hdops shift swap 1 @bob")
    assert "Asked bob to take over shift #1" in said(h, "alice")
    await h.flush()
    request = next(m for m in h.chat.inbox("bob") if "asks you to take over" in m.text)
    assert [b.label for b in request.message.buttons()] == ["Accept", "Decline"]
    accept = request.message.buttons()[0]
    # Only bob can answer it.
    h.chat.press("alice", request.id, "Accept")
    assert "for someone else" in said(h, "alice")
    h.chat.press("bob", request.id, "Accept")
    assert "The shift is yours: Tue 2026-03-03 09:00–13:00 UTC" in said(h, "bob")
    await h.flush()
    assert "✓ You accepted" in h.chat.messages[request.id].text
    assert h.chat.messages[request.id].message.buttons() == []
    assert dms(h, "alice", "now belongs to bob (swap accepted)")
    assert ops_posts(h, "bob took over shift #1")
    again = h.core.action("console:bob", accept.action_id, [], "ev-old-button")
    assert again.message is not None and "no longer open" in again.message.plain()
    await run_until(h, sched, TUE_9)
    assert len(dms(h, "bob", "starts in 15 minutes")) == 1
    assert dms(h, "alice", "starts in 15 minutes") == []
    assert len(h.chat.open_tasks("bob")) == 1


async def test_swap_decline_keeps_the_shift(harness: Harness) -> None:
    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00")
    h.chat.command("bob", "/hdops shift swap 1 @alice")
    assert "only offer your own shifts" in said(h, "bob")
    h.chat.command("alice", "/hdops shift swap 1 @bob")
    await h.flush()
    request = next(m for m in h.chat.inbox("bob") if "asks you to take over" in m.text)
    h.chat.press("bob", request.id, "Decline")
    await h.flush()
    assert dms(h, "alice", "bob declined to take over your shift #1")
    with h.store.unit_of_work() as s:
        shift = s.scalars(select(Shift)).one()
        assert shift.swap_to is None and shift.revision == 0


async def test_open_checkin_closed_after_shift_end_and_flagged(
    harness: Harness, sched: FakeJobs
) -> None:
    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00")
    await run_until(h, sched, TUE_9 - timedelta(minutes=5))
    h.chat.command("alice", "/hdops checkin")
    h.chat.command("alice", "/hdops checkin")
    assert "already checked in since Tue 08:55" in said(h, "alice")
    await run_until(h, sched, TUE_9 + timedelta(hours=4, minutes=29))
    assert ops_posts(h, "closed automatically") == []
    await run_until(h, sched, TUE_9 + timedelta(hours=4, minutes=30))
    flagged = ops_posts(h, "closed automatically")
    assert len(flagged) == 1 and "closed at 13:00 (the shift's end)" in flagged[0]
    with h.store.unit_of_work() as s:
        entry = s.scalars(select(TimeEntry)).one()
        assert entry.auto_closed and entry.ended_at == TUE_9 + timedelta(hours=4)
        assert entry.shift_id == 1
        assert s.scalars(select(Shift.status)).one() == "done"
    h.chat.command("alice", "/hdops checkout")
    assert "not checked in" in said(h, "alice")


async def test_checkin_and_checkout_record_time(harness: Harness) -> None:
    h = harness
    people(h)
    h.chat.command("alice", "/hdops checkin")
    assert "Checked in at 09:00 UTC." in said(h, "alice")
    await h.flush()
    assert len(h.chat.open_tasks("alice")) == 1  # checking in starts pushes
    h.clock.advance(timedelta(hours=1, minutes=5))
    h.chat.command("alice", "/hdops checkout")
    assert "1 h 05 min recorded" in said(h, "alice")
    with h.store.unit_of_work() as s:
        entry = s.scalars(select(TimeEntry)).one()
        assert entry.ended_at is not None and not entry.auto_closed
        assert entry.shift_id is None


async def test_coverage_table_and_digest_with_chart(harness: Harness, sched: FakeJobs) -> None:
    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00 --weekly 2")
    h.chat.command("otto", f"/hdops shift add bob {TUE} 10:00-16:00")
    h.chat.command("otto", "/hdops coverage")
    table = said(h, "otto")
    assert "Coverage 2026-W10" in table
    assert "Tue 2026-03-03  10.0   8.0     2       ok" in table
    assert "Mon 2026-03-02  0.0    8.0     0       -8.0" in table
    assert "Gaps: Mon short 8.0 h; Wed short 8.0 h" in table
    h.chat.command("alice", "/hdops coverage")
    assert "Only ops" in said(h, "alice")
    h.chat.command("otto", "/hdops coverage --week next")
    assert "Tue 2026-03-10  4.0" in said(h, "otto")

    # The daily digest: on a Monday it carries the chart as a PNG.
    h.clock.set(datetime(2026, 3, 9, 8, 0, tzinfo=UTC))
    assert jobs.coverage_digest() is True
    assert jobs.coverage_digest() is False  # once a day
    await h.flush()
    digest = [m for m in h.chat.channel("ops") if "Coverage digest" in m.text]
    assert len(digest) == 1
    images = [p for p in digest[0].message.parts if p.kind == "image"]
    assert len(images) == 1 and images[0].filename == "coverage-2026-W11.png"
    import base64

    assert base64.b64decode(images[0].png_base64).startswith(b"\x89PNG")


async def test_researcher_on_call_is_mentioned_first(harness: Harness, sched: FakeJobs) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        project = make_project(s, overlap=1, researchers=["console:rita", "console:sam"])
        add_items(s, project, 3)
        contractor(s, "alice")
        researcher(s, "rita")
        researcher(s, "sam")
        ops(s, "otto")
    h.chat.command("otto", f"/hdops shift add sam {TUE} 09:00-17:00 --role researcher")
    assert "Scheduled sam" in said(h, "otto")
    h.chat.command("otto", f"/hdops shift add rita {TUE} 09:00-17:00")
    assert "rita is not a contractor" in said(h, "otto")
    await run_until(h, sched, TUE_9)
    assert dms(h, "sam", "on call for clarification questions until 17:00")
    h.chat.command("alice", "/hdops next")
    await h.flush()
    h.chat.command("alice", "/hdops ask Is a tie allowed here?")
    await h.flush()
    post = h.chat.channel("clarifications")[-1]
    mentions = [p for p in post.message.parts if p.kind == "mention"]
    assert len(mentions) == 1 and mentions[0].identities == ["console:sam"]
    # Unanswered: the escalation mentions every researcher.
    await run_until(h, sched, TUE_9 + timedelta(minutes=31))
    h.core.sweep()
    await h.flush()
    thread = h.chat.thread(post.id)
    assert any("@console:rita @console:sam" in m.text for m in thread)


async def test_ics_feed_is_valid_icalendar(harness: Harness) -> None:
    from icalendar import Calendar

    from hdops.services import shifts as svc
    from hdops.services.people import get_person

    h = harness
    people(h)
    h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00 --weekly 2")
    h.chat.command("otto", "/hdops shift cancel 2")
    with h.store.unit_of_work() as s:
        feed = svc.ics_feed(s, get_person(s, "alice"), h.clock.now())
    cal = Calendar.from_ical(feed)
    events = list(cal.walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == ["shift-1@hdops", "shift-2@hdops"]
    assert events[0].decoded("dtstart") == TUE_9
    assert str(events[1]["status"]) == "CANCELLED" and int(events[1]["sequence"]) == 1
    assert feed.startswith(b"BEGIN:VCALENDAR\r\n") and b"PRODID:-//hdops//shifts//EN" in feed


async def test_shift_changes_wake_the_scheduler_after_commit_only(harness: Harness) -> None:
    from hdops.services import scheduling

    h = harness
    people(h)
    woken: list[int] = []
    remove = scheduling.add_change_listener(lambda: woken.append(1))
    try:
        h.chat.command("otto", f"/hdops shift add alice {TUE} 09:00-13:00")
        assert woken == [1]
        h.chat.command("otto", "/hdops shift list")  # no change, no wake-up
        assert woken == [1]
        with pytest.raises(RuntimeError), h.store.unit_of_work() as s:
            scheduling.note_shifts_changed(s)
            raise RuntimeError("rolled back")
        with h.store.unit_of_work() as s:
            s.scalars(select(Shift)).all()
        assert woken == [1]
        h.chat.command("otto", "/hdops shift cancel 1")
        assert woken == [1, 1]
    finally:
        remove()
