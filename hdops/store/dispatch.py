"""The dispatcher's SQL, built once at import (the hot path rebuilds nothing).

Statements the answer path runs are `Prepared` (see `hdops.store.prepared`):
compiled once per dialect and run on the driver cursor of the session's
transaction. Functions take a `Session` or, on the hot path, the `Tx` the
caller already holds; both run in the same transaction.

Concurrency: a slot on an item is claimed with a conditional decrement
(`open_slots = open_slots - 1 WHERE open_slots > 0`), which PostgreSQL
re-evaluates after waiting on a row lock, so two dispatchers can never over-fill
an item; `(item_id, person_id)` is unique, so nobody gets the same item twice;
and the contractor's profile row is locked first (`FOR UPDATE` on PostgreSQL,
`BEGIN IMMEDIATE` on SQLite), so one contractor never holds two open tasks.

Liveness: on PostgreSQL many dispatchers run at once and all see the same first
open items. Each takes its candidate with `FOR UPDATE SKIP LOCKED`, so they
spread over different items instead of queueing on one and then finding all
their few candidates filled (which left contractors without a task while work
remained). Gold items are only read (they have no slots), so they are not locked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, exists, func, insert, literal_column, select, update
from sqlalchemy.orm import Session

from hdops.store.items import LIVE_ASSIGNMENT_STATUSES
from hdops.store.orm import (
    Answer,
    Assignment,
    Clarification,
    ContractorProfile,
    InstructionVersion,
    Item,
    Person,
    Project,
)
from hdops.store.prepared import Prepared, Tx, as_tx

_assigned_to_me = exists().where(
    Assignment.item_id == Item.id, Assignment.person_id == bindparam("person_id")
)

NEXT_REGULAR = Prepared(
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

# PostgreSQL: one candidate, locked, skipping items other dispatchers hold right now.
NEXT_REGULAR_SKIP_LOCKED = Prepared(
    select(Item.id)
    .where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(False),
        Item.open_slots > 0,
        ~_assigned_to_me,
    )
    .order_by(Item.open_slots, Item.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)

NEXT_GOLD = Prepared(
    select(Item.id)
    .where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(True),
        ~_assigned_to_me,
    )
    .order_by(Item.answer_count, Item.id)
    .limit(bindparam("limit"))
)

CLAIM_SLOT = Prepared(
    update(Item)
    .where(Item.id == bindparam("item_id"), Item.open_slots > 0)
    .values(open_slots=Item.open_slots - 1)
)

# The claim of a regular item for a new task, returning what its message shows.
CLAIM_ITEM = Prepared(
    update(Item)
    .where(Item.id == bindparam("item_id"), Item.open_slots > 0)
    .values(open_slots=Item.open_slots - 1)
    .returning(Item.external_id, Item.data)
)

RELEASE_SLOT = Prepared(
    update(Item).where(Item.id == bindparam("item_id")).values(open_slots=Item.open_slots + 1)
)

BUMP_ANSWERS = Prepared(
    update(Item)
    .where(Item.id == bindparam("item_id"))
    .values(answer_count=Item.answer_count + bindparam("delta"))
    .returning(Item.answer_count, Item.target)
)

OPEN_TASK = (
    select(Assignment)
    .where(Assignment.person_id == bindparam("person_id"), Assignment.status == "offered")
    .limit(1)
)

# The contractor's open task, else an item held for them whose question was
# resolved (`ready`, in an active project): (id, status, project, item). "offered"
# sorts before "ready", so an open task wins.
OPEN_OR_READY = Prepared(
    select(Assignment.id, Assignment.status, Assignment.project_id, Assignment.item_id)
    .join(Project, Project.id == Assignment.project_id)
    .where(
        Assignment.person_id == bindparam("person_id"),
        Assignment.status.in_([literal_column("'offered'"), literal_column("'ready'")]),
        (Assignment.status == "offered") | (Project.status == "active"),
    )
    .order_by(Assignment.status, Assignment.id)
    .limit(1)
)

OFFER_AGAIN = Prepared(
    update(Assignment)
    .where(Assignment.id == bindparam("assignment_id"), Assignment.status == "ready")
    .values(
        status="offered",
        leased_until=bindparam("leased_until"),
        instruction_version_id=bindparam("version_id"),
        paused_seconds=Assignment.paused_seconds + bindparam("paused"),
    )
    .returning(Assignment.paused_seconds)
)

LAST_RESOLVED = Prepared(
    select(func.max(Clarification.resolved_at)).where(
        Clarification.assignment_id == bindparam("assignment_id")
    )
)

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

ANSWERED_IN_PROJECT = Prepared(
    select(func.count(Assignment.id)).where(
        Assignment.project_id == bindparam("project_id"),
        Assignment.person_id == bindparam("person_id"),
        Assignment.status == "answered",
    )
)

PROJECT_ANSWERS = Prepared(
    select(func.count(Answer.id)).where(
        Answer.project_id == bindparam("project_id"), Answer.status == "accepted"
    )
)

LOCK_PROFILE_PG = Prepared(
    select(ContractorProfile.person_id)
    .where(ContractorProfile.person_id == bindparam("person_id"))
    .with_for_update()
)

# Projects open for dispatch, in the order they are offered. Only the key of the
# per-process project cache is read (see `hdops.services.dispatch.project_info`).
ACTIVE_PROJECTS = Prepared(
    select(Project.id, Project.updated_at)
    .where(Project.status == "active")
    .order_by(Project.priority.desc(), Project.id)
)

# Paused projects, in the same order: only read when a contractor gets no task, to
# tell them why (see `hdops.services.dispatch.assign_next`).
PAUSED_PROJECTS = Prepared(
    select(Project.id, Project.updated_at)
    .where(Project.status == "paused")
    .order_by(Project.priority.desc(), Project.id)
)

# Items of a project that still need answers and that this contractor has not had:
# if none has an open slot, other contractors hold them.
UNFINISHED_NOT_MINE = Prepared(
    select(func.count(Item.id)).where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(False),
        Item.answer_count < Item.target,
        ~_assigned_to_me,
    )
)

NO_TASK_TOLD = Prepared(
    select(ContractorProfile.no_task_told).where(
        ContractorProfile.person_id == bindparam("person_id")
    )
)

SET_NO_TASK_TOLD = Prepared(
    update(ContractorProfile)
    .where(ContractorProfile.person_id == bindparam("person_id"))
    .values(no_task_told=bindparam("key"))
)

PROJECT_UPDATED_AT = Prepared(
    select(Project.updated_at).where(Project.id == bindparam("project_id"))
)

# A project with its current instruction version, read in one statement so the
# pair is consistent (a new version moves `updated_at` in the same transaction).
PROJECT_WITH_VERSION = Prepared(
    select(
        Project.id,
        Project.name,
        Project.title,
        Project.task_type,
        Project.spec,
        Project.overlap,
        Project.max_overlap,
        Project.gold_share,
        Project.lease_minutes,
        Project.max_share,
        Project.pay_per_task,
        Project.currency,
        Project.updated_at,
        InstructionVersion.id,
        InstructionVersion.version,
        InstructionVersion.body,
    )
    .join(InstructionVersion, InstructionVersion.project_id == Project.id)
    .where(Project.id == bindparam("project_id"))
    .order_by(InstructionVersion.version.desc())
    .limit(1)
)

VERSION = Prepared(
    select(InstructionVersion.id, InstructionVersion.version, InstructionVersion.body).where(
        InstructionVersion.id == bindparam("version_id")
    )
)

ITEM_VIEW = Prepared(select(Item.external_id, Item.data).where(Item.id == bindparam("item_id")))

INSERT_ASSIGNMENT = Prepared(
    insert(Assignment).returning(Assignment.id),
    columns=[
        "item_id",
        "project_id",
        "person_id",
        "status",
        "offered_at",
        "leased_until",
        "instruction_version_id",
        "paused_seconds",
    ],
)

DONE_SINCE = Prepared(
    select(func.count(Answer.id)).where(
        Answer.person_id == bindparam("person_id"), Answer.answered_at >= bindparam("since")
    )
)

PROJECT_PROGRESS = Prepared(
    select(
        func.count(Item.id),
        func.coalesce(func.sum(case((Item.answer_count >= Item.target, 1), else_=0)), 0),
    ).where(Item.project_id == bindparam("project_id"))
)

EXPIRED = (
    select(Assignment)
    .where(Assignment.status == "offered", Assignment.leased_until < bindparam("now"))
    .order_by(Assignment.id)
    .limit(bindparam("limit"))
)

# Items held for their contractor (a question open, or resolved and not yet
# offered again) past their hold.
EXPIRED_WAITING = (
    select(Assignment)
    .where(Assignment.status.in_(("waiting", "ready")), Assignment.leased_until < bindparam("now"))
    .order_by(Assignment.id)
    .limit(bindparam("limit"))
)


def lock_contractor(db: Session | Tx, person_id: int) -> None:
    """Serialise dispatch per contractor. SQLite's BEGIN IMMEDIATE already does."""
    tx = as_tx(db)
    if tx.is_postgresql:
        tx.rows(LOCK_PROFILE_PG, {"person_id": person_id})


