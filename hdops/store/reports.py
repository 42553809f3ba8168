"""Queries behind the report figures (`hdops.services.reports`).

Each returns counts or plain rows for one project (or one time window); the
service turns them into `hdops.domain.reports` figures. Medians and the like are
computed there, not in SQL, so SQLite and PostgreSQL give the same numbers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from hdops.store.items import LIVE_ASSIGNMENT_STATUSES
from hdops.store.orm import (
    Answer,
    Assignment,
    Clarification,
    FaqEntry,
    InstructionVersion,
    Item,
    OutboxMessage,
    Person,
    RoleGrant,
    Shift,
    TimeEntry,
)


def _accepted(project_id: int) -> ColumnElement[bool]:
    return (Answer.project_id == project_id) & (Answer.status == "accepted")


# --------------------------------------------------------------------------- a project


def item_counts(session: Session, project_id: int, overlap: int) -> tuple[int, int, int, int]:
    """(items, gold items, items with all their answers, items raised past `overlap`)."""
    row = session.execute(
        select(
            func.count(Item.id),
            func.count(Item.id).filter(Item.is_gold.is_(True)),
            func.count(Item.id).filter(Item.answer_count >= Item.target),
            func.count(Item.id).filter(Item.target > overlap),
        ).where(Item.project_id == project_id)
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def accepted_answers(session: Session, project_id: int) -> int:
    return int(session.scalar(select(func.count(Answer.id)).where(_accepted(project_id))) or 0)


def assignments_by_status(session: Session, project_id: int) -> dict[str, int]:
    return {
        status: int(n)
        for status, n in session.execute(
            select(Assignment.status, func.count(Assignment.id))
            .where(Assignment.project_id == project_id)
            .group_by(Assignment.status)
        )
    }


def contractors(session: Session, project_id: int) -> list[tuple[int, str, str]]:
    """(id, name, display name) of everyone holding the contractor role, and of
    anyone else who has worked on or asked about the project, by id."""
    worked = select(Assignment.person_id).where(Assignment.project_id == project_id)
    asked = select(Clarification.person_id).where(Clarification.project_id == project_id)
    role = select(RoleGrant.person_id).where(RoleGrant.role == "contractor")
    rows = session.execute(
        select(Person.id, Person.name, Person.display_name)
        .where(or_(Person.id.in_(role), Person.id.in_(worked), Person.id.in_(asked)))
        .order_by(Person.id)
    )
    return [(int(i), name, display) for i, name, display in rows]


def answer_records(session: Session, project_id: int) -> dict[int, tuple[int, int, int]]:
    """Per person: (accepted answers, gold items among them, gold answered correctly)."""
    rows = session.execute(
        select(
            Answer.person_id,
            func.count(Answer.id),
            func.count(Answer.id).filter(Answer.gold_correct.is_not(None)),
            func.count(Answer.id).filter(Answer.gold_correct.is_(True)),
        )
        .where(_accepted(project_id))
        .group_by(Answer.person_id)
    )
    return {int(p): (int(n), int(gold), int(right)) for p, n, gold, right in rows}


def latest_gold(session: Session, project_id: int) -> dict[int, list[bool]]:
    """Per person: the outcomes of their accepted gold answers, newest first (the
    rolling figure of the qualification rule, `hdops.domain.qualification`)."""
    outcomes: dict[int, list[bool]] = {}
    for person_id, correct in session.execute(
        select(Answer.person_id, Answer.gold_correct)
        .where(_accepted(project_id), Answer.gold_correct.is_not(None))
        .order_by(Answer.answered_at.desc(), Answer.id.desc())
    ):
        outcomes.setdefault(int(person_id), []).append(bool(correct))
    return outcomes


def answer_seconds(session: Session, project_id: int) -> dict[int, list[int]]:
    """Per person: seconds spent on each accepted answer, in answer order."""
    seconds: dict[int, list[int]] = {}
    for person_id, spent in session.execute(
        select(Answer.person_id, Answer.seconds_spent)
        .where(_accepted(project_id))
        .order_by(Answer.id)
    ):
        seconds.setdefault(int(person_id), []).append(int(spent))
    return seconds


def questions_by_person(session: Session, project_id: int) -> dict[int, int]:
    return {
        int(p): int(n)
        for p, n in session.execute(
            select(Clarification.person_id, func.count(Clarification.id))
            .where(Clarification.project_id == project_id)
            .group_by(Clarification.person_id)
        )
    }


def skips_by_person(session: Session, project_id: int) -> dict[int, int]:
    return {
        int(p): int(n)
        for p, n in session.execute(
            select(Assignment.person_id, func.count(Assignment.id))
            .where(Assignment.project_id == project_id, Assignment.status == "skipped")
            .group_by(Assignment.person_id)
        )
    }


def clarification_timings(
    session: Session, project_id: int
) -> list[tuple[datetime, datetime | None, str, int]]:
    """(opened at, first answered at, status, escalations) of each question, oldest first."""
    rows = session.execute(
        select(
            Clarification.opened_at,
            Clarification.first_answered_at,
            Clarification.status,
            Clarification.escalations,
        )
        .where(Clarification.project_id == project_id)
        .order_by(Clarification.id)
    )
    return [(opened, first, status, int(esc)) for opened, first, status, esc in rows]


def instruction_versions(session: Session, project_id: int) -> list[tuple[int, int]]:
    """(id, version number) of the project's instruction versions, oldest first."""
    rows = session.execute(
        select(InstructionVersion.id, InstructionVersion.version)
        .where(InstructionVersion.project_id == project_id)
        .order_by(InstructionVersion.version)
    )
    return [(int(i), int(v)) for i, v in rows]


