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

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.orm import Session

from hdops.domain.review import OWN_WINDOW, PROJECT_WINDOW, Window, threshold
from hdops.store.orm import Answer, InstructionVersion, Item, Person
from hdops.store.prepared import Prepared, Tx


def _latest(*where: Any, window: int) -> Prepared:
    """How many of the latest `window` accepted answers matching `where` there are,
    and how many of them took at least `:threshold` seconds — one row, from an
    index scan of at most `window` entries and no sort (see
    `hdops.domain.review.Window` for why counting is comparing with the median)."""
    latest = (
        select(Answer.seconds_spent.label("s"))
        .where(*where, Answer.status == "accepted")
        .order_by(Answer.answered_at.desc())
        .limit(window)
        .subquery("latest")
    )
    slow = func.coalesce(func.sum(case((latest.c.s >= bindparam("threshold"), 1), else_=0)), 0)
    return Prepared(select(func.count(), slow).select_from(latest))


# Everyone's in the project: from the covering ix_answers_project_status_time
# alone. The contractor's own there: along ix_answers_person_time — `project_id + 0`
# keeps SQLite from walking the project's index instead and filtering by person
# (twenty times slower on a busy project).
PROJECT_LATEST = _latest(Answer.project_id == bindparam("project_id"), window=PROJECT_WINDOW)
OWN_LATEST = _latest(
    Answer.person_id == bindparam("person_id"),
    (Answer.project_id + 0) == bindparam("project_id"),
    window=OWN_WINDOW,
)


def _window(row: tuple[Any, ...] | None) -> Window:
    return Window(int(row[0]), int(row[1])) if row is not None else Window(0, 0)


def project_window(tx: Tx, project_id: int, seconds: int) -> Window:
    """The project's latest accepted answers, counted for an answer of `seconds`."""
    params = {"project_id": project_id, "threshold": threshold(seconds)}
    return _window(tx.first(PROJECT_LATEST, params))


def own_window(tx: Tx, project_id: int, person_id: int, seconds: int) -> Window:
    """The contractor's latest accepted answers in the project, counted likewise."""
    params = {"project_id": project_id, "person_id": person_id, "threshold": threshold(seconds)}
    return _window(tx.first(OWN_LATEST, params))


def gold_answerers(session: Session, project_id: int) -> list[int]:
    """Everyone who has answered one of the project's gold items, by id."""
    return list(
        session.scalars(
            select(Answer.person_id)
            .where(Answer.project_id == project_id, Answer.gold_correct.is_not(None))
            .distinct()
            .order_by(Answer.person_id)
        )
    )


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


def flagged(session: Session, project_id: int) -> list[FlaggedAnswer]:
    """The project's flagged answers, oldest first."""
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
    return [FlaggedAnswer(*row) for row in session.execute(stmt)]


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