def open_task(session: Session, person_id: int) -> Assignment | None:
    return session.scalars(OPEN_TASK, {"person_id": person_id}).first()


def open_or_ready(db: Session | Tx, person_id: int) -> tuple[int, str, int, int] | None:
    """(assignment, status, project, item) of the contractor's open task, else of an
    item ready to be offered to them again; None if neither."""
    row = as_tx(db).first(OPEN_OR_READY, {"person_id": person_id})
    return (row[0], row[1], row[2], row[3]) if row is not None else None


def offer_again(
    tx: Tx, assignment_id: int, *, leased_until: datetime, version_id: int, paused: int
) -> None:
    """A `ready` item becomes its contractor's open task again, with a fresh lease,
    the version its new message shows, and `paused` more seconds not counted as work.
    An ORM copy of the row in the session is told too."""
    row = tx.first(
        OFFER_AGAIN,
        {
            "assignment_id": assignment_id,
            "leased_until": leased_until,
            "version_id": version_id,
            "paused": paused,
        },
    )
    if row is not None:
        tx.expire_if_loaded(Assignment, assignment_id, OFFERED_AGAIN_COLUMNS)


def last_resolved_at(db: Session | Tx, assignment_id: int) -> datetime | None:
    """When the last question about this assignment was resolved (None: never)."""
    found: datetime | None = as_tx(db).scalar(LAST_RESOLVED, {"assignment_id": assignment_id})
    return found


