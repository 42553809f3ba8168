"""Taking tasks back: a lease that ran out returns its item to the pool
(`expire_leases`), and a person who can no longer work gives back what they hold
(`withdraw_tasks`); either way the task message says so and, if the contractor is
available, the next task is offered. `WAITING_HOLD` is how long a task waits on
its contractor's question.

This module changes when the rules for ending a task that was not answered change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hdops import intents
from hdops.chat import Message
from hdops.render import tasks as render
from hdops.services.dispatch.offers import offer_next
from hdops.services.dispatch.views import task_view
from hdops.store import dispatch as q
from hdops.store.orm import Assignment, Item, Person

WAITING_HOLD = timedelta(days=7)


def expire_leases(session: Session, now: datetime) -> int:
    """Return expired offers to the pool; tell each contractor. Returns how many."""
    expired = q.expired_assignments(session, now)
    for assignment in expired:
        _expire(session, assignment, now)
    # Tasks held for a question: once the question is resolved the lease runs again.
    for assignment in q.expired_waiting(session, now):
        _expire(session, assignment, now)
        expired.append(assignment)
    return len(expired)


def withdraw_tasks(session: Session, person_id: int, now: datetime) -> int:
    """Take back the tasks a person holds (offered, or waiting on their question):
    the items go back to the pool and each task message says so. For a person who
    can no longer work (deactivated); returns how many."""
    held = q.held_tasks(session, person_id)
    for assignment in held:
        _expire(session, assignment, now, closed=render.withdrawn_message)
    return len(held)


def _expire(
    session: Session,
    assignment: Assignment,
    now: datetime,
    *,
    closed: Callable[[render.TaskView], Message] = render.expired_message,
) -> None:
    view = task_view(session, assignment, now, with_counts=False)
    assignment.status = "expired"
    assignment.closed_at = now
    item = session.get(Item, assignment.item_id)
    if item is not None and not item.is_gold:
        q.release_slot(session, assignment.item_id)
    intents.edit(session, f"assignment:{assignment.id}", closed(view), now)
    person = session.get(Person, assignment.person_id)
    if person is not None and person.profile is not None and person.profile.available:
        offer_next(session, person, now)
