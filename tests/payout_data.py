"""Builders for payout tests: answers, check-ins and people straight into the store.

Time entries belong to the shifts feature; payouts only read them, so tests
create the rows directly, as they are stored.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from hdops.services.projects import current_version
from hdops.store.orm import Answer, Assignment, Item, Person, Project, TimeEntry

_keys = itertools.count(1)


def answer(
    session: Session,
    person: Person,
    item: Item,
    at: datetime,
    *,
    rate: Decimal | str | None = None,
    currency: str | None = None,
    status: str = "accepted",
    reason: str | None = None,
    seconds: int = 60,
) -> Answer:
    """An answer by `person` to `item` at `at`, paid at `rate` (default: the project's
    current per-task rate, as the answer service snapshots it)."""
    project = session.get(Project, item.project_id)
    assert project is not None
    version = current_version(session, project.id)
    assignment = Assignment(
        item_id=item.id,
        project_id=project.id,
        person_id=person.id,
        status="answered",
        offered_at=at,
        leased_until=at,
        closed_at=at,
        instruction_version_id=version.id,
    )
    session.add(assignment)
    session.flush()
    row = Answer(
        assignment_id=assignment.id,
        item_id=item.id,
        project_id=project.id,
        person_id=person.id,
        answer={"choice": "a"},
        instruction_version_id=version.id,
        seconds_spent=seconds,
        answered_at=at,
        idempotency_key=f"test-{next(_keys)}",
        status=status,
        rejected_reason=reason,
        rejected_at=at if status == "rejected" else None,
        pay_rate=Decimal(rate) if rate is not None else project.pay_per_task,
        currency=currency or project.currency,
    )
    session.add(row)
    session.flush()
    return row


def check_in(
    session: Session,
    person: Person,
    start: datetime,
    end: datetime | None,
    rate: Decimal | str | None,
    currency: str = "USD",
) -> TimeEntry:
    entry = TimeEntry(
        person_id=person.id,
        started_at=start,
        ended_at=end,
        hourly_rate=Decimal(rate) if rate is not None else None,
        currency=currency,
    )
    session.add(entry)
    session.flush()
    return entry
