"""What a task message shows besides its project: the item, the contractor's
answers today and the project's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, select

from hdops.store.orm import Answer, Item
from hdops.store.prepared import Prepared, Tx

ITEM_VIEW = Prepared(select(Item.external_id, Item.data).where(Item.id == bindparam("item_id")))

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


def item_view(tx: Tx, item_id: int) -> tuple[str, dict[str, Any]]:
    """(external_id, data) of an item, for its task message."""
    row = tx.first(ITEM_VIEW, {"item_id": item_id})
    assert row is not None
    return row[0], row[1]


def done_since(tx: Tx, person_id: int, since: datetime) -> int:
    return int(tx.scalar(DONE_SINCE, {"person_id": person_id, "since": since}) or 0)


def project_progress(tx: Tx, project_id: int) -> tuple[int, int]:
    """(items, items with all the answers they want) in a project: a scan, so callers cache it."""
    row = tx.first(PROJECT_PROGRESS, {"project_id": project_id})
    assert row is not None
    return int(row[0]), int(row[1])
