"""Audit log: who did what, when. Written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hdops.clock import utcnow
from hdops.store.orm import AuditEntry


def record(
    session: Session,
    action: str,
    subject: str,
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
    **details: Any,
) -> None:
    session.add(
        AuditEntry(
            at=at or utcnow(),
            actor_id=actor_id,
            action=action,
            subject=subject[:200],
            details=details,
        )
    )
