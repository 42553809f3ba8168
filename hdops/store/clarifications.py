"""The SQL of clarification lists and counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from hdops.domain.clarifications import ClarificationSummary
from hdops.store.items import LIVE_ASSIGNMENT_STATUSES
from hdops.store.orm import Assignment, Clarification, ClarificationMessage, Person, Project


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


def current_or_last_assignment(session: Session, person_id: int) -> Assignment | None:
    """The person's open task, else their most recent one."""
    return session.scalars(
        select(Assignment)
        .where(Assignment.person_id == person_id)
        .order_by((Assignment.status == "offered").desc(), Assignment.offered_at.desc())
        .limit(1)
    ).first()


def latest_for_assignment(session: Session, assignment_id: int) -> Clarification | None:
    return session.scalars(
        select(Clarification)
        .where(Clarification.assignment_id == assignment_id)
        .order_by(Clarification.id.desc())
        .limit(1)
    ).first()


def others_about(
    session: Session, assignment_id: int, clarification_id: int
) -> list[Clarification]:
    """The other questions asked about the same task."""
    return list(
        session.scalars(
            select(Clarification).where(
                Clarification.assignment_id == assignment_id,
                Clarification.id != clarification_id,
            )
        )
    )


def open_task_lease(session: Session, person_id: int) -> datetime | None:
    """When the person's open (offered) task's lease runs out, if they have one."""
    return session.scalar(
        select(Assignment.leased_until).where(
            Assignment.person_id == person_id, Assignment.status == "offered"
        )
    )


def last_message(session: Session, clarification_id: int, direction: str) -> str | None:
    return session.scalars(
        select(ClarificationMessage.text)
        .where(
            ClarificationMessage.clarification_id == clarification_id,
            ClarificationMessage.direction == direction,
        )
        .order_by(ClarificationMessage.id.desc())
        .limit(1)
    ).first()


def recent_workers(session: Session, project_id: int, since: datetime) -> list[int]:
    """People holding a task of the project, or offered one since `since`."""
    rows = session.scalars(
        select(Assignment.person_id)
        .where(
            Assignment.project_id == project_id,
            (Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES)) | (Assignment.offered_at >= since),
        )
        .distinct()
    )
    return sorted(set(rows))


def unanswered(session: Session) -> list[Clarification]:
    """Open questions nobody has answered yet."""
    return list(
        session.scalars(
            select(Clarification).where(
                Clarification.status == "open", Clarification.first_answered_at.is_(None)
            )
        )
    )
