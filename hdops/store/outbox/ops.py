"""The outbox as ops see it (`hdops outbox`): waiting and failed rows, counts per
status, and putting failed rows back in the queue."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.orm import Session

from hdops.store.orm import OutboxMessage

# The outbox's Core table, for the statements built on its columns.
_OUTBOX = cast(Table, OutboxMessage.__table__)


class Row(NamedTuple):
    id: int
    kind: str
    status: str
    lane: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None
    summary: str


def list_rows(session: Session, *, failed_only: bool = False, limit: int = 200) -> list[Row]:
    """Rows still waiting (or, with `failed_only`, the failed ones), oldest first."""
    table = _OUTBOX
    statuses = ["failed"] if failed_only else ["pending", "failed"]
    stmt = (
        select(
            table.c.id,
            table.c.kind,
            table.c.status,
            table.c.lane,
            table.c.attempts,
            table.c.created_at,
            table.c.next_attempt_at,
            table.c.last_error,
            table.c.payload,
        )
        .where(table.c.status.in_(statuses))
        .order_by(table.c.id)
        .limit(limit)
    )
    out = []
    for r in session.execute(stmt):
        message = (r.payload or {}).get("message") or {}
        out.append(
            Row(
                r.id,
                r.kind,
                r.status,
                r.lane or "",
                r.attempts,
                r.created_at,
                r.next_attempt_at,
                r.last_error,
                str(message.get("text", ""))[:120],
            )
        )
    return out


def counts(session: Session, statuses: Collection[str] = ("pending", "failed")) -> dict[str, int]:
    """Messages per status, of these statuses (the default leaves out the many 'sent')."""
    table = _OUTBOX
    return {
        status: n
        for status, n in session.execute(
            select(table.c.status, func.count())
            .where(table.c.status.in_(list(statuses)))
            .group_by(table.c.status)
        )
    }


def retry(session: Session, now: datetime, ids: Collection[int] | None) -> list[int]:
    """Put failed rows (these, or all with `ids=None`) back in the queue, due now,
    with a fresh maximum age. Returns the ids that were failed and now wait again."""
    table = _OUTBOX
    where = [table.c.status == "failed"]
    if ids is not None:
        where.append(table.c.id.in_(list(ids)))
    chosen = list(session.scalars(select(table.c.id).where(and_(*where)).order_by(table.c.id)))
    if chosen:
        session.execute(
            update(table)
            .where(table.c.id.in_(chosen), table.c.status == "failed")
            .values(
                status="pending", next_attempt_at=now, retried_at=now, attempts=0, sending=False
            )
        )
    return chosen


def pending_count(session: Session) -> int:
    return (
        session.scalar(select(func.count()).where(OutboxMessage.__table__.c.status == "pending"))
        or 0
    )
