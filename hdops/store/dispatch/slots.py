"""An item's slots and answer count: the conditional claim of a slot (`open_slots
> 0` in the UPDATE, so two dispatchers never over-fill an item), its release, and
counting the answers that stand (accepted or flagged)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from hdops.store.orm import Item
from hdops.store.prepared import Prepared, Tx, as_tx

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


def claim_slot(db: Session | Tx, item_id: int) -> bool:
    return as_tx(db).execute(CLAIM_SLOT, {"item_id": item_id}) > 0


def claim_item(tx: Tx, item_id: int) -> tuple[str, dict[str, Any]] | None:
    """`claim_slot` that also returns the item's (external_id, data), or None if full."""
    row = tx.first(CLAIM_ITEM, {"item_id": item_id})
    return (row[0], row[1]) if row is not None else None


def release_slot(db: Session | Tx, item_id: int) -> None:
    as_tx(db).execute(RELEASE_SLOT, {"item_id": item_id})


def bump_answer_count(db: Session | Tx, item_id: int, delta: int) -> tuple[int, int]:
    """Add `delta` answers that stand; returns the item's new (answer_count, target)."""
    row = as_tx(db).first(BUMP_ANSWERS, {"item_id": item_id, "delta": delta})
    assert row is not None
    return int(row[0]), int(row[1])
