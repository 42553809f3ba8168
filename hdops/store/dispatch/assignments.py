"""A contractor's tasks: the per-contractor dispatch lock, their open task or an
item ready to be offered again, new assignments, the instruction version they
were shown, and the tasks that still hold an item."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, insert, literal_column, select, update
from sqlalchemy.orm import Session

from hdops.store.items import LIVE_ASSIGNMENT_STATUSES
from hdops.store.orm import Assignment, Clarification, ContractorProfile, Project
from hdops.store.prepared import Prepared, Tx, as_tx

LOCK_PROFILE_PG = Prepared(
    select(ContractorProfile.person_id)
    .where(ContractorProfile.person_id == bindparam("person_id"))
    .with_for_update()
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

# What `offer_again` changes: an ORM copy of the row in the session is expired.
OFFERED_AGAIN_COLUMNS = ["status", "leased_until", "instruction_version_id", "paused_seconds"]

LAST_RESOLVED = Prepared(
    select(func.max(Clarification.resolved_at)).where(
        Clarification.assignment_id == bindparam("assignment_id")
    )
)

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
