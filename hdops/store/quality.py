"""Queries behind the quality figures (`hdops.services.quality`, SPEC §6b).

Agreement, aggregation and calibration need every accepted answer of a project at
once (EM and least squares are not SQL aggregates), so `accepted_answers` reads
them in one query as small tuples: the item, the person, the answer JSON, the
instruction version and batch it belongs to, and the seconds spent. Answers in any
status other than `accepted` (rejected, or held for review) are left out here and
nowhere else, so no figure counts them by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hdops.store.orm import (
    Answer,
    Assignment,
    Batch,
    Clarification,
    InstructionVersion,
    Item,
    Person,
)

ACCEPTED = "accepted"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class AnswerFact:
    """An accepted answer as the quality figures see it."""

    item_id: int
    person_id: int
    answer: dict[str, Any]
    instruction_version: int
    seconds_spent: int
    gold_correct: bool | None  # as judged when answered (None: not a gold item, or not judged)


@dataclass(frozen=True, slots=True)
class ItemFact:
    """An item of the project, answered or not."""

    item_id: int
    external_id: str
    batch: str | None
    gold: dict[str, Any] | None  # the known answer of a gold item


def accepted_answers(
    session: Session, project_id: int, *, on_items_of: int | None = None
) -> list[AnswerFact]:
    """Every accepted answer of the project, in the order they were given; with
    `on_items_of`, only those on items that person has an accepted answer on."""
    stmt = (
        select(
            Answer.item_id,
            Answer.person_id,
            Answer.answer,
            InstructionVersion.version,
            Answer.seconds_spent,
            Answer.gold_correct,
        )
        .join(InstructionVersion, InstructionVersion.id == Answer.instruction_version_id)
        .where(Answer.project_id == project_id, Answer.status == ACCEPTED)
        .order_by(Answer.id)
    )
    if on_items_of is not None:
        theirs = select(Answer.item_id).where(
            Answer.project_id == project_id,
            Answer.status == ACCEPTED,
            Answer.person_id == on_items_of,
        )
        stmt = stmt.where(Answer.item_id.in_(theirs))
    rows = session.execute(stmt)
    return [
        AnswerFact(int(item), int(person), dict(answer), int(version), int(seconds), correct)
        for item, person, answer, version, seconds, correct in rows
    ]


def items(session: Session, project_id: int) -> list[ItemFact]:
    """Every item of the project in import order, with its batch and gold."""
    rows = session.execute(
        select(Item.id, Item.external_id, Batch.name, Item.gold, Item.is_gold)
        .outerjoin(Batch, Batch.id == Item.batch_id)
        .where(Item.project_id == project_id)
        .order_by(Item.id)
    )
    return [
        ItemFact(int(i), external_id, batch, dict(gold) if is_gold and gold else None)
        for i, external_id, batch, gold, is_gold in rows
    ]


def rejections_by_person(session: Session, project_id: int) -> dict[int, int]:
    """Per person: answers rejected in review."""
    return {
        int(p): int(n)
        for p, n in session.execute(
            select(Answer.person_id, func.count(Answer.id))
            .where(Answer.project_id == project_id, Answer.status == REJECTED)
            .group_by(Answer.person_id)
        )
    }


def people_involved(session: Session, project_id: int) -> list[tuple[int, str, str]]:
    """(id, name, display name) of everyone who was offered a task of the project or
    asked about it, by id."""
    offered = select(Assignment.person_id).where(Assignment.project_id == project_id)
    asked = select(Clarification.person_id).where(Clarification.project_id == project_id)
    rows = session.execute(
        select(Person.id, Person.name, Person.display_name)
        .where(or_(Person.id.in_(offered), Person.id.in_(asked)))
        .order_by(Person.id)
    )
    return [(int(i), name, display) for i, name, display in rows]
