"""Shifts, availability, time tracking and coverage (SPEC §7).

Use cases called by the command layer (chat and CLI alike) and by the scheduled
jobs. Times are parsed in the caller's timezone (`--tz`, else the caller's own,
else the ops timezone) and stored in UTC; each person reads times in their own.

Every change to a shift (added, moved, cancelled, swapped) is told to the people
it affects in the same transaction (outbox), bumps the shift's `revision` and
marks the transaction so the scheduler re-syncs right after commit. Scheduled
actions (`run_shift_job`) record a marker in the same transaction as their
effect, so each happens once however often the job runs.


Check-ins (paid time) are in `hdops.services.checkins`; the shift-end job here
closes one still open 30 minutes after its shift (`_close`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hdops import intents
from hdops.chat import Message
from hdops.config import Settings
from hdops.domain import shifts as rules
from hdops.domain.inputs import parse_id
from hdops.domain.shifts import CoverageDay, CoverageReport, Window
from hdops.domain.weeks import IsoWeek, parse_week
from hdops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hdops.render import charts
from hdops.render import ics as ics_render
from hdops.render import shifts as render
from hdops.render.shifts import ShiftView
from hdops.services import audit, dispatch
from hdops.services.people import require_active, roles_of
from hdops.services.scheduling import NO_SHOW_AFTER, marker, note_shifts_changed
from hdops.store import dispatch as dispatch_q
from hdops.store import outbox
from hdops.store import shifts as q
from hdops.store.orm import Availability, ContractorProfile, Person, Shift

log = logging.getLogger(__name__)

SHIFT_ROLES = ("contractor", "researcher")
NO_SHOW_LOOKBACK = timedelta(hours=1)  # a check-in this long before the start counts
MAX_WARNINGS = 3


# --------------------------------------------------------------------------- helpers


def zone_of(person: Person | None, settings: Settings, override: str | None = None) -> ZoneInfo:
    """The timezone a person types and reads times in."""
    if override:
        return rules.zone(override)
    if person is not None and person.tz:
        return rules.zone(person.tz)
    return settings.ops_zone


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person #{person_id}")
    return person


def view(session: Session, shift: Shift) -> ShiftView:
    person = _person(session, shift.person_id)
    swap = session.get(Person, shift.swap_to) if shift.swap_to else None
    return ShiftView(
        id=shift.id,
        person=person.display_name,
        role=shift.role,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        status=shift.status,
        swap_to=swap.display_name if swap else None,
    )


def get_shift(session: Session, shift_id: int | str) -> Shift:
    try:
        ident = parse_id(shift_id, "shift id")
    except InvalidInput as exc:
        raise InvalidInput(f"{exc.message} (see /hdops shift list)") from None
    shift = session.get(Shift, ident)
    if shift is None:
        raise NotFound(f"no shift #{ident}")
    return shift


def contractor_profile(person: Person) -> ContractorProfile:
    """The person's contractor profile, created (active, no skills) if missing."""
    if person.profile is None:
        person.profile = ContractorProfile(
            skills=[], hourly_rate=None, currency="USD", status="active"
        )
    return person.profile


def _check_role(session: Session, person: Person, role: str) -> None:
    require_active(person, "get shifts")
    if role not in SHIFT_ROLES:
        raise InvalidInput(f"--role must be contractor or researcher, not {role!r}")
    if role not in roles_of(session, person.id):
        raise InvalidInput(
            f"{person.name} is not a {role}; grant the role first (hdops role grant)"
        )


def _tell(session: Session, person_id: int, message: Message, now: datetime) -> None:
    intents.dm(session, person_id, message, now)


def _changed(session: Session, shift: Shift) -> None:
    shift.revision = (shift.revision or 0) + 1
    note_shifts_changed(session)


def _windows(session: Session, person_id: int) -> list[Window]:
    return [
        Window(a.weekday, a.start_minute, a.end_minute, a.tz)
        for a in q.availability_of(session, person_id)
    ]


def _availability_warnings(
    session: Session,
    person: Person,
    spans: Sequence[tuple[datetime, datetime]],
    views: Sequence[ShiftView],
    tz: ZoneInfo,
) -> list[str]:
    windows = _windows(session, person.id)
    if not windows:
        return []
    outside = [
        v
        for (start, end), v in zip(spans, views, strict=True)
        if not rules.within_availability(windows, start, end)
    ]
    warnings = [
        render.outside_availability(person.display_name, v, tz) for v in outside[:MAX_WARNINGS]
    ]
    if len(outside) > MAX_WARNINGS:
        warnings.append(f"… and {len(outside) - MAX_WARNINGS} more outside availability.")
    return warnings


