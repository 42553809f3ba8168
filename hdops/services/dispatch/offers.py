"""Offering tasks: assign the next one and show it (a push after an answer, the
periodic push to everyone without one, `/hdops next`), or tell the contractor why
there is none — once per change of the reasons (`tell_why`), so nobody is cut
off without a word and nobody hears the same reasons twice.

This module changes when who is offered a task, and when they are told what,
changes; which task it is is `choosing`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from hdops import intents
from hdops.domain.no_task import NoTask
from hdops.render import no_task as no_task_render
from hdops.render import tasks as render
from hdops.services.dispatch.choosing import assign_next, dispatch_week_start
from hdops.services.dispatch.views import build_view
from hdops.store import dispatch as q
from hdops.store.orm import Assignment, Person
from hdops.store.prepared import Tx


def offer_next_id(
    tx: Tx,
    person_id: int,
    profile_status: str | None,
    skills: Sequence[str] | None,
    now: datetime,
    *,
    tell_anyway: bool = False,
) -> int | None:
    """A push: assign and show the next task if the person has none open; the new
    task's id. If there is none for them they are told why, once per change of the
    reasons (`tell_why`); `tell_anyway` tells them even if the reasons are unchanged."""
    outcome = _offer(tx, person_id, profile_status, skills, now)
    if isinstance(outcome, NoTask):
        tell_why(tx, person_id, outcome, now, anyway=tell_anyway)
        return None
    return outcome


def tell_why(
    tx: Tx, person_id: int, no_task: NoTask, now: datetime, *, anyway: bool = False
) -> bool:
    """DM the reasons there is no task, unless (and `anyway` is off) they are the ones
    this contractor was last told — by a push or in reply to `/hdops next` — so the
    periodic push does not repeat itself. Getting a task in between does not reset
    it: someone held back by `max_share` after every answer hears it once."""
    key = no_task.key
    if not anyway and q.no_task_told(tx, person_id) == key:
        return False
    intents.dm(tx, person_id, no_task_render.why_no_task(no_task), now)
    q.set_no_task_told(tx, person_id, key)
    return True


def tell_not_taking_tasks(tx: Tx, person_id: int, now: datetime) -> None:
    """A contractor who is not taking tasks (paused, or off shift) just closed their
    task and gets no next one: say why, once (`tell_why`), unless they still have a
    task open."""
    if q.open_or_ready(tx, person_id) is None:
        tell_why(tx, person_id, NoTask(unavailable=True), now)


def _offer(
    tx: Tx, person_id: int, profile_status: str | None, skills: Sequence[str] | None, now: datetime
) -> int | NoTask | None:
    """Assign and show the next task if the person has none open: its id, why there is
    none, or None if they have one open."""
    offer = assign_next(tx, person_id, profile_status, skills, now, only_new=True)
    if offer is None or isinstance(offer, NoTask):
        return offer
    if offer.project is None:
        return None
    external_id, data = offer.item_view or q.item_view(tx, offer.item_id)
    view = build_view(
        tx,
        offer.project,
        offer.project.version,
        assignment_id=offer.assignment_id,
        person_id=person_id,
        item_external_id=external_id,
        item_data=data,
        now=now,
    )
    ref = f"assignment:{offer.assignment_id}"
    intents.dm(tx, person_id, render.task_message(view), now, ref=ref)
    return offer.assignment_id


def offer_next(session: Session, person: Person, now: datetime) -> Assignment | None:
    """A push (see `offer_next_id`) for a loaded person; returns the new task."""
    profile = person.profile
    if profile is None:
        return None
    new_id = offer_next_id(Tx(session), person.id, profile.status, profile.skills, now)
    return session.get(Assignment, new_id) if new_id is not None else None


def offer_or_explain(session: Session, person: Person, now: datetime) -> Assignment | NoTask | None:
    """`/hdops next` and `resume`: assign and show the next task (None if they have
    one open), or return why there is none for the reply — which counts as telling
    them, so the next push does not say it again."""
    profile = person.profile
    if profile is None:
        return NoTask(profile_status="missing")
    tx = Tx(session)
    outcome = _offer(tx, person.id, profile.status, profile.skills, now)
    if isinstance(outcome, NoTask):
        q.set_no_task_told(tx, person.id, outcome.key)
        return outcome
    return session.get(Assignment, outcome) if outcome is not None else None


def push_tasks(session: Session, now: datetime) -> int:
    """Offer tasks to every available contractor without one, fewest answers this
    week first, so scarce work is spread evenly. Returns how many were offered."""
    people = q.available_by_fewest_answers(session, dispatch_week_start(now))
    offered = 0
    for person in people:
        if offer_next(session, person, now) is not None:
            offered += 1
    return offered
