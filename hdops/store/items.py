"""Item bookkeeping queries: targets and open slots.

`Item.open_slots` = target − accepted answers − live offers. The dispatcher
picks items with `open_slots > 0` through an index, and claims a slot with a
conditional decrement, so two dispatchers can never over-fill an item.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from hdops.store.orm import Assignment, Item

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


def retarget(session: Session, project_id: int, overlap: int) -> None:
    """Set every item's target to the project's overlap and recompute open slots."""
    session.execute(
        update(Item)
        .where(Item.project_id == project_id, Item.target != overlap)
        .values(target=overlap)
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
