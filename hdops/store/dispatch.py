"""The dispatcher's SQL, built once at import (the hot path rebuilds nothing).

Concurrency: a slot on an item is claimed with a conditional decrement
(`open_slots = open_slots - 1 WHERE open_slots > 0`), which PostgreSQL
re-evaluates after waiting on a row lock, so two dispatchers can never over-fill
an item; `(item_id, person_id)` is unique, so nobody gets the same item twice;
and the contractor's profile row is locked first (`FOR UPDATE` on PostgreSQL,
`BEGIN IMMEDIATE` on SQLite), so one contractor never holds two open tasks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, exists, func, select, update
from sqlalchemy.orm import Session

from hdops.store.orm import Answer, Assignment, ContractorProfile, Item

_assigned_to_me = exists().where(
    Assignment.item_id == Item.id, Assignment.person_id == bindparam("person_id")
)

NEXT_REGULAR = (
    select(Item.id)
    .where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(False),
        Item.open_slots > 0,
        ~_assigned_to_me,
    )
    .order_by(Item.open_slots, Item.id)
    .limit(bindparam("limit"))
)

NEXT_GOLD = (
    select(Item.id)
    .where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(True),
        ~_assigned_to_me,
    )
    .order_by(Item.answer_count, Item.id)
    .limit(bindparam("limit"))
)

CLAIM_SLOT = (
    update(Item)
    .where(Item.id == bindparam("item_id"), Item.open_slots > 0)
    .values(open_slots=Item.open_slots - 1)
    .execution_options(synchronize_session=False)
)

RELEASE_SLOT = (
    update(Item)
    .where(Item.id == bindparam("item_id"))
    .values(open_slots=Item.open_slots + 1)
    .execution_options(synchronize_session=False)
)

OPEN_TASK = (
    select(Assignment)
    .where(Assignment.person_id == bindparam("person_id"), Assignment.status == "offered")
    .limit(1)
)

MY_MIX = (
    select(
        func.count(Assignment.id),
        func.coalesce(func.sum(case((Item.is_gold.is_(True), 1), else_=0)), 0),
    )
    .select_from(Assignment)
    .join(Item, Item.id == Assignment.item_id)
    .where(
        Assignment.project_id == bindparam("project_id"),
        Assignment.person_id == bindparam("person_id"),
    )
)

GOLD_RECORD = select(
    func.count(Answer.id),
    func.coalesce(func.sum(case((Answer.gold_correct.is_(True), 1), else_=0)), 0),
).where(
    Answer.project_id == bindparam("project_id"),
    Answer.person_id == bindparam("person_id"),
    Answer.gold_correct.is_not(None),
    Answer.status == "accepted",
)

ANSWERED_IN_PROJECT = select(func.count(Assignment.id)).where(
    Assignment.project_id == bindparam("project_id"),
    Assignment.person_id == bindparam("person_id"),
    Assignment.status == "answered",
)

PROJECT_ANSWERS = select(func.count(Answer.id)).where(
    Answer.project_id == bindparam("project_id"), Answer.status == "accepted"
)

LOCK_PROFILE = select(ContractorProfile.person_id).where(
    ContractorProfile.person_id == bindparam("person_id")
)

EXPIRED = (
    select(Assignment)
    .where(Assignment.status == "offered", Assignment.leased_until < bindparam("now"))
    .order_by(Assignment.id)
    .limit(bindparam("limit"))
)

EXPIRED_WAITING = (
    select(Assignment)
    .where(Assignment.status == "waiting", Assignment.leased_until < bindparam("now"))
    .order_by(Assignment.id)
    .limit(bindparam("limit"))
)


LOCK_PROFILE_PG = LOCK_PROFILE.with_for_update()


def lock_contractor(session: Session, person_id: int) -> None:
    """Serialise dispatch per contractor. SQLite's BEGIN IMMEDIATE already does."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(LOCK_PROFILE_PG, {"person_id": person_id})


def open_task(session: Session, person_id: int) -> Assignment | None:
    return session.scalars(OPEN_TASK, {"person_id": person_id}).first()


def candidate_items(
    session: Session, project_id: int, person_id: int, gold: bool, limit: int = 3
) -> list[int]:
    stmt = NEXT_GOLD if gold else NEXT_REGULAR
    return list(
        session.scalars(stmt, {"project_id": project_id, "person_id": person_id, "limit": limit})
    )


def claim_slot(session: Session, item_id: int) -> bool:
    result = session.execute(CLAIM_SLOT, {"item_id": item_id})
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_slot(session: Session, item_id: int) -> None:
    session.execute(RELEASE_SLOT, {"item_id": item_id})


def my_mix(session: Session, project_id: int, person_id: int) -> tuple[int, int]:
    row = session.execute(MY_MIX, {"project_id": project_id, "person_id": person_id}).one()
    return int(row[0]), int(row[1])


def gold_record(session: Session, project_id: int, person_id: int) -> tuple[int, int]:
    row = session.execute(GOLD_RECORD, {"project_id": project_id, "person_id": person_id}).one()
    return int(row[0]), int(row[1])


def share_counts(session: Session, project_id: int, person_id: int) -> tuple[int, int]:
    mine = session.scalar(ANSWERED_IN_PROJECT, {"project_id": project_id, "person_id": person_id})
    total = session.scalar(PROJECT_ANSWERS, {"project_id": project_id})
    return int(mine or 0), int(total or 0)


def expired_assignments(session: Session, now: datetime, limit: int = 500) -> list[Assignment]:
    stmt = EXPIRED
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt, {"now": now, "limit": limit}))


def expired_waiting(session: Session, now: datetime, limit: int = 500) -> list[Assignment]:
    return list(session.scalars(EXPIRED_WAITING, {"now": now, "limit": limit}))


BUMP_ANSWERS = (
    update(Item)
    .where(Item.id == bindparam("item_id"))
    .values(answer_count=Item.answer_count + bindparam("delta"))
    .returning(Item.answer_count, Item.target)
    .execution_options(synchronize_session=False)
)


def bump_answer_count(session: Session, item_id: int, delta: int) -> tuple[int, int]:
    """Add `delta` accepted answers; returns the item's new (answer_count, target)."""
    row = session.execute(BUMP_ANSWERS, {"item_id": item_id, "delta": delta}).one()
    return int(row[0]), int(row[1])
