"""Tasks past their lease: offered ones, and items held for a question past their hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hdops.store.orm import Assignment

EXPIRED = (
    select(Assignment)
    .where(Assignment.status == "offered", Assignment.leased_until < bindparam("now"))
    .order_by(Assignment.id)
    .limit(bindparam("limit"))
)

# Items held for their contractor (a question open, or resolved and not yet
# offered again) past their hold.
EXPIRED_WAITING = (
    select(Assignment)
    .where(Assignment.status.in_(("waiting", "ready")), Assignment.leased_until < bindparam("now"))
    .order_by(Assignment.id)
    .limit(bindparam("limit"))
)


def expired_assignments(session: Session, now: datetime, limit: int = 500) -> list[Assignment]:
    stmt = EXPIRED
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt, {"now": now, "limit": limit}))


def expired_waiting(session: Session, now: datetime, limit: int = 500) -> list[Assignment]:
    return list(session.scalars(EXPIRED_WAITING, {"now": now, "limit": limit}))
