"""Item bookkeeping queries: targets and open slots.

`Item.open_slots` = target − answers that stand (not rejected) − live offers.
The dispatcher picks items with `open_slots > 0` through an index, and claims a
slot with a conditional decrement, so two dispatchers can never over-fill an item.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, exists, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from hdops.store.orm import Answer, Assignment, InstructionVersion, Item

# Assignments that hold a slot of their item for their contractor: offered (their
# open task), waiting (a question about it is open) and ready (the question was
# resolved; it is offered to them again before any new item).
LIVE_ASSIGNMENT_STATUSES = ("offered", "waiting", "ready")


def live_offers_subquery() -> ScalarSelect[int]:
    return (
        select(func.count())
        .where(Assignment.item_id == Item.id, Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES))
        .correlate(Item)
        .scalar_subquery()
    )


def retarget(session: Session, project_id: int, old_overlap: int, overlap: int) -> None:
    """The project's overlap changed: move every item's target by as much, so the
    extra answers an item was asked for (after disagreement, or requeued for new
    instructions) stay asked for, and recompute open slots."""
    moved = Item.target + (overlap - old_overlap)
    session.execute(
        update(Item)
        .where(Item.project_id == project_id)
        .values(target=case((moved < overlap, overlap), else_=moved))
        .execution_options(synchronize_session=False)
    )
    recompute_open_slots(session, project_id)


def recompute_open_slots(session: Session, project_id: int) -> None:
    session.execute(
        update(Item)
        .where(Item.project_id == project_id)
        .values(open_slots=Item.target - Item.answer_count - live_offers_subquery())
        .execution_options(synchronize_session=False)
    )


def was_given_a_task(session: Session, person_id: int, project_id: int) -> bool:
    """Whether the person has ever been assigned one of the project's items."""
    found = session.scalar(
        select(Assignment.id)
        .where(Assignment.project_id == project_id, Assignment.person_id == person_id)
        .limit(1)
    )
    return found is not None


def requeue_answered_before(session: Session, project_id: int, version: int, fresh: int) -> int:
    """Ask for `fresh` more answers to every regular item of the project whose
    answers that stand (accepted or flagged) were all given under instruction
    versions older than `version`: its target becomes its answers + `fresh`, and
    its open slots grow by as much. Items already asked (target at least that) are
    left alone, so running it again changes nothing. How many items were requeued."""
    current = select(InstructionVersion.id).where(
        InstructionVersion.project_id == project_id, InstructionVersion.version >= version
    )
    standing = (Answer.item_id == Item.id) & (Answer.status != "rejected")
    wanted = Item.answer_count + fresh
    result: Any = session.execute(
        update(Item)
        .where(
            Item.project_id == project_id,
            Item.is_gold.is_(False),
            exists().where(standing),
            ~exists().where(standing, Answer.instruction_version_id.in_(current)),
            Item.target < wanted,
        )
        .values(open_slots=Item.open_slots + (wanted - Item.target), target=wanted)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
