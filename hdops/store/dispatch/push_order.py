"""Who is pushed a task first: available contractors, fewest answers first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from hdops.store.orm import Answer, Assignment, ContractorProfile, Person


def available_by_fewest_answers(session: Session, since: datetime) -> list[Person]:
    """Active, available contractors without an offered task, fewest answers since
    `since` first (profiles loaded with them).

    Those with a task open are left out here rather than by the push itself: the
    push locks each contractor it looks at until the sweep commits, so looking at
    all of them (at 500 contractors, every 30 s) held up every click made meanwhile.
    The answer counts are taken per candidate (an index range each), not for the
    whole week's answers."""
    answers_since = (
        select(func.count(Answer.id))
        .where(Answer.person_id == Person.id, Answer.answered_at >= since)
        .correlate(Person)
        .scalar_subquery()
    )
    holds_a_task = exists().where(Assignment.person_id == Person.id, Assignment.status == "offered")
    return list(
        session.scalars(
            select(Person)
            .join(ContractorProfile, ContractorProfile.person_id == Person.id)
            .where(
                ContractorProfile.available.is_(True),
                ContractorProfile.status == "active",
                ~holds_a_task,
            )
            .order_by(answers_since, Person.id)
            .options(selectinload(Person.profile))
        )
    )