def candidate_items(
    db: Session | Tx, project_id: int, person_id: int, gold: bool, limit: int = 3
) -> list[int]:
    tx = as_tx(db)
    if gold:
        stmt = NEXT_GOLD
    elif tx.is_postgresql:
        stmt, limit = NEXT_REGULAR_SKIP_LOCKED, 1
    else:
        stmt = NEXT_REGULAR
    params = {"project_id": project_id, "person_id": person_id, "limit": limit}
    return tx.scalars(stmt, params)


def claim_slot(db: Session | Tx, item_id: int) -> bool:
    return as_tx(db).execute(CLAIM_SLOT, {"item_id": item_id}) > 0


def claim_item(tx: Tx, item_id: int) -> tuple[str, dict[str, Any]] | None:
    """`claim_slot` that also returns the item's (external_id, data), or None if full."""
    row = tx.first(CLAIM_ITEM, {"item_id": item_id})
    return (row[0], row[1]) if row is not None else None


def release_slot(db: Session | Tx, item_id: int) -> None:
    as_tx(db).execute(RELEASE_SLOT, {"item_id": item_id})


def my_mix(db: Session | Tx, project_id: int, person_id: int) -> tuple[int, int]:
    row = as_tx(db).first(MY_MIX, {"project_id": project_id, "person_id": person_id})
    assert row is not None
    return int(row[0]), int(row[1])


def gold_record(db: Session | Tx, project_id: int, person_id: int) -> tuple[int, int]:
    row = as_tx(db).first(GOLD_RECORD, {"project_id": project_id, "person_id": person_id})
    assert row is not None
    return int(row[0]), int(row[1])


def share_counts(db: Session | Tx, project_id: int, person_id: int) -> tuple[int, int]:
    tx = as_tx(db)
    mine = tx.scalar(ANSWERED_IN_PROJECT, {"project_id": project_id, "person_id": person_id})
    total = tx.scalar(PROJECT_ANSWERS, {"project_id": project_id})
    return int(mine or 0), int(total or 0)


def active_projects(tx: Tx) -> list[tuple[int, datetime]]:
    """(id, updated_at) of the active projects, highest priority first."""
    return [(r[0], r[1]) for r in tx.rows(ACTIVE_PROJECTS)]


def paused_projects(tx: Tx) -> list[tuple[int, datetime]]:
    """(id, updated_at) of the paused projects, highest priority first."""
    return [(r[0], r[1]) for r in tx.rows(PAUSED_PROJECTS)]


def unfinished_not_mine(tx: Tx, project_id: int, person_id: int) -> int:
    """How many items of the project still need answers that the person has not had."""
    params = {"project_id": project_id, "person_id": person_id}
    return int(tx.scalar(UNFINISHED_NOT_MINE, params) or 0)


def no_task_told(tx: Tx, person_id: int) -> str | None:
    """The fingerprint of the no-task reasons the contractor was last told."""
    found: str | None = tx.scalar(NO_TASK_TOLD, {"person_id": person_id})
    return found


