"""Check-ins: paid time, and how it ends (SPEC §7, §8).

`/hdops checkin` starts paid time (and task pushes) and links it to the shift in
progress; `/hdops checkout` stops it. A forgotten check-in must never be paid as
a week of work (issue 10), so paid time also ends by itself, whichever first:

* at the shift's end: 30 minutes after a shift, a check-in still open from it is
  closed at the shift's end and flagged for ops (the shift job in
  `hdops.services.shifts.jobs`);
* after a stretch without activity: a check-in with no activity for
  `HDOPS_CHECKIN_IDLE_MINUTES` (30) is closed at the last activity by the sweep
  that runs every minute (`close_idle_check_ins`), and task pushes stop.
  Activity is anything the person does in hdops — a command, a button, a form, a
  thread reply — as `hdops.core.Core` notes it (`note_activity`). The last
  activity, not the moment the stretch ran out, is when they were last seen
  working. Ops are not told: forgetting to check out is routine.

Either way the person is told in a DM and may correct the end time with a reason
(`/hdops checkin fix HH:MM REASON`, or the button → a form): audited and posted to
the ops channel. Statements count closed check-ins only
(`hdops.domain.payouts.clipped_seconds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings
from hdops.domain import shifts as rules
from hdops.domain.payouts import check_reason
from hdops.domain.weeks import IsoWeek
from hdops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hdops.render import shifts as render
from hdops.render.shifts import ShiftView
from hdops.services import audit, dispatch
from hdops.services.payouts import approval
from hdops.services.people import require_active
from hdops.services.shifts import shifts
from hdops.store import shifts as q
from hdops.store.orm import Person, Shift, TimeEntry
from hdops.store.prepared import Tx

EARLY_CHECKIN = timedelta(minutes=30)  # a check-in this early counts for the shift
ACTIVITY_RESOLUTION = timedelta(minutes=1)  # last activity is kept to the minute
MAX_CHECKIN = rules.MAX_SHIFT  # a corrected check-in is at most as long as a shift


@dataclass(frozen=True)
class CheckIn:
    entry: TimeEntry
    shift: ShiftView | None
    already: bool


def check_in(session: Session, person: Person, now: datetime) -> CheckIn:
    """Start paid time (and task pushes); linked to the shift in progress, or one
    starting within 30 minutes."""
    require_active(person, "check in", yourself=True)
    entry = q.open_entry(session, person.id)
    if entry is not None:
        return CheckIn(entry, None, True)
    shift = q.current_shift(session, person.id, now, early=now + EARLY_CHECKIN)
    profile = shifts.contractor_profile(person)
    entry = TimeEntry(
        person_id=person.id,
        shift_id=shift.id if shift else None,
        started_at=now,
        auto_closed=False,
        hourly_rate=profile.hourly_rate,
        currency=profile.currency,
        last_active_at=now,
    )
    session.add(entry)
    profile.available = True
    session.flush()
    dispatch.offer_next(session, person, now)
    audit.record(session, "time.checkin", person.name, actor_id=person.id, at=now)
    return CheckIn(entry, shifts.view(session, shift) if shift else None, False)


def check_out(session: Session, person: Person, now: datetime) -> TimeEntry | None:
    """Stop paid time and task pushes. None if they were not checked in."""
    entry = q.open_entry(session, person.id)
    if entry is None:
        return None
    entry.ended_at = max(now, entry.started_at)
    shifts.contractor_profile(person).available = False
    audit.record(session, "time.checkout", person.name, actor_id=person.id, at=now)
    return entry


def note_activity(session: Session, person_id: int, now: datetime) -> None:
    """The person did something in hdops: keeps their check-in from closing as idle.
    Called for every event a person sends, so it is one prepared UPDATE that
    writes at most once a minute."""
    q.note_activity(Tx(session), person_id, now, now - ACTIVITY_RESOLUTION)


def close_idle_check_ins(session: Session, settings: Settings, now: datetime) -> int:
    """Close every check-in without activity for `settings.checkin_idle` at its last
    activity (never after its shift's end), stop task pushes, and tell the person
    how to correct it. Returns how many were closed."""
    closed = 0
    for entry in q.idle_entries(session, now - settings.checkin_idle):
        last = max(entry.last_active_at or entry.started_at, entry.started_at)
        shift = session.get(Shift, entry.shift_id) if entry.shift_id is not None else None
        if shift is not None and entry.started_at < shift.ends_at < last:
            last = shift.ends_at
        entry.ended_at = last
        entry.auto_closed = True
        person = session.get(Person, entry.person_id)
        assert person is not None  # a time entry's person is never deleted
        if person.profile is not None:
            person.profile.available = False
        intents.dm(
            session,
            person.id,
            render.idle_closed(
                entry.id,
                entry.started_at,
                last,
                settings.checkin_idle_minutes,
                shifts.zone_of(person, settings),
            ),
            now,
        )
        audit.record(
            session,
            "time.auto_close",
            person.name,
            at=now,
            entry=entry.id,
            reason="idle",
            ended_at=last.isoformat(),
        )
        closed += 1
    return closed


@dataclass(frozen=True)
class CheckInFix:
    entry: TimeEntry
    before: datetime
    zone: ZoneInfo


def check_in_to_fix(session: Session, person: Person, entry_id: int | None) -> TimeEntry:
    """The person's own check-in that hdops closed by itself (the latest one, or
    `entry_id`): the only kind they may correct themselves."""
    if entry_id is None:
        entry = q.latest_auto_closed(session, person.id)
        if entry is None:
            raise NotFound(
                "You have no check-in that was closed automatically. To change another "
                "check-in, ask ops."
            )
        return entry
    entry = session.get(TimeEntry, entry_id)
    if entry is None or entry.person_id != person.id:
        raise PermissionDenied(
            "That check-in is not yours.", actor_id=person.id, subject=f"time-entry:{entry_id}"
        )
    if not entry.auto_closed or entry.ended_at is None:
        raise Conflict(
            "Only a check-in that was closed automatically can be corrected here; "
            "to change another one, ask ops."
        )
    return entry


def fix_check_in(
    session: Session,
    person: Person,
    until_text: str,
    reason: str,
    *,
    settings: Settings,
    now: datetime,
    entry_id: int | None = None,
) -> CheckInFix:
    """Set the end of an automatically closed check-in to `until_text` (HH:MM in
    the person's timezone, the first such time after the check-in started), with a
    reason. Refused if it would end in the future, overlap their next check-in,
    last longer than the longest shift (16 h) or change a week whose pay is
    approved. Audited; ops are told."""
    entry = check_in_to_fix(session, person, entry_id)
    reason = check_reason(reason)
    zone = shifts.zone_of(person, settings)
    assert entry.ended_at is not None  # check_in_to_fix guarantees it
    until = rules.time_after(entry.started_at, until_text, zone)
    if until > now:
        raise InvalidInput(f"{until.astimezone(zone):%a %H:%M} {zone.key} is still to come.")
    if until - entry.started_at > MAX_CHECKIN:
        hours = int(MAX_CHECKIN.total_seconds() // 3600)
        raise InvalidInput(f"A check-in can't be longer than {hours} hours (the longest shift).")
    following = q.next_entry(session, person.id, entry)
    if following is not None and until > following.started_at:
        raise InvalidInput(
            f"That overlaps your next check-in, from "
            f"{following.started_at.astimezone(zone):%a %H:%M} {zone.key}."
        )
    before = entry.ended_at
    for week in _weeks_between(min(before, until), max(before, until), settings):
        if approval.week_is_approved(session, week):
            raise Conflict(
                f"The pay for {week} is already approved, so this check-in can't change; "
                "ask ops for an adjustment."
            )
    entry.ended_at = until
    audit.record(
        session,
        "time.fix",
        person.name,
        actor_id=person.id,
        at=now,
        entry=entry.id,
        started_at=entry.started_at.isoformat(),
        before=before.isoformat(),
        after=until.isoformat(),
        reason=reason,
    )
    intents.to_ops(
        session,
        render.check_in_fixed(
            person.display_name, entry.started_at, before, until, reason, settings.ops_zone
        ),
        now,
    )
    return CheckInFix(entry, before, zone)


def _weeks_between(start: datetime, end: datetime, settings: Settings) -> list[IsoWeek]:
    week = IsoWeek.containing(start, settings.ops_tz)
    last = IsoWeek.containing(end, settings.ops_tz)
    weeks = [week]
    while week < last:
        week = week.shift(1)
        weeks.append(week)
    return weeks
