"""Ending a person's work: `hdops person deactivate` / `reactivate` (SPEC §1).

Deactivation stops everything that would give the person work or remind them of
it, and keeps everything that happened:

* tasks: dispatch skips them from now on (their work profile is `inactive`); the
  tasks they hold (offered, or waiting on a question) go back to the pool and
  each task message says so; an answer they still send is refused;
* shifts: every shift not started yet is cancelled with the usual notice; one in
  progress ends now (history keeps the part that happened); swap requests made
  to them are withdrawn and the owners told; new shifts and swaps to them are
  refused. With no live shift left, the scheduler's shift sync drops their
  reminders and shift jobs (at once in `hdops run`, within a minute otherwise);
* paid time: an open check-in is closed now, at the rate it was opened with;
* kept: answers, statements (this week's is still drafted and paid), audit log,
  identities and roles. Roles are not taken away: a deactivated ops person keeps
  ops rights until an admin revokes them (`hdops role revoke`), which the
  command's output says.

Each step is in one transaction with an audit entry `person.deactivate`
(and those of the cancelled shifts). `reactivate` makes the person eligible for
work again; their cancelled shifts stay cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings
from hdops.render import people as render
from hdops.render.shifts import ShiftView
from hdops.services import audit, dispatch
from hdops.services.people import INACTIVE, get_person, is_active, roles_of, work_profile
from hdops.services.scheduling import note_shifts_changed
from hdops.services.shifts import shifts as shift_service
from hdops.store import shifts as shift_q
from hdops.store.orm import Person


@dataclass(frozen=True)
class Deactivation:
    name: str
    already: bool = False
    withdrawn: int = 0  # tasks taken back
    cancelled: list[ShiftView] = field(default_factory=list)
    ended: list[ShiftView] = field(default_factory=list)  # in progress, ended now
    checked_out: bool = False
    swaps_withdrawn: int = 0
    roles: tuple[str, ...] = ()


def deactivate_person(
    session: Session,
    ref: str,
    *,
    settings: Settings,
    now: datetime,
    actor: Person | None = None,
    details: Mapping[str, Any] | None = None,
) -> Deactivation:
    """Deactivate the person `ref` (see the module docstring). Deactivating someone
    already inactive changes nothing. `details` go into the audit entry (e.g. the
    OS user of a CLI command)."""
    person = get_person(session, ref)
    roles = tuple(sorted(roles_of(session, person.id)))
    if not is_active(person):
        return Deactivation(person.name, already=True, roles=roles)
    profile = work_profile(person)
    profile.status = INACTIVE
    profile.available = False
    withdrawn = dispatch.withdraw_tasks(session, person.id, now)

    entry = shift_q.open_entry(session, person.id)
    if entry is not None:
        entry.ended_at = max(now, entry.started_at)

    cancelled: list[ShiftView] = []
    ended: list[ShiftView] = []
    for shift in shift_q.live_shifts_ending_after(session, person.id, now):
        if shift.starts_at > now:
            cancelled.append(
                shift_service.cancel_shift(
                    session, shift.id, settings=settings, now=now, actor=actor
                )
            )
        else:  # in progress: it ends now, and its remaining jobs with it
            shift.ends_at = now
            shift.status = "done"
            shift.revision = (shift.revision or 0) + 1
            note_shifts_changed(session)
            ended.append(shift_service.view(session, shift))

    swaps = shift_q.swaps_offered_to(session, person.id)
    for shift in swaps:
        shift.swap_to = None
        owner = session.get(Person, shift.person_id)
        if owner is not None:
            intents.dm(
                session,
                owner.id,
                render.swap_void(
                    shift_service.view(session, shift),
                    shift_service.zone_of(owner, settings),
                    person.display_name,
                ),
                now,
            )

    intents.dm(session, person.id, render.deactivated_notice(withdrawn, len(cancelled)), now)
    audit.record(
        session,
        "person.deactivate",
        person.name,
        actor_id=actor.id if actor else None,
        at=now,
        tasks_withdrawn=withdrawn,
        shifts_cancelled=[v.id for v in cancelled],
        shifts_ended=[v.id for v in ended],
        checked_out=entry is not None,
        swaps_withdrawn=len(swaps),
        **(details or {}),
    )
    return Deactivation(
        person.name,
        withdrawn=withdrawn,
        cancelled=cancelled,
        ended=ended,
        checked_out=entry is not None,
        swaps_withdrawn=len(swaps),
        roles=roles,
    )


def reactivate_person(
    session: Session,
    ref: str,
    *,
    now: datetime,
    actor: Person | None = None,
    details: Mapping[str, Any] | None = None,
) -> tuple[str, bool]:
    """Make a deactivated person eligible for work again: (name, changed). Their
    cancelled shifts stay cancelled; they get tasks after `/hdops next` or on a
    new shift, like anyone."""
    person = get_person(session, ref)
    if is_active(person):
        return person.name, False
    work_profile(person).status = "active"
    audit.record(
        session,
        "person.reactivate",
        person.name,
        actor_id=actor.id if actor else None,
        at=now,
        **(details or {}),
    )
    return person.name, True
