"""Bulk SQL for item imports (SPEC §3).

An import of 100k items must take seconds, not minutes, so this module skips
the ORM unit of work for the item rows themselves: existing external ids are
looked up a chunk at a time with one `IN (...)` query each, and new or changed
rows go to the database as Core `executemany` batches on the caller's session
(hence inside its one transaction, so all-or-nothing still holds). Column
types still apply: JSON is serialised and datetimes checked to be aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, insert, null, select, update
from sqlalchemy.orm import Session

from hdops.store.items import LIVE_ASSIGNMENT_STATUSES
from hdops.store.orm import Answer, Assignment, Batch, Item

# Keeps each IN (...) under the 999 host parameters of old SQLite builds and
# PostgreSQL's planner comfortable; larger chunks gain nothing measurable.
LOOKUP_CHUNK = 900

_ITEMS = cast(Table, Item.__table__)


@dataclass(frozen=True, slots=True)
class ExistingItem:
    """What an import needs to know about an item that is already stored."""

    id: int
    data: dict[str, Any]
    gold: dict[str, Any] | None
    answered: bool  # any answer at all, accepted or rejected


@dataclass(frozen=True, slots=True)
class NewItem:
    external_id: str
    data: dict[str, Any]
    gold: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ItemChange:
    id: int
    data: dict[str, Any]
    gold: dict[str, Any] | None


def _json_or_null(value: dict[str, Any] | None) -> Any:
    """SQL NULL for "no gold" (a bare None would be stored as the JSON text 'null',
    which `gold IS NULL` does not find)."""
    return null() if value is None else value


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def find_existing(
    session: Session, project_id: int, external_ids: Sequence[str]
) -> dict[str, ExistingItem]:
    """The stored items of a project among `external_ids`, by external id. An item
    counts as answered once it has an answer or is held by a contractor right now
    (changing its text under an open task would make that answer meaningless)."""
    answered = exists().where(Answer.item_id == Item.id) | exists().where(
        Assignment.item_id == Item.id, Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES)
    )
    found: dict[str, ExistingItem] = {}
    for chunk in _chunks(external_ids, LOOKUP_CHUNK):
        rows = session.execute(
            select(Item.external_id, Item.id, Item.data, Item.gold, answered).where(
                Item.project_id == project_id, Item.external_id.in_(chunk)
            )
        )
        for external_id, item_id, data, gold, has_answer in rows:
            found[external_id] = ExistingItem(item_id, data, gold, bool(has_answer))
    return found


def has_items(session: Session, project_id: int) -> bool:
    """Whether the project has any item; a first import can skip every lookup."""
    return session.scalar(select(exists().where(Item.project_id == project_id))) is True


def find_batch_id(session: Session, project_id: int, name: str) -> int | None:
    return session.scalar(
        select(Batch.id).where(Batch.project_id == project_id, Batch.name == name)
    )


def create_batch(session: Session, project_id: int, name: str, now: datetime) -> int:
    batch = Batch(project_id=project_id, name=name, created_at=now)
    session.add(batch)
    session.flush()
    return batch.id


def insert_items(
    session: Session,
    *,
    project_id: int,
    batch_id: int | None,
    target: int,
    items: Sequence[NewItem],
    now: datetime,
) -> None:
    """Insert new items with one executemany: no answers yet, every slot open."""
    if not items:
        return
    session.execute(
        insert(_ITEMS),
        [
            {
                "project_id": project_id,
                "batch_id": batch_id,
                "external_id": item.external_id,
                "data": item.data,
                "gold": _json_or_null(item.gold),
                "is_gold": item.gold is not None,
                "target": target,
                "answer_count": 0,
                "open_slots": target,
                "created_at": now,
                "updated_at": now,
            }
            for item in items
        ],
    )


def update_items(session: Session, changes: Sequence[ItemChange], now: datetime) -> None:
    """Replace data and gold of unanswered items with one executemany."""
    if not changes:
        return
    stmt = (
        update(_ITEMS)
        .where(_ITEMS.c.id == bindparam("item_id"))
        .values(
            data=bindparam("new_data"),
            gold=bindparam("new_gold"),
            is_gold=bindparam("new_is_gold"),
            updated_at=bindparam("now"),
        )
    )
    session.execute(
        stmt,
        [
            {
                "item_id": change.id,
                "new_data": change.data,
                "new_gold": _json_or_null(change.gold),
                "new_is_gold": change.gold is not None,
                "now": now,
            }
            for change in changes
        ],
    )
