"""Platform event ids already handled: a redelivered event is a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hdops.store.orm import ProcessedEvent
from hdops.store.prepared import Prepared, Tx, as_tx

# One statement per dialect: "insert unless this event id is there", no error.
_SEEN_SQLITE = Prepared(
    sqlite_insert(ProcessedEvent).on_conflict_do_nothing(), columns=["event_id", "received_at"]
)
_SEEN_POSTGRES = Prepared(
    postgresql_insert(ProcessedEvent).on_conflict_do_nothing(),
    columns=["event_id", "received_at"],
)


def first_delivery(db: Session | Tx, event_id: str, now: datetime) -> bool:
    """Record a platform event id; False if it was seen before (a redelivery).

    One `INSERT … ON CONFLICT DO NOTHING`: a duplicate inserts nothing and raises
    nothing, so the caller's transaction goes on (no savepoint needed). Two
    deliveries racing on PostgreSQL: the second waits for the first's commit and
    then inserts nothing."""
    tx = as_tx(db)
    stmt = _SEEN_POSTGRES if tx.is_postgresql else _SEEN_SQLITE
    return tx.execute(stmt, {"event_id": event_id[:200], "received_at": now}) == 1