def _refuse_clashes(
    session: Session,
    person: Person,
    spans: Sequence[tuple[datetime, datetime]],
    tz: ZoneInfo,
    exclude: int | None = None,
) -> None:
    for start, end in spans:
        found = q.clashes(session, person.id, start, end, exclude=exclude)
        if found:
            raise Conflict(
                render.clash_text([view(session, s) for s in found], tz, person.display_name)
            )


# --------------------------------------------------------------------------- schedule


@dataclass
class Scheduled:
    shifts: list[Shift]
    views: list[ShiftView]
    warnings: list[str] = field(default_factory=list)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))


def add_shifts(
    session: Session,
    person: Person,
    date_text: str,
    range_text: str,
    *,
    settings: Settings,
    now: datetime,
    actor: Person | None = None,
    weekly: int = 1,
    tz: str | None = None,
    role: str = "contractor",
) -> Scheduled:
    """Schedule one shift, or `weekly` shifts one week apart at the same local time.
    Refused (nothing written) if any of them clashes with the person's shifts."""
    _check_role(session, person, role)
    zone = zone_of(actor, settings, tz)
    day = rules.parse_date(date_text, now.astimezone(zone).date())
    rng = rules.parse_time_range(range_text)
    spans = rules.weekly(day, rng, zone, weekly)
    if spans[0][0] < now:
        raise InvalidInput(
            "That shift would start in the past "
            f"({day:%a %Y-%m-%d} {rules.hhmm(rng.start_minute)} {zone.key})."
        )
    _refuse_clashes(session, person, spans, zone)
    series = str(uuid.uuid4()) if weekly > 1 else None
    created = []
    for start, end in spans:
        shift = Shift(
            person_id=person.id,
            role=role,
            starts_at=start,
            ends_at=end,
            tz=zone.key,
            status="scheduled",
            series_id=series,
            created_by=actor.id if actor else None,
            created_at=now,
            revision=0,
        )
        session.add(shift)
        created.append(shift)
    session.flush()
    note_shifts_changed(session)
    views = [view(session, s) for s in created]
    warnings = _availability_warnings(session, person, spans, views, zone)
    own = zone_of(person, settings)
    if len(created) == 1:
        message = render.shift_change("new", views[0], own)
    else:
        message = render.series_assigned(views, own)
    _tell(session, person.id, message, now)
    audit.record(
        session,
        "shift.add",
        f"shift:{created[0].id}",
        actor_id=actor.id if actor else None,
        at=now,
        person=person.name,
        count=len(created),
        role=role,
    )
    return Scheduled(created, views, warnings, zone)


def cancel_shift(
    session: Session,
    shift_id: int | str,
    *,
    settings: Settings,
    now: datetime,
    actor: Person | None = None,
) -> ShiftView:
    shift = get_shift(session, shift_id)
    if shift.status == "cancelled":
        raise Conflict(f"Shift #{shift.id} is already cancelled.")
    if shift.ends_at <= now:
        raise Conflict(f"Shift #{shift.id} is already over.")
    shift.status = "cancelled"
    shift.swap_to = None
    _changed(session, shift)
    v = view(session, shift)
    _tell(
        session,
        shift.person_id,
        render.shift_change("cancelled", v, zone_of(_person(session, shift.person_id), settings)),
        now,
    )
    audit.record(
        session, "shift.cancel", f"shift:{shift.id}", actor_id=actor.id if actor else None, at=now
    )
    return v


