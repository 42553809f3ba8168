"""What limits the items a contractor gets in a project: their mix of gold and
regular items, their gold record (all of it, and their latest gold answers), and
their share of the project's answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from hdops.store.orm import Answer, Assignment, Item
from hdops.store.prepared import Prepared, Tx, as_tx

MY_MIX = Prepared(
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

GOLD_RECORD = Prepared(
    select(
        func.count(Answer.id),
        func.coalesce(func.sum(case((Answer.gold_correct.is_(True), 1), else_=0)), 0),
    ).where(
        Answer.project_id == bindparam("project_id"),
        Answer.person_id == bindparam("person_id"),
        Answer.gold_correct.is_not(None),
        Answer.status == "accepted",
    )
)

# Their latest gold answers, newest first: the rolling figure of the qualification
# rule (`hdops.domain.qualification`), and when the oldest of them was given.
RECENT_GOLD = Prepared(
    select(Answer.gold_correct, Answer.answered_at)
    .where(
        Answer.project_id == bindparam("project_id"),
        Answer.person_id == bindparam("person_id"),
        Answer.gold_correct.is_not(None),
        Answer.status == "accepted",
    )
    .order_by(Answer.answered_at.desc(), Answer.id.desc())
    .limit(bindparam("limit"))
)

ANSWERED_IN_PROJECT = Prepared(
    select(func.count(Assignment.id)).where(
        Assignment.project_id == bindparam("project_id"),
        Assignment.person_id == bindparam("person_id"),
        Assignment.status == "answered",
    )
)

# Answers that stand (not rejected): a flagged answer waiting for review still
# counts towards the share of the one who gave it.
PROJECT_ANSWERS = Prepared(
    select(func.count(Answer.id)).where(
        Answer.project_id == bindparam("project_id"), Answer.status != "rejected"
    )
)


def my_mix(db: Session | Tx, project_id: int, person_id: int) -> tuple[int, int]:
    row = as_tx(db).first(MY_MIX, {"project_id": project_id, "person_id": person_id})
    assert row is not None
    return int(row[0]), int(row[1])


def gold_record(db: Session | Tx, project_id: int, person_id: int) -> tuple[int, int]:
    row = as_tx(db).first(GOLD_RECORD, {"project_id": project_id, "person_id": person_id})
    assert row is not None
    return int(row[0]), int(row[1])


def recent_gold(
    db: Session | Tx, project_id: int, person_id: int, limit: int
) -> list[tuple[bool, datetime]]:
    """(right?, answered at) of their latest `limit` gold answers, newest first."""
    rows = as_tx(db).rows(
        RECENT_GOLD, {"project_id": project_id, "person_id": person_id, "limit": limit}
    )
    return [(bool(ok), at) for ok, at in rows]


def share_counts(db: Session | Tx, project_id: int, person_id: int) -> tuple[int, int]:
    tx = as_tx(db)
    mine = tx.scalar(ANSWERED_IN_PROJECT, {"project_id": project_id, "person_id": person_id})
    total = tx.scalar(PROJECT_ANSWERS, {"project_id": project_id})
    return int(mine or 0), int(total or 0)
