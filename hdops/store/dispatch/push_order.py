"""Who is pushed a task first: available contractors, fewest answers first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hdops.store.orm import Answer, ContractorProfile, Person


def available_by_fewest_answers(session: Session, since: datetime) -> list[Person]:
    """Active, available contractors, fewest answers since `since` first."""
    answers_since = (
        select(Answer.person_id, func.count(Answer.id).label("n"))
        .where(Answer.answered_at >= since)
        .group_by(Answer.person_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(Person)
            .join(ContractorProfile, ContractorProfile.person_id == Person.id)
            .outerjoin(answers_since, answers_since.c.person_id == Person.id)
            .where(ContractorProfile.available.is_(True), ContractorProfile.status == "active")
            .order_by(func.coalesce(answers_since.c.n, 0), Person.id)
        )
    )