def move_shift(
    session: Session,
    shift_id: int | str,
    date_text: str,
    range_text: str,
    *,
    settings: Settings,
    now: datetime,
    actor: Person | None = None,
    tz: str | None = None,
) -> Scheduled:
    """Give a future shift a new day and time (same person); the person is told."""
    shift = get_shift(session, shift_id)
    if shift.status != "scheduled" or shift.starts_at <= now:
        raise Conflict(f"Shift #{shift.id} can't be moved: only future scheduled shifts can.")
    person = _person(session, shift.person_id)
    zone = zone_of(actor, settings, tz)
    day = rules.parse_date(date_text, now.astimezone(zone).date())
    span = rules.occurrence(day, rules.parse_time_range(range_text), zone)
    if span[0] < now:
        raise InvalidInput("That time is in the past.")
    _refuse_clashes(session, person, [span], zone, exclude=shift.id)
    own = zone_of(person, settings)
    before = render.when(view(session, shift), own)
    shift.starts_at, shift.ends_at = span
    shift.tz = zone.key
    _changed(session, shift)
    v = view(session, shift)
    _tell(session, person.id, render.shift_change("moved", v, own, before=before), now)
    audit.record(
        session, "shift.move", f"shift:{shift.id}", actor_id=actor.id if actor else None, at=now
    )
    return Scheduled([shift], [v], _availability_warnings(session, person, [span], [v], zone), zone)


# --------------------------------------------------------------------------- swaps


def request_swap(
    session: Session,
    actor: Person,
    shift_id: int | str,
    other: Person,
    *,
    settings: Settings,
    now: datetime,
) -> ShiftView:
    """Ask `other` to take over a shift (the owner asks, or ops on their behalf)."""
    shift = get_shift(session, shift_id)
    is_ops = "ops" in roles_of(session, actor.id)
    if shift.person_id != actor.id and not is_ops:
        raise PermissionDenied(
            "You can only offer your own shifts for a swap.",
            actor_id=actor.id,
            subject=f"shift:{shift.id}",
        )
    if shift.status != "scheduled" or shift.starts_at <= now:
        raise Conflict(f"Shift #{shift.id} can't be swapped: only future scheduled shifts can.")
    if other.id == shift.person_id:
        raise InvalidInput("That shift is already theirs.")
    require_active(other, "take over shifts")
    if shift.role not in roles_of(session, other.id):
        raise InvalidInput(f"{other.name} is not a {shift.role}, so they can't take this shift.")
    _refuse_clashes(session, other, [(shift.starts_at, shift.ends_at)], zone_of(actor, settings))
    shift.swap_to = other.id
    shift.swap_requested_at = now
    v = view(session, shift)
    owner = _person(session, shift.person_id)
    intents.dm(
        session,
        other.id,
        render.swap_request(v, zone_of(other, settings), owner.display_name, other.id),
        now,
        ref=f"swap:{shift.id}:{other.id}",
    )
    audit.record(
        session, "shift.swap_request", f"shift:{shift.id}", actor_id=actor.id, at=now, to=other.name
    )
    return v


def answer_swap(
    session: Session,
    actor: Person,
    shift_id: int,
    person_arg: str | None,
    accept: bool,
    *,
    settings: Settings,
    now: datetime,
) -> str:
    """The asked person pressed Accept or Decline. Returns the private reply."""
    if person_arg is None or person_arg != str(actor.id):
        raise PermissionDenied(
            "This swap request is for someone else.",
            actor_id=actor.id,
            subject=f"shift:{shift_id}",
        )
    shift = get_shift(session, shift_id)
    if shift.swap_to != actor.id:
        return "This swap request is no longer open."
    own = zone_of(actor, settings)
    owner = _person(session, shift.person_id)
    if shift.status != "scheduled" or shift.starts_at <= now:
        shift.swap_to = None
        return "Too late: that shift has started or was cancelled."
    v_before = view(session, shift)
    shift.swap_to = None
    if not accept:
        intents.edit(
            session,
            f"swap:{shift.id}:{actor.id}",
            render.swap_closed(v_before, own, owner.display_name, False),
            now,
        )
        _tell(
            session,
            owner.id,
            render.swap_declined(v_before, zone_of(owner, settings), actor.display_name),
            now,
        )
        audit.record(session, "shift.swap_decline", f"shift:{shift.id}", actor_id=actor.id, at=now)
        return "Declined; they have been told."
    _refuse_clashes(session, actor, [(shift.starts_at, shift.ends_at)], own, exclude=shift.id)
    shift.person_id = actor.id
    _changed(session, shift)
    v = view(session, shift)
    intents.edit(
        session,
        f"swap:{shift.id}:{actor.id}",
        render.swap_closed(v, own, owner.display_name, True),
        now,
    )
    _tell(
        session,
        owner.id,
        render.shift_change("swapped_out", v, zone_of(owner, settings), other=actor.display_name),
        now,
    )
    intents.to_ops(
        session,
        render.swap_to_ops(v, settings.ops_zone, owner.display_name, actor.display_name),
        now,
    )
    audit.record(
        session,
        "shift.swap_accept",
        f"shift:{shift.id}",
        actor_id=actor.id,
        at=now,
        before=owner.name,
    )
    return f"The shift is yours: {render.when(v, own)}."


