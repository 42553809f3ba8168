"""Shifts (SPEC §7): add, move, cancel and list them; what every shift use case shares.

Changes when how a shift is scheduled or read changes. Times are parsed in the
caller's timezone (`--tz`, else the caller's own, else the ops timezone) and
stored in UTC; each person reads times in their own (`zone_of`).

Every change to a shift (added, moved, cancelled, swapped) is told to the people
it affects in the same transaction (outbox), bumps the shift's `revision` and
marks the transaction so the scheduler re-syncs right after commit
(`mark_changed`). A new or moved shift is refused if it clashes with the
person's shifts, and warns when it falls outside their availability.
"""

from __future__ import annotations

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
from hdops.domain.shifts import Window
from hdops.domain.weeks import IsoWeek, parse_week
from hdops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hdops.render import ics as ics_render
from hdops.render import shifts as render
from hdops.render.shifts import ShiftView
from hdops.services import audit
from hdops.services.people import require_active, roles_of
from hdops.services.scheduling import note_shifts_changed
from hdops.store import shifts as q
from hdops.store.orm import ContractorProfile, Person, Shift

SHIFT_ROLES = ("contractor", "researcher")
MAX_WARNINGS = 3


# --------------------------------------------------------------------------- helpers


def zone_of(person: Person | None, settings: Settings, override: str | None = None) -> ZoneInfo:
    """The timezone a person types and reads times in."""
    if override:
        return rules.zone(override)
    if person is not None and person.tz:
        return rules.zone(person.tz)
    return settings.ops_zone


def person_of(session: Session, person_id: int) -> Person:
    """The person a shift belongs to (or is offered to)."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person #{person_id}")
    return person


def view(session: Session, shift: Shift) -> ShiftView:
    person = person_of(session, shift.person_id)
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


def tell(session: Session, person_id: int, message: Message, now: datetime) -> None:
    """Tell a person about a change to their shifts, in a DM (outbox)."""
    intents.dm(session, person_id, message, now)


def mark_changed(session: Session, shift: Shift) -> None:
    """A shift changed: jobs planned for its old revision become stale, and the
    scheduler re-syncs after commit."""
    shift.revision = (shift.revision or 0) + 1
    note_shifts_changed(session)


def windows_of(session: Session, person_id: int) -> list[Window]:
    """A person's availability windows."""
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
    windows = windows_of(session, person.id)
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


def refuse_clashes(
    session: Session,
    person: Person,
    spans: Sequence[tuple[datetime, datetime]],
    tz: ZoneInfo,
    exclude: int | None = None,
) -> None:
    """Refuse (Conflict, nothing written) if any span overlaps the person's shifts."""
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
    refuse_clashes(session, person, spans, zone)
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
    tell(session, person.id, message, now)
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
    mark_changed(session, shift)
    v = view(session, shift)
    tell(
        session,
        shift.person_id,
        render.shift_change("cancelled", v, zone_of(person_of(session, shift.person_id), settings)),
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
    person = person_of(session, shift.person_id)
    zone = zone_of(actor, settings, tz)
    day = rules.parse_date(date_text, now.astimezone(zone).date())
    span = rules.occurrence(day, rules.parse_time_range(range_text), zone)
    if span[0] < now:
        raise InvalidInput("That time is in the past.")
    refuse_clashes(session, person, [span], zone, exclude=shift.id)
    own = zone_of(person, settings)
    before = render.when(view(session, shift), own)
    shift.starts_at, shift.ends_at = span
    shift.tz = zone.key
    mark_changed(session, shift)
    v = view(session, shift)
    tell(session, person.id, render.shift_change("moved", v, own, before=before), now)
    audit.record(
        session, "shift.move", f"shift:{shift.id}", actor_id=actor.id if actor else None, at=now
    )
    return Scheduled([shift], [v], _availability_warnings(session, person, [span], [v], zone), zone)


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


# --------------------------------------------------------------------------- on call


def on_call(session: Session, identities: Sequence[str], now: datetime) -> list[str]:
    """Of a project's researchers, those on a researcher shift now."""
    return q.on_call_identities(session, identities, now)