def set_no_task_told(tx: Tx, person_id: int, key: str) -> None:
    tx.execute(SET_NO_TASK_TOLD, {"person_id": person_id, "key": key})
    tx.expire_if_loaded(ContractorProfile, person_id, ["no_task_told"])


OFFERED_AGAIN_COLUMNS = ["status", "leased_until", "instruction_version_id", "paused_seconds"]


def project_updated_at(tx: Tx, project_id: int) -> datetime | None:
    found: datetime | None = tx.scalar(PROJECT_UPDATED_AT, {"project_id": project_id})
    return found


def project_with_version(tx: Tx, project_id: int) -> tuple[Any, ...] | None:
    """The row of `PROJECT_WITH_VERSION`: the project's columns, then its current
    instruction version's id, number and body."""
    return tx.first(PROJECT_WITH_VERSION, {"project_id": project_id})


def version(tx: Tx, version_id: int) -> tuple[int, int, str] | None:
    row = tx.first(VERSION, {"version_id": version_id})
    return (row[0], row[1], row[2]) if row is not None else None


def item_view(tx: Tx, item_id: int) -> tuple[str, dict[str, Any]]:
    """(external_id, data) of an item, for its task message."""
    row = tx.first(ITEM_VIEW, {"item_id": item_id})
    assert row is not None
    return row[0], row[1]


def insert_assignment(
    tx: Tx,
    *,
    item_id: int,
    project_id: int,
    person_id: int,
    offered_at: datetime,
    leased_until: datetime,
    instruction_version_id: int,
) -> int:
    new_id: int = tx.scalar(
        INSERT_ASSIGNMENT,
        {
            "item_id": item_id,
            "project_id": project_id,
            "person_id": person_id,
            "status": "offered",
            "offered_at": offered_at,
            "leased_until": leased_until,
            "instruction_version_id": instruction_version_id,
            "paused_seconds": 0,
        },
    )
    return new_id


def show_version(
    session: Session, project_id: int, person_ids: Sequence[int], version_id: int
) -> None:
    """These contractors were shown instruction version `version_id` of the project:
    their assignments there that can still be answered (held, or run out) record it."""
    if not person_ids:
        return
    session.execute(
        update(Assignment)
        .where(
            Assignment.project_id == project_id,
            Assignment.person_id.in_(list(person_ids)),
            Assignment.status.in_((*LIVE_ASSIGNMENT_STATUSES, "expired")),
        )
        .values(instruction_version_id=version_id)
    )


def done_since(tx: Tx, person_id: int, since: datetime) -> int:
    return int(tx.scalar(DONE_SINCE, {"person_id": person_id, "since": since}) or 0)


def project_progress(tx: Tx, project_id: int) -> tuple[int, int]:
    """(items, items with all the answers they want) in a project: a scan, so callers cache it."""
    row = tx.first(PROJECT_PROGRESS, {"project_id": project_id})
    assert row is not None
    return int(row[0]), int(row[1])


def expired_assignments(session: Session, now: datetime, limit: int = 500) -> list[Assignment]:
    stmt = EXPIRED
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt, {"now": now, "limit": limit}))


def expired_waiting(session: Session, now: datetime, limit: int = 500) -> list[Assignment]:
    return list(session.scalars(EXPIRED_WAITING, {"now": now, "limit": limit}))


def held_tasks(session: Session, person_id: int) -> list[Assignment]:
    """The person's tasks that still hold an item: offered, or waiting on a question."""
    return list(
        session.scalars(
            select(Assignment)
            .where(
                Assignment.person_id == person_id,
                Assignment.status.in_(("offered", "waiting")),
            )
            .order_by(Assignment.id)
        )
    )


def bump_answer_count(db: Session | Tx, item_id: int, delta: int) -> tuple[int, int]:
    """Add `delta` accepted answers; returns the item's new (answer_count, target)."""
    row = as_tx(db).first(BUMP_ANSWERS, {"item_id": item_id, "delta": delta})
    assert row is not None
    return int(row[0]), int(row[1])


def available_by_fewest_answers(session: Session, since: datetime) -> list[Person]:
    """Active, available contractors, fewest answers since `since` first."""
    answers_since = (
        select(Answer.person_id, func.count(Answer.id).label("n"))
        .where(Answer.answered_at >= since)
        .group_by(Answer.person_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(Person)
            .join(ContractorProfile, ContractorProfile.person_id == Person.id)
            .outerjoin(answers_since, answers_since.c.person_id == Person.id)
            .where(ContractorProfile.available.is_(True), ContractorProfile.status == "active")
            .order_by(func.coalesce(answers_since.c.n, 0), Person.id)
        )
    )
