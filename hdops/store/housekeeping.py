"""The SQL of housekeeping: deleting idempotency records and sent messages that have
outlived their use (`hdops.services.housekeeping` decides when)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hdops.store.orm import OutboxMessage, ProcessedEvent


def prune_events(session: Session, before: datetime) -> int:
    """Forget platform event ids received before `before`; how many."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune_sent(session: Session, before: datetime) -> int:
    """Delete messages sent before `before` that carry no dedupe key; how many.
    Pending and failed messages stay (they still matter), and so do keyed ones:
    their key is what stops a job run again from sending the same thing twice."""
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status == "sent",
            OutboxMessage.sent_at < before,
            OutboxMessage.dedupe_key.is_(None),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
