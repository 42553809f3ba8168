"""The answer transaction's own SQL (the dispatch half is in `hdops.store.dispatch`).

All `Prepared` (see `hdops.store.prepared`): compiled once per dialect, run on
the driver cursor of the caller's transaction, so recording an answer costs a
few microseconds of SQL per statement instead of an ORM unit of work.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, update

from hdops.store.orm import (
    Answer,
    Assignment,
    ContractorProfile,
    InstructionVersion,
    Item,
    Project,
)
from hdops.store.prepared import Prepared, Tx

ANSWER_BY_KEY = Prepared(
    select(Answer.id).where(Answer.idempotency_key == bindparam("idempotency_key"))
)

# Everything the answer needs about its assignment, in one statement, with the
# answer already stored under this idempotency key if any (a redelivery). On
# PostgreSQL the assignment row is locked: a second delivery of the same click
# waits here until the first commits, then finds it answered (no unique-key race).
ASSIGNMENT_FOR_ANSWER = Prepared(
    select(
        select(Answer.id)
        .where(Answer.idempotency_key == bindparam("idempotency_key"))
        .scalar_subquery(),
        Assignment.person_id,
        Assignment.status,
        Assignment.item_id,
        Assignment.project_id,
        Assignment.offered_at,
        Assignment.paused_seconds,
        Assignment.instruction_version_id,
        Item.is_gold,
        Item.gold,
        Item.external_id,
        Item.data,
        Project.updated_at,
        ContractorProfile.status,
        ContractorProfile.available,
        ContractorProfile.skills,
    )
    .select_from(Assignment)
    .join(Item, Item.id == Assignment.item_id)
    .join(Project, Project.id == Assignment.project_id)
    .outerjoin(ContractorProfile, ContractorProfile.person_id == Assignment.person_id)
    .where(Assignment.id == bindparam("assignment_id"))
    .with_for_update(of=Assignment)
)

INSERT_ANSWER = Prepared(
    insert(Answer).returning(Answer.id),
    columns=[
        "assignment_id",
        "item_id",
        "project_id",
        "person_id",
        "answer",
        "rationale",
        "instruction_version_id",
        "seconds_spent",
        "answered_at",
        "idempotency_key",
        "gold_correct",
        "status",
        "flag_reasons",
        "flagged_at",
        "pay_rate",
        "currency",
    ],
)

CLOSE_ASSIGNMENT = Prepared(
    update(Assignment)
    .where(Assignment.id == bindparam("assignment_id"))
    .values(status=bindparam("new_status"), closed_at=bindparam("closed_at"))
)

ACCEPTED_ANSWERS_OF_ITEM = Prepared(
    select(Answer.answer).where(Answer.item_id == bindparam("item_id"), Answer.status == "accepted")
)

EXTEND_TARGET = Prepared(
    update(Item)
    .where(Item.id == bindparam("item_id"))
    .values(target=Item.target + 1, open_slots=Item.open_slots + 1)
)


# The newest instruction version a contractor was shown in a project: each of their
# assignments records the version its message showed, moved on by the notices of
# later versions (see `hdops.services.projects.shown_to`).
LATEST_SHOWN_VERSION = Prepared(
    select(InstructionVersion.id)
    .join(Assignment, Assignment.instruction_version_id == InstructionVersion.id)
    .where(
        Assignment.project_id == bindparam("project_id"),
        Assignment.person_id == bindparam("person_id"),
    )
    .order_by(InstructionVersion.version.desc())
    .limit(1)
)


class AnswerContext(NamedTuple):
    """The assignment being answered, its item, and its contractor's profile: the
    row of `ASSIGNMENT_FOR_ANSWER` as it comes (a tuple, built without copying)."""

    duplicate_of: int | None  # the answer already stored under the idempotency key
    person_id: int
    status: str
    item_id: int
    project_id: int
    offered_at: datetime
    paused_seconds: int
    instruction_version_id: int
    is_gold: bool
    gold: dict[str, Any] | None
    item_external_id: str
    item_data: dict[str, Any]
    project_updated_at: datetime
    profile_status: str | None  # None: no contractor profile
    available: bool | None  # None: no contractor profile
    skills: list[str] | None


def latest_shown_version(tx: Tx, project_id: int, person_id: int) -> int:
    found: int = tx.scalar(LATEST_SHOWN_VERSION, {"project_id": project_id, "person_id": person_id})
    return found


def answer_by_key(tx: Tx, idempotency_key: str) -> int | None:
    found: int | None = tx.scalar(ANSWER_BY_KEY, {"idempotency_key": idempotency_key})
    return found


def assignment_for_answer(tx: Tx, assignment_id: int, idempotency_key: str) -> AnswerContext | None:
    row = tx.first(
        ASSIGNMENT_FOR_ANSWER,
        {"assignment_id": assignment_id, "idempotency_key": idempotency_key},
    )
    return AnswerContext._make(row) if row is not None else None


def insert_answer(
    tx: Tx,
    *,
    assignment_id: int,
    item_id: int,
    project_id: int,
    person_id: int,
    answer: dict[str, Any],
    instruction_version_id: int,
    seconds_spent: int,
    answered_at: datetime,
    idempotency_key: str,
    gold_correct: bool | None,
    pay_rate: Decimal,
    currency: str,
    flag: str | None = None,
) -> int:
    """Store an answer, accepted or (with a `flag` reason) flagged for review;
    raises `IntegrityError` if the key (or the assignment) already has one."""
    new_id: int = tx.scalar(
        INSERT_ANSWER,
        {
            "assignment_id": assignment_id,
            "item_id": item_id,
            "project_id": project_id,
            "person_id": person_id,
            "answer": answer,
            "rationale": answer.get("rationale"),
            "instruction_version_id": instruction_version_id,
            "seconds_spent": seconds_spent,
            "answered_at": answered_at,
            "idempotency_key": idempotency_key,
            "gold_correct": gold_correct,
            "status": "flagged" if flag else "accepted",
            "flag_reasons": flag,
            "flagged_at": answered_at if flag else None,
            "pay_rate": pay_rate,
            "currency": currency,
        },
    )
    return new_id


def close_assignment(tx: Tx, assignment_id: int, status: str, now: datetime) -> None:
    """Close the assignment. The row changes without the ORM, so if the session
    holds it as an object, its changed attributes are expired (read again on use)."""
    tx.execute(
        CLOSE_ASSIGNMENT, {"assignment_id": assignment_id, "new_status": status, "closed_at": now}
    )
    tx.expire_if_loaded(Assignment, assignment_id, ["status", "closed_at"])


def accepted_answers(tx: Tx, item_id: int) -> list[dict[str, Any]]:
    return tx.scalars(ACCEPTED_ANSWERS_OF_ITEM, {"item_id": item_id})


def extend_target(tx: Tx, item_id: int) -> None:
    """One more answer wanted for the item (and one more open slot)."""
    tx.execute(EXTEND_TARGET, {"item_id": item_id})