# --------------------------------------------------------------------------- listing


def list_shifts(
    session: Session,
    viewer: Person | None,
    *,
    settings: Settings,
    now: datetime,
    person: Person | None = None,
    week: str | None = None,
    everyone: bool = False,
) -> tuple[list[ShiftView], ZoneInfo, str]:
    """Shifts of one week (default this week, in the viewer's timezone). `everyone`
    (ops) may see anyone's; others see their own only."""
    zone = zone_of(viewer, settings)
    if not everyone:
        if person is not None and viewer is not None and person.id != viewer.id:
            raise PermissionDenied(
                "You can only see your own shifts.",
                actor_id=viewer.id,
                subject=f"shifts-of:{person.name}",
            )
        person = viewer
    monday = parse_week(week, now.astimezone(zone).date()).monday()
    start = rules.local_to_utc(monday, 0, zone)
    end = rules.local_to_utc(monday + timedelta(days=7), 0, zone)
    ids = [person.id] if person is not None else None
    shifts = q.shifts_between(session, start, end, person_ids=ids)
    who = person.display_name if person is not None else "everyone"
    title = f"Shifts {IsoWeek.of(monday)} — {who}"
    return [view(session, s) for s in shifts], zone, title


def ics_feed(session: Session, person: Person, now: datetime) -> bytes:
    shifts = q.shifts_of(session, person.id)
    return ics_render.shifts_calendar(
        person.display_name, [view(session, s) for s in shifts], [s.revision for s in shifts], now
    )


# --------------------------------------------------------------------------- availability


def add_availability(
    session: Session, person: Person, days_text: str, range_text: str, *, settings: Settings
) -> tuple[str, str, str]:
    days = rules.parse_days(days_text)
    rng = rules.parse_time_range(range_text)
    zone = zone_of(person, settings)
    for day in days:
        session.add(
            Availability(
                person_id=person.id,
                weekday=day,
                start_minute=rng.start_minute,
                end_minute=rng.end_minute,
                tz=zone.key,
            )
        )
    session.flush()
    return rules.days_text(days), rng.text(), zone.key


def availability(session: Session, person: Person) -> list[Window]:
    return _windows(session, person.id)


def clear_availability(session: Session, person: Person) -> int:
    return q.clear_availability(session, person.id)


# --------------------------------------------------------------------------- coverage


def coverage_report(
    session: Session,
    settings: Settings,
    first_day: datetime | None = None,
    *,
    week: str | None = None,
    now: datetime,
) -> CoverageReport:
    """Scheduled contractor-hours per day (ops timezone) of one ISO week, or of the
    7 days from `first_day`'s local date."""
    zone = settings.ops_zone
    today = now.astimezone(zone).date()
    start_day = (
        first_day.astimezone(zone).date()
        if first_day is not None
        else parse_week(week, today).monday()
    )
    start = rules.local_to_utc(start_day, 0, zone)
    end = rules.local_to_utc(start_day + timedelta(days=7), 0, zone)
    shifts = q.shifts_between(session, start, end, role="contractor", live_only=True)
    minutes = rules.minutes_per_day([(s.starts_at, s.ends_at) for s in shifts], start_day, zone)
    counts = [0] * 7
    for s in shifts:
        index = (s.starts_at.astimezone(zone).date() - start_day).days
        if 0 <= index < 7:
            counts[index] += 1
    days = tuple(
        CoverageDay(start_day + timedelta(days=i), minutes[i], counts[i]) for i in range(7)
    )
    return CoverageReport(start_day, zone.key, int(settings.coverage_target_hours * 60), days)


def send_coverage_digest(session: Session, settings: Settings, now: datetime) -> bool:
    """The daily digest to ops: the next 7 days; on Mondays with the week's chart.
    Once per local day (deduplicated in the outbox)."""
    zone = settings.ops_zone
    today = now.astimezone(zone).date()
    report = coverage_report(session, settings, now, now=now)
    chart = charts.as_base64(charts.coverage_png(report)) if today.weekday() == 0 else None
    title = f"Coverage digest {today:%a %Y-%m-%d}: next 7 days"
    message = render.coverage_message(report, title=title, chart_png=chart)
    before = outbox.pending_count(session)
    intents.to_ops(session, message, now, dedupe_key=f"coverage:{today.isoformat()}")
    return outbox.pending_count(session) > before


