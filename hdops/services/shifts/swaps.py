"""Shift swaps (SPEC §7): the owner (or ops) offers a shift, the other person
accepts or declines with a button.

Changes when how a shift passes from one person to another changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings
from hdops.errors import Conflict, InvalidInput, PermissionDenied
from hdops.render import shifts as render
from hdops.render.shifts import ShiftView
from hdops.services import audit
from hdops.services.people import require_active, roles_of
from hdops.services.shifts.shifts import (
    get_shift,
    mark_changed,
    person_of,
    refuse_clashes,
    tell,
    view,
    zone_of,
)
from hdops.store.orm import Person


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
    refuse_clashes(session, other, [(shift.starts_at, shift.ends_at)], zone_of(actor, settings))
    shift.swap_to = other.id
    shift.swap_requested_at = now
    v = view(session, shift)
    owner = person_of(session, shift.person_id)
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
    owner = person_of(session, shift.person_id)
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
        tell(
            session,
            owner.id,
            render.swap_declined(v_before, zone_of(owner, settings), actor.display_name),
            now,
        )
        audit.record(session, "shift.swap_decline", f"shift:{shift.id}", actor_id=actor.id, at=now)
        return "Declined; they have been told."
    refuse_clashes(session, actor, [(shift.starts_at, shift.ends_at)], own, exclude=shift.id)
    shift.person_id = actor.id
    mark_changed(session, shift)
    v = view(session, shift)
    intents.edit(
        session,
        f"swap:{shift.id}:{actor.id}",
        render.swap_closed(v, own, owner.display_name, True),
        now,
    )
    tell(
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
