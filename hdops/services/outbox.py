"""Ops' view of the outbox: what is still waiting or failed, and sending it again.

A message that failed for good (refused by the platform, or still undelivered
after the maximum age) stays in the outbox with its error. Once the cause is
fixed (the bot invited back into a channel, a person's identity corrected, the
platform back up), ops retry it; the retry is audited and the message's maximum
age counts again from then.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

from hdops.errors import NotFound
from hdops.services import audit
from hdops.store import outbox


def waiting(session: Session, *, failed_only: bool = False, limit: int = 200) -> list[outbox.Row]:
    return outbox.list_rows(session, failed_only=failed_only, limit=limit)


def retry_failed(
    session: Session, ids: Collection[int] | None, now: datetime, actor_id: int | None = None
) -> list[int]:
    """Put these failed rows (or all, with `ids=None`) back in the queue; returns
    the ids retried. Naming a row that is not failed is an error that changes nothing."""
    chosen = outbox.retry(session, now, ids)
    if ids is not None:
        missing = sorted(set(ids) - set(chosen))
        if missing:
            raise NotFound(
                "not a failed outbox row: "
                + ", ".join(str(i) for i in missing)
                + " (see `hdops outbox list --failed`)"
            )
    for row_id in chosen:
        audit.record(session, "outbox.retry", f"outbox:{row_id}", actor_id=actor_id, at=now)
    return chosen
