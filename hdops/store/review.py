"""The review queue's SQL (SPEC §6b): typical answer times, flagging a contractor's
answers, the queue of a project, and accepting answers out of it.

A flagged answer has status `flagged` (so everything that reads `accepted`
answers — aggregates, agreement — leaves it out until review accepts it) and
`flag_reasons`. Flagging is idempotent: an answer already flagged for a reason,
decided in review (`reviewed_at`), rejected, or given to a gold item, is left as
it is. The rules are in `hdops.domain.review`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from hdops.domain.review import MIN_PROJECT_ANSWERS, OWN_WINDOW, PROJECT_WINDOW
from hdops.store.orm import Answer, InstructionVersion, Item, Person
from hdops.store.prepared import Prepared, Tx

# Seconds of the latest accepted answers: the contractor's own in the project, and
# everyone's. Served by ix_answers_person_time and ix_answers_project_time.
OWN_SECONDS = Prepared(
    select(Answer.seconds_spent)
    .where(
        Answer.person_id == bindparam("person_id"),
        Answer.project_id == bindparam("project_id"),
        Answer.status == "accepted",
    )
    .order_by(Answer.answered_at.desc())
    .limit(OWN_WINDOW)
)

PROJECT_SECONDS = Prepared(
    select(Answer.seconds_spent)
    .where(Answer.project_id == bindparam("project_id"), Answer.status == "accepted")
    .order_by(Answer.answered_at.desc())
    .limit(PROJECT_WINDOW)
)


def typical_seconds(tx: Tx, project_id: int, person_id: int) -> tuple[list[int], list[int]]:
    """(the contractor's latest seconds, the project's latest seconds). The
    contractor's are read only once the project has enough for a median."""
    project = tx.scalars(PROJECT_SECONDS, {"project_id": project_id})
    if len(project) < MIN_PROJECT_ANSWERS:
        return [], project
    own = tx.scalars(OWN_SECONDS, {"project_id": project_id, "person_id": person_id})
    return own, project


def _theirs(project_id: int, person_id: int, since: datetime | None) -> list[Any]:
    where = [
        Answer.project_id == project_id,
        Answer.person_id == person_id,
        Answer.gold_correct.is_(None),  # regular items only
        Answer.reviewed_at.is_(None),
    ]
    if since is not None:
        where.append(Answer.answered_at >= since)
    return where


def flag_answers(
    db: Session | Tx,
    project_id: int,
    person_id: int,
    reason: str,
    now: datetime,
    since: datetime | None = None,
) -> int:
    """Flag the contractor's unreviewed answers to regular items in the project
    (given at or after `since`, if given) for `reason`; how many were newly flagged
    or gained the reason."""
    session = db.session if isinstance(db, Tx) else db
    newly = _changed(
        session.execute(
            update(Answer)
            .where(*_theirs(project_id, person_id, since), Answer.status == "accepted")
            .values(status="flagged", flag_reasons=reason, flagged_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    more = _changed(
        session.execute(
            update(Answer)
            .where(
                *_theirs(project_id, person_id, since),
                Answer.status == "flagged",
                ~func.coalesce(Answer.flag_reasons, "").contains(reason),
            )
            .values(flag_reasons=func.coalesce(Answer.flag_reasons + ",", "") + reason)
            .execution_options(synchronize_session=False)
        )
    )
    return newly + more


def _changed(result: Any) -> int:
    """Rows an UPDATE changed."""
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class FlaggedAnswer:
    """One answer in the review queue, with what a reviewer needs to judge it."""

    id: int
    item: str  # external id
    person_id: int
    person: str  # display name
    answer: dict[str, Any]
    seconds: int
    answered_at: datetime
    version: int
    reasons: str  # stored form, see hdops.domain.review


def flagged(session: Session, project_id: int, ids: list[int] | None = None) -> list[FlaggedAnswer]:
    """The project's flagged answers (only those of `ids`, if given), oldest first."""
    stmt = (
        select(
            Answer.id,
            Item.external_id,
            Answer.person_id,
            Person.display_name,
            Answer.answer,
            Answer.seconds_spent,
            Answer.answered_at,
            InstructionVersion.version,
            func.coalesce(Answer.flag_reasons, ""),
        )
        .join(Item, Item.id == Answer.item_id)
        .join(Person, Person.id == Answer.person_id)
        .join(InstructionVersion, InstructionVersion.id == Answer.instruction_version_id)
        .where(Answer.project_id == project_id, Answer.status == "flagged")
        .order_by(Answer.answered_at, Answer.id)
    )
    if ids is not None:
        stmt = stmt.where(Answer.id.in_(ids))
    return [FlaggedAnswer(*row) for row in session.execute(stmt)]


def flagged_count(session: Session, project_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(Answer.id)).where(
                Answer.project_id == project_id, Answer.status == "flagged"
            )
        )
        or 0
    )


def statuses(session: Session, project_id: int, ids: list[int]) -> dict[int, str]:
    """The status of each of `ids` that is an answer in the project."""
    rows = session.execute(
        select(Answer.id, Answer.status).where(Answer.project_id == project_id, Answer.id.in_(ids))
    )
    return {int(i): str(s) for i, s in rows}


def accept(session: Session, ids: list[int], reviewer_id: int | None, now: datetime) -> int:
    """Accepted in review: out of the queue, into the aggregates. How many."""
    return _changed(
        session.execute(
            update(Answer)
            .where(Answer.id.in_(ids), Answer.status == "flagged")
            .values(status="accepted", reviewed_by=reviewer_id, reviewed_at=now)
            .execution_options(synchronize_session=False)
        )
    )


def mark_reviewed(session: Session, ids: list[int], reviewer_id: int | None, now: datetime) -> None:
    session.execute(
        update(Answer)
        .where(Answer.id.in_(ids))
        .values(reviewed_by=reviewer_id, reviewed_at=now)
        .execution_options(synchronize_session=False)
    )
