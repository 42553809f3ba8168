"""Availability (SPEC §7): the weekly windows a person says they can work.

Changes when how availability is entered or stored changes. Windows are kept in
the person's own timezone. Checking a new shift against them is part of
scheduling (`shifts.py`): it only warns.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.domain import shifts as rules
from hdops.domain.shifts import Window
from hdops.services.shifts.shifts import windows_of, zone_of
from hdops.store import shifts as q
from hdops.store.orm import Availability, Person


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
    return windows_of(session, person.id)


def clear_availability(session: Session, person: Person) -> int:
    return q.clear_availability(session, person.id)
