"""Queries behind the spread of work (`hdops.services.distribution`): who took
part in a project in a period, with their accepted answers in it, and the span
of time the project has had work in.

"Took part" is: offered a task of the project in the period (any outcome), or
answered one in it. Someone offered work who gave no answer counts with 0 (a
contractor never served is what the spread is about); a contractor who never
worked on the project is not part of its spread.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from hdops.store.orm import Answer, Assignment, Person, Pseudonym


def _within(
    column: InstrumentedAttribute[datetime], start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


def answers_per_participant(
    session: Session, project_id: int, start: datetime | None, end: datetime | None
) -> list[tuple[int, str, str, int]]:
    """(person id, name, display name, accepted answers in [start, end)) of everyone
    who took part in the project in [start, end) (None: unbounded), by person id."""
    counts = {
        int(person): int(n)
        for person, n in session.execute(
            select(Answer.person_id, func.count(Answer.id))
            .where(
                Answer.project_id == project_id,
                Answer.status == "accepted",
                *_within(Answer.answered_at, start, end),
            )
            .group_by(Answer.person_id)
        )
    }
    offered = select(Assignment.person_id).where(
        Assignment.project_id == project_id, *_within(Assignment.offered_at, start, end)
    )
    ids = set(counts) | {int(p) for p in session.scalars(offered.distinct())}
    if not ids:
        return []
    rows = session.execute(
        select(Person.id, Person.name, Person.display_name)
        .where(Person.id.in_(sorted(ids)))
        .order_by(Person.id)
    )
    return [(int(i), name, display, counts.get(int(i), 0)) for i, name, display in rows]


def work_span(session: Session, project_id: int) -> tuple[datetime, datetime] | None:
    """The first and last time a task of the project was offered or answered."""
    first_offer, last_offer = session.execute(
        select(func.min(Assignment.offered_at), func.max(Assignment.offered_at)).where(
            Assignment.project_id == project_id
        )
    ).one()
    if first_offer is None:
        return None
    last_answer = session.scalar(
        select(func.max(Answer.answered_at)).where(Answer.project_id == project_id)
    )
    return first_offer, max(last_offer, last_answer or last_offer)


def aliases(session: Session, project_id: int) -> dict[int, str]:
    """Person id → the pseudonym exports give them in the project (those who have one)."""
    return {
        int(person): alias
        for person, alias in session.execute(
            select(Pseudonym.person_id, Pseudonym.alias).where(Pseudonym.project_id == project_id)
        )
    }
