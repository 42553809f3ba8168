"""What limits the items a contractor gets in a project: their mix of gold and
regular items, their gold record (all of it, and their latest gold answers), their
share of the project's answers, and (the even-share rule) how far they are ahead of
the others working on it this week while its work is scarce."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, func, literal_column, select
from sqlalchemy.orm import Session

from hdops.store.items import LIVE_ASSIGNMENT_STATUSES
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


# Who works on a project now: holders of a live task (offered, waiting or ready),
# with the project; every project's, so the status index drives the query (a few
# rows, one per contractor at most) and the project is picked in Python: with the
# project in the WHERE clause the planner would scan all its assignments instead.
LIVE_HOLDERS = Prepared(
    select(Assignment.person_id, Assignment.project_id).where(
        Assignment.status.in_([literal_column(f"'{s}'") for s in LIVE_ASSIGNMENT_STATUSES])
    )
)

WEEK_ANSWERS = Prepared(
    select(Answer.person_id, func.count(Answer.id))
    .where(
        Answer.project_id == bindparam("project_id"),
        Answer.answered_at >= bindparam("since"),
        Answer.status == "accepted",
    )
    .group_by(Answer.person_id)
)

# One contractor's answers in one project since a time, counted through their own
# index (person, time): the project is in the CASE, not the WHERE clause, so the
# planner does not scan the whole project's week instead.
MY_WEEK_ANSWERS = Prepared(
    select(
        func.count(case((Answer.project_id == bindparam("project_id"), Answer.id), else_=None))
    ).where(
        Answer.person_id == bindparam("person_id"),
        Answer.answered_at >= bindparam("since"),
        Answer.status == "accepted",
    )
)

# Whether a project has at least `n` open regular items: the n-th one by the
# dispatch index (`offset` n - 1), a scan that stops there.
NTH_OPEN_ITEM = Prepared(
    select(Item.id)
    .where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(False),
        Item.open_slots > 0,
    )
    .order_by(Item.open_slots, Item.id)
    .limit(1)
    .offset(bindparam("offset"))
)

# The open slots of a project's regular items (run only when it has few open items).
OPEN_SLOTS = Prepared(
    select(func.coalesce(func.sum(Item.open_slots), 0)).where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(False),
        Item.open_slots > 0,
    )
)


def team(db: Session | Tx, project_id: int) -> list[int]:
    """Ids of the contractors holding a live task in the project."""
    rows = as_tx(db).rows(LIVE_HOLDERS)
    return sorted({int(person) for person, project in rows if project == project_id})


def my_week_answers(db: Session | Tx, project_id: int, person_id: int, since: datetime) -> int:
    """One contractor's accepted answers in the project since `since`."""
    params = {"project_id": project_id, "person_id": person_id, "since": since}
    return int(as_tx(db).scalar(MY_WEEK_ANSWERS, params) or 0)


def week_answers(db: Session | Tx, project_id: int, since: datetime) -> dict[int, int]:
    """Accepted answers per person in the project since `since`."""
    rows = as_tx(db).rows(WEEK_ANSWERS, {"project_id": project_id, "since": since})
    return {int(p): int(n) for p, n in rows}


def fewer_open_slots_than(db: Session | Tx, project_id: int, limit: int) -> bool:
    """Whether the project's regular items have fewer than `limit` open slots. Each
    open item has one or more, so `limit` open items settle it (a bounded scan);
    only a project with fewer open items has its slots summed."""
    tx = as_tx(db)
    if limit <= 0:
        return False
    params = {"project_id": project_id, "offset": limit - 1}
    if tx.scalar(NTH_OPEN_ITEM, params) is not None:
        return False
    return int(tx.scalar(OPEN_SLOTS, {"project_id": project_id}) or 0) < limit