# --------------------------------------------------------------------------- on call


def on_call(session: Session, identities: Sequence[str], now: datetime) -> list[str]:
    """Of a project's researchers, those on a researcher shift now."""
    return q.on_call_identities(session, identities, now)


# --------------------------------------------------------------------------- scheduled actions


def run_shift_job(
    session: Session, kind: str, shift_id: int, revision: int, *, settings: Settings, now: datetime
) -> bool:
    """Do one scheduled action of a shift, once. False when there was nothing to do:
    the shift is gone, changed since the job was planned, or the action was done."""
    shift = session.get(Shift, shift_id)
    if shift is None or shift.revision != revision or shift.status not in q.LIVE:
        log.info("shift job %s for shift %s r%s: stale, nothing to do", kind, shift_id, revision)
        return False
    key = marker(shift.id, revision, kind)
    if not outbox.first_delivery(session, key, now):
        log.info("shift job %s already done", key)
        return False
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise ValueError(f"unknown shift job kind {kind!r}")
    handler(session, shift, key, settings, now)
    return True


def _remind(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    if shift.status != "scheduled":
        return
    person = _person(session, shift.person_id)
    kind = key.rsplit(":", 1)[1]
    intents.dm(
        session,
        person.id,
        render.reminder(view(session, shift), zone_of(person, settings), kind),
        now,
        dedupe_key=key,
    )


def _start(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    if shift.status != "scheduled":
        return
    person = _person(session, shift.person_id)
    zone = zone_of(person, settings)
    v = view(session, shift)
    if shift.role == "researcher":
        intents.dm(
            session,
            person.id,
            render.shift_started(v, zone, pushed=False, checked_in=True),
            now,
            dedupe_key=key,
        )
        return
    profile = contractor_profile(person)
    profile.available = True
    had_task = dispatch_q.open_task(session, person.id) is not None
    assignment = dispatch.assign_next_task(session, person, now, only_new=True)
    checked = q.open_entry(session, person.id) is not None
    started = render.shift_started(
        v, zone, pushed=assignment is not None or had_task, checked_in=checked
    )
    intents.dm(session, person.id, started, now, dedupe_key=key)
    if assignment is not None:
        dispatch.show_task(session, assignment, now)


def _no_show(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    if shift.status != "scheduled" or shift.role != "contractor":
        return
    if q.checked_in_between(session, shift.person_id, shift.starts_at - NO_SHOW_LOOKBACK, now):
        return
    shift.status = "no_show"
    shift.no_show_reported_at = now
    person = _person(session, shift.person_id)
    if person.profile is not None:
        person.profile.available = False  # nobody is there to take the pushes
    minutes = int(NO_SHOW_AFTER.total_seconds() // 60)
    intents.to_ops(
        session,
        render.no_show(view(session, shift), settings.ops_zone, minutes),
        now,
        dedupe_key=key,
    )
    audit.record(session, "shift.no_show", f"shift:{shift.id}", at=now, person=person.name)


def _end(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    if shift.role != "contractor":
        return
    person = _person(session, shift.person_id)
    following = q.current_shift(session, person.id, max(now, shift.ends_at))
    if following is None and person.profile is not None:
        person.profile.available = False


def _close(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    entry = q.open_entry(session, shift.person_id)
    if entry is not None and entry.started_at < shift.ends_at:
        entry.ended_at = max(shift.ends_at, entry.started_at)
        entry.auto_closed = True
        person = _person(session, shift.person_id)
        v = view(session, shift)
        intents.to_ops(
            session,
            render.auto_closed(
                person.display_name, v, settings.ops_zone, entry.started_at, entry.ended_at
            ),
            now,
            dedupe_key=key,
        )
        _tell(
            session,
            person.id,
            render.auto_closed_for_contractor(
                entry.id, v, zone_of(person, settings), entry.ended_at
            ),
            now,
        )
        audit.record(session, "time.auto_close", person.name, at=now, shift=shift.id)
    if shift.status == "scheduled":
        shift.status = "done"


_HANDLERS = {
    "remind24h": _remind,
    "remind15": _remind,
    "start": _start,
    "noshow": _no_show,
    "end": _end,
    "close": _close,
}
