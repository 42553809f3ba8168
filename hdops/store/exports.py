"""SQL for answer exports (SPEC §4): pseudonyms and pages of answers.

Answers are read in keyset pages (`answers.id > last id ORDER BY id LIMIT n`),
each page its own short transaction if the caller wishes: a huge project is
exported in constant memory, and on SQLite no lock is held for the whole
export. An export is bounded by the highest answer id at its start, so answers
arriving meanwhile neither appear half-way nor lack a pseudonym.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from hdops.store.orm import Answer, InstructionVersion, Item, Pseudonym

_ALIAS_OF_ANSWERER = and_(
    Pseudonym.project_id == Answer.project_id, Pseudonym.person_id == Answer.person_id
)


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """One answer with what an export shows about it; no person id or name."""

    answer_id: int
    external_id: str
    alias: str | None
    answer: dict[str, Any]
    rationale: str | None
    instruction_version: int
    seconds_spent: int
    answered_at: datetime
    gold: dict[str, Any] | None
    gold_correct: bool | None
    status: str


def last_answer_id(session: Session, project_id: int) -> int:
    """The highest answer id of the project (0 when it has none)."""
    return session.scalar(select(func.max(Answer.id)).where(Answer.project_id == project_id)) or 0


def people_without_pseudonym(session: Session, project_id: int, upto_answer_id: int) -> list[int]:
    """Ids of people who answered (up to `upto_answer_id`) but have no alias in
    the project yet, in order of their first answer."""
    first = func.min(Answer.id)
    rows = session.execute(
        select(Answer.person_id, first)
        .outerjoin(Pseudonym, _ALIAS_OF_ANSWERER)
        .where(
            Answer.project_id == project_id,
            Answer.id <= upto_answer_id,
            Pseudonym.id.is_(None),
        )
        .group_by(Answer.person_id)
        .order_by(first)
    )
    return [person_id for person_id, _ in rows]


def project_aliases(session: Session, project_id: int) -> list[str]:
    return list(session.scalars(select(Pseudonym.alias).where(Pseudonym.project_id == project_id)))


def add_pseudonyms(session: Session, project_id: int, pairs: Sequence[tuple[int, str]]) -> None:
    """Store `(person_id, alias)` pairs; the unique constraints refuse a second
    alias for a person and a second person for an alias."""
    session.add_all(Pseudonym(project_id=project_id, person_id=p, alias=a) for p, a in pairs)
    session.flush()


def answers_page(
    session: Session, project_id: int, *, after_id: int, upto_id: int, limit: int
) -> list[AnswerRecord]:
    """The next `limit` answers of a project with ids in (after_id, upto_id]."""
    rows = session.execute(
        select(
            Answer.id,
            Item.external_id,
            Pseudonym.alias,
            Answer.answer,
            Answer.rationale,
            InstructionVersion.version,
            Answer.seconds_spent,
            Answer.answered_at,
            Item.gold,
            Answer.gold_correct,
            Answer.status,
        )
        .join(Item, Item.id == Answer.item_id)
        .join(InstructionVersion, InstructionVersion.id == Answer.instruction_version_id)
        .outerjoin(Pseudonym, _ALIAS_OF_ANSWERER)
        .where(Answer.project_id == project_id, Answer.id > after_id, Answer.id <= upto_id)
        .order_by(Answer.id)
        .limit(limit)
    )
    return [AnswerRecord(*row) for row in rows]
