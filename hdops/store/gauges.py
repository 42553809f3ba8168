"""Store-wide figures for monitoring (`/metrics`), read in one short transaction.

They describe the database, not a process: every `hdops run` worker sharing the
store reports the same values (aggregate them with `max`, not `sum`). Each query
is served by an index (`ix_outbox_due`, `ix_clarifications_status_opened`) except
the count of answers, a plain `count(*)` — a few milliseconds per million rows,
paid once per scrape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hdops.store.orm import Answer, Clarification, OutboxMessage


@dataclass(frozen=True)
class StoreGauges:
    outbox_pending: int  # messages waiting to be sent (due or deferred)
    outbox_oldest_pending: datetime | None  # when the longest-waiting one was written
    outbox_failed: int  # messages that failed for good and were not retried
    clarifications_open: int
    clarifications_oldest_open: datetime | None
    answers: int  # every answer ever stored (rejected ones included)


def read_gauges(session: Session) -> StoreGauges:
    pending, oldest = session.execute(
        select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status == "pending"
        )
    ).one()
    failed = session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "failed")
    )
    open_count, oldest_open = session.execute(
        select(func.count(Clarification.id), func.min(Clarification.opened_at)).where(
            Clarification.status == "open"
        )
    ).one()
    answers = session.scalar(select(func.count(Answer.id)))
    return StoreGauges(
        outbox_pending=int(pending),
        outbox_oldest_pending=oldest,
        outbox_failed=int(failed or 0),
        clarifications_open=int(open_count),
        clarifications_oldest_open=oldest_open,
        answers=int(answers or 0),
    )
