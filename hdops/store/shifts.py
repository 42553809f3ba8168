"""Queries for shifts, availability and time entries (SPEC §7).

Every query the shift services and the scheduler's sync need lives here; the
services work on the ORM objects these return.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from hdops.store.orm import Availability, Identity, ProcessedEvent, Shift, TimeEntry
from hdops.store.prepared import Prepared, Tx

LIVE = ("scheduled", "no_show")  # statuses of a shift that still happens


def clashes(
    session: Session,
    person_id: int,
    start: datetime,
    end: datetime,
    *,
    exclude: int | None = None,
) -> list[Shift]:
    """The person's live shifts overlapping [start, end)."""
    stmt = select(Shift).where(
        Shift.person_id == person_id,
        Shift.status.in_(LIVE),
        Shift.starts_at < end,
        Shift.ends_at > start,
    )
    if exclude is not None:
        stmt = stmt.where(Shift.id != exclude)
    return list(session.scalars(stmt.order_by(Shift.starts_at)))


def shifts_between(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    person_ids: Collection[int] | None = None,
    role: str | None = None,
    live_only: bool = False,
) -> list[Shift]:
    """Shifts overlapping [start, end), earliest first."""
    stmt = select(Shift).where(Shift.starts_at < end, Shift.ends_at > start)
    if person_ids is not None:
        stmt = stmt.where(Shift.person_id.in_(list(person_ids)))
    if role is not None:
        stmt = stmt.where(Shift.role == role)
    if live_only:
        stmt = stmt.where(Shift.status.in_(LIVE))
    return list(session.scalars(stmt.order_by(Shift.starts_at, Shift.id)))


def shifts_of(session: Session, person_id: int) -> list[Shift]:
    return list(
        session.scalars(
            select(Shift).where(Shift.person_id == person_id).order_by(Shift.starts_at, Shift.id)
        )
    )


def live_shifts_ending_after(session: Session, person_id: int, when: datetime) -> list[Shift]:
    """The person's shifts still to happen or in progress at `when`."""
    return list(
        session.scalars(
            select(Shift)
            .where(Shift.person_id == person_id, Shift.status.in_(LIVE), Shift.ends_at > when)
            .order_by(Shift.starts_at, Shift.id)
        )
    )


def swaps_offered_to(session: Session, person_id: int) -> list[Shift]:
    """Shifts someone asked this person to take over (a swap not yet answered)."""
    return list(session.scalars(select(Shift).where(Shift.swap_to == person_id)))


def live_shifts_in_window(session: Session, since: datetime, until: datetime) -> list[Shift]:
    """Live shifts that end after `since` and start before `until`: the ones whose
    scheduled jobs the scheduler's sync keeps."""
    return list(
        session.scalars(
            select(Shift)
            .where(Shift.status.in_(LIVE), Shift.ends_at > since, Shift.starts_at < until)
            .order_by(Shift.starts_at, Shift.id)
        )
    )


def current_shift(
    session: Session, person_id: int, at: datetime, *, early: datetime | None = None
) -> Shift | None:
    """The person's live shift in progress at `at` (or starting by `early`)."""
    return session.scalars(
        select(Shift)
        .where(
            Shift.person_id == person_id,
            Shift.status.in_(LIVE),
            Shift.starts_at <= (early or at),
            Shift.ends_at > at,
        )
        .order_by(Shift.starts_at)
        .limit(1)
    ).first()


def on_call_identities(session: Session, identities: Sequence[str], at: datetime) -> list[str]:
    """Those of `identities` (`slack:U…`) whose person has a researcher shift at `at`."""
    if not identities:
        return []
    rows = session.execute(
        select(Identity.platform, Identity.external_id)
        .join(Shift, Shift.person_id == Identity.person_id)
        .where(
            Shift.role == "researcher",
            Shift.status.in_(LIVE),
            Shift.starts_at <= at,
            Shift.ends_at > at,
        )
    ).all()
    on_call = {f"{platform}:{external}" for platform, external in rows}
    return [i for i in identities if i in on_call]


# --------------------------------------------------------------------------- time entries


