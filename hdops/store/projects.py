"""The SQL of projects: lookups, instruction versions and the counts a summary shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hdops.store.items import LIVE_ASSIGNMENT_STATUSES
from hdops.store.orm import (
    Answer,
    Assignment,
    Clarification,
    InstructionVersion,
    Item,
    Project,
)


def by_name(session: Session, name: str) -> Project | None:
    return session.scalar(select(Project).where(Project.name == name))


def name_taken(session: Session, name: str) -> bool:
    return session.scalar(select(Project.id).where(Project.name == name)) is not None


def ordered(session: Session) -> list[Project]:
    """Every project, highest priority first, then by name."""
    return list(session.scalars(select(Project).order_by(Project.priority.desc(), Project.name)))


def latest_version(session: Session, project_id: int) -> InstructionVersion | None:
    return session.scalar(
        select(InstructionVersion)
        .where(InstructionVersion.project_id == project_id)
        .order_by(InstructionVersion.version.desc())
        .limit(1)
    )


def answer_count(session: Session, project_id: int) -> int:
    """Answers of any status (accepted or rejected)."""
    return session.scalar(select(func.count()).where(Answer.project_id == project_id)) or 0


def holders_of_live_tasks(session: Session, project_id: int) -> list[int]:
    """People holding a task of the project (offered, waiting or ready), by id."""
    return sorted(
        set(
            session.scalars(
                select(Assignment.person_id).where(
                    Assignment.project_id == project_id,
                    Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
                )
            )
        )
    )


@dataclass(frozen=True)
class ProjectCounts:
    items: int
    gold_items: int
    items_done: int
    answers: int  # that stand: accepted, or flagged and waiting for review
    open_clarifications: int
    flagged: int = 0  # waiting for review (`hdops review`)


def counts(session: Session, project_id: int) -> ProjectCounts:
    items, gold, done = session.execute(
        select(
            func.count(Item.id),
            func.count(Item.id).filter(Item.is_gold.is_(True)),
            func.count(Item.id).filter(Item.answer_count >= Item.target),
        ).where(Item.project_id == project_id)
    ).one()
    answers, flagged = session.execute(
        select(
            func.count(Answer.id),
            func.count(Answer.id).filter(Answer.status == "flagged"),
        ).where(Answer.project_id == project_id, Answer.status != "rejected")
    ).one()
    open_q = session.scalar(
        select(func.count()).where(
            Clarification.project_id == project_id, Clarification.status == "open"
        )
    )
    return ProjectCounts(items or 0, gold or 0, done or 0, answers or 0, open_q or 0, flagged or 0)


def names_like(session: Session, typed: str, within: list[int] | None, limit: int) -> list[str]:
    """Project names containing `typed` (any case; `%` and `_` are literal), among
    `within` (None: every project), by name."""
    stmt = select(Project.name).where(
        func.lower(Project.name).contains(typed.lower(), autoescape=True)
    )
    if within is not None:
        stmt = stmt.where(Project.id.in_(within))
    return list(session.scalars(stmt.order_by(Project.name).limit(limit)))


def pace(session: Session, project_id: int, since: datetime) -> tuple[int, int]:
    """(answers the project's non-gold items still need, accepted answers since `since`):
    what an estimate of the time to finish rests on."""
    needed = session.scalar(
        select(func.coalesce(func.sum(Item.target - Item.answer_count), 0)).where(
            Item.project_id == project_id,
            Item.is_gold.is_(False),
            Item.answer_count < Item.target,
        )
    )
    recent = session.scalar(
        select(func.count()).where(
            Answer.project_id == project_id,
            Answer.status == "accepted",
            Answer.answered_at >= since,
        )
    )
    return int(needed or 0), int(recent or 0)