def faq_questions(session: Session, version_id: int) -> list[str]:
    return list(
        session.scalars(
            select(FaqEntry.question)
            .where(FaqEntry.instruction_version_id == version_id)
            .order_by(FaqEntry.position)
        )
    )


def answers_by_version(session: Session, project_id: int) -> dict[int, int]:
    """Accepted answers per instruction version id."""
    return {
        int(v): int(n)
        for v, n in session.execute(
            select(Answer.instruction_version_id, func.count(Answer.id))
            .where(_accepted(project_id))
            .group_by(Answer.instruction_version_id)
        )
    }


# --------------------------------------------------------------------------- store-wide


def open_work(session: Session) -> tuple[int, int, int]:
    """(items short of answers, open questions, tasks held) across every project."""
    unfinished = session.scalar(select(func.count(Item.id)).where(Item.answer_count < Item.target))
    questions = session.scalar(
        select(func.count(Clarification.id)).where(Clarification.status == "open")
    )
    held = session.scalar(
        select(func.count(Assignment.id)).where(Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES))
    )
    return int(unfinished or 0), int(questions or 0), int(held or 0)


# --------------------------------------------------------------------------- shifts


def shifts_starting(session: Session, start: datetime, end: datetime) -> int:
    """Shifts (not cancelled) that start in [start, end)."""
    return int(
        session.scalar(
            select(func.count(Shift.id)).where(
                Shift.starts_at >= start, Shift.starts_at < end, Shift.status != "cancelled"
            )
        )
        or 0
    )


def no_shows(session: Session, start: datetime, end: datetime) -> list[str]:
    """Display names of who missed a shift starting in [start, end), by name."""
    return list(
        session.scalars(
            select(Person.display_name)
            .join(Shift, Shift.person_id == Person.id)
            .where(Shift.status == "no_show", Shift.starts_at >= start, Shift.starts_at < end)
            .order_by(Person.display_name, Shift.starts_at)
        )
    )


def time_entries(
    session: Session, start: datetime, end: datetime
) -> list[tuple[datetime, datetime | None]]:
    """(started, ended) of check-ins started in [start, end), earliest first."""
    rows = session.execute(
        select(TimeEntry.started_at, TimeEntry.ended_at)
        .where(TimeEntry.started_at >= start, TimeEntry.started_at < end)
        .order_by(TimeEntry.started_at, TimeEntry.id)
    )
    return [(started, ended) for started, ended in rows]


def keyed_messages(session: Session, prefix: str, start: datetime, end: datetime) -> list[str]:
    """Dedupe keys starting with `prefix` of outbox messages written in [start, end)."""
    keys = session.scalars(
        select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.startswith(prefix, autoescape=True),
            OutboxMessage.created_at >= start,
            OutboxMessage.created_at < end,
        )
    )
    return [key for key in keys if key is not None]
