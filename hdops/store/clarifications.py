"""The SQL of clarification lists and counts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from hdops.domain.clarifications import ClarificationSummary
from hdops.store.orm import Clarification, Person, Project


def summaries(
    session: Session,
    project_id: int | None = None,
    only_open: bool = False,
    within: Sequence[int] | None = None,
) -> list[ClarificationSummary]:
    """Questions oldest first, with their project's and asker's names."""
    asker = aliased(Person)
    stmt = (
        select(
            Clarification.id,
            Project.name,
            asker.name,
            Clarification.status,
            Clarification.question,
            Clarification.opened_at,
            Clarification.first_answered_at,
        )
        .join(Project, Project.id == Clarification.project_id)
        .join(asker, asker.id == Clarification.person_id)
        .order_by(Clarification.id)
    )
    if project_id is not None:
        stmt = stmt.where(Clarification.project_id == project_id)
    if only_open:
        stmt = stmt.where(Clarification.status == "open")
    if within is not None:
        stmt = stmt.where(Clarification.project_id.in_(within))
    return [ClarificationSummary(*row) for row in session.execute(stmt)]