def open_entry(session: Session, person_id: int) -> TimeEntry | None:
    return session.scalars(
        select(TimeEntry)
        .where(TimeEntry.person_id == person_id, TimeEntry.ended_at.is_(None))
        .order_by(TimeEntry.started_at.desc())
        .limit(1)
    ).first()


# Runs for every event a person sends (`hdops.core.Core`), so it is prepared, and it
# writes at most once a minute per check-in: rapid clicks change nothing here.
NOTE_ACTIVITY = Prepared(
    update(TimeEntry)
    .where(
        TimeEntry.person_id == bindparam("person_id"),
        TimeEntry.ended_at.is_(None),
        or_(
            TimeEntry.last_active_at.is_(None),
            TimeEntry.last_active_at < bindparam("stale_before"),
        ),
    )
    .values(last_active_at=bindparam("now"))
)


def note_activity(tx: Tx, person_id: int, now: datetime, stale_before: datetime) -> None:
    """The person did something: their open check-in (if any) was active `now`."""
    tx.execute(NOTE_ACTIVITY, {"person_id": person_id, "now": now, "stale_before": stale_before})


def idle_entries(session: Session, idle_before: datetime) -> list[TimeEntry]:
    """Open check-ins whose last activity (or start) is before `idle_before`. On
    PostgreSQL they are locked, skipping any a person's event is noting activity on
    right now: that one is not idle, and waiting for it could only close it wrongly."""
    last = func.coalesce(TimeEntry.last_active_at, TimeEntry.started_at)
    stmt = (
        select(TimeEntry)
        .where(TimeEntry.ended_at.is_(None), last < idle_before)
        .order_by(TimeEntry.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def latest_auto_closed(session: Session, person_id: int) -> TimeEntry | None:
    """The person's most recent check-in that hdops closed by itself."""
    return session.scalars(
        select(TimeEntry)
        .where(
            TimeEntry.person_id == person_id,
            TimeEntry.auto_closed.is_(True),
            TimeEntry.ended_at.is_not(None),
        )
        .order_by(TimeEntry.started_at.desc(), TimeEntry.id.desc())
        .limit(1)
    ).first()


def next_entry(session: Session, person_id: int, entry: TimeEntry) -> TimeEntry | None:
    """The person's first check-in that started after `entry`."""
    return session.scalars(
        select(TimeEntry)
        .where(
            TimeEntry.person_id == person_id,
            TimeEntry.id != entry.id,
            TimeEntry.started_at >= entry.started_at,
        )
        .order_by(TimeEntry.started_at, TimeEntry.id)
        .limit(1)
    ).first()


def checked_in_between(session: Session, person_id: int, since: datetime, until: datetime) -> bool:
    """True if the person has a time entry running at some point in [since, until]."""
    row = session.scalar(
        select(TimeEntry.id)
        .where(
            TimeEntry.person_id == person_id,
            TimeEntry.started_at <= until,
            (TimeEntry.ended_at.is_(None)) | (TimeEntry.ended_at >= since),
        )
        .limit(1)
    )
    return row is not None


# --------------------------------------------------------------------------- availability


def availability_of(session: Session, person_id: int) -> list[Availability]:
    return list(
        session.scalars(
            select(Availability)
            .where(Availability.person_id == person_id)
            .order_by(Availability.weekday, Availability.start_minute, Availability.id)
        )
    )


def clear_availability(session: Session, person_id: int) -> int:
    result = session.execute(delete(Availability).where(Availability.person_id == person_id))
    return int(getattr(result, "rowcount", 0) or 0)


# --------------------------------------------------------------------------- job markers


def done_markers(session: Session, markers: Collection[str]) -> set[str]:
    """Which of these job markers were recorded (as processed event ids)."""
    if not markers:
        return set()
    found: set[str] = set()
    items = list(markers)
    for i in range(0, len(items), 500):
        chunk = items[i : i + 500]
        found.update(
            session.scalars(
                select(ProcessedEvent.event_id).where(ProcessedEvent.event_id.in_(chunk))
            )
        )
    return found
