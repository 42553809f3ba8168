"""Which items may be offered to a contractor next: open regular items (fewest
answers first; on PostgreSQL one, locked with `SKIP LOCKED`) or gold items, never
one they already had."""

from __future__ import annotations

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from hdops.store.orm import Assignment, Item
from hdops.store.prepared import Prepared, Tx, as_tx

# The item was already offered to this contractor (`person_id`): never twice.
assigned_to_me = exists().where(
    Assignment.item_id == Item.id, Assignment.person_id == bindparam("person_id")
)

_NEXT_REGULAR = (
    select(Item.id)
    .where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(False),
        Item.open_slots > 0,
        ~assigned_to_me,
    )
    .order_by(Item.open_slots, Item.id)
    .limit(bindparam("limit"))
)
NEXT_REGULAR = Prepared(_NEXT_REGULAR)
# PostgreSQL: one candidate, locked, skipping items other dispatchers hold right now.
NEXT_REGULAR_SKIP_LOCKED = Prepared(_NEXT_REGULAR.with_for_update(skip_locked=True))

NEXT_GOLD = Prepared(
    select(Item.id)
    .where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(True),
        ~assigned_to_me,
    )
    .order_by(Item.answer_count, Item.id)
    .limit(bindparam("limit"))
)


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
