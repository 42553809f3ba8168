"""Housekeeping (one daily scheduled job): the store does not grow without bound.

Handled platform event ids (`processed_events`) are what makes a redelivered event a
no-op; they are kept `HDOPS_EVENT_RETENTION_DAYS` (default 7), far longer than any
platform redelivers. Sent outbox messages are kept `HDOPS_OUTBOX_RETENTION_DAYS`
(default 90) for audit. The references to sent messages (`message_refs`: what edits,
thread replies and buttons on old messages find their message by) are never pruned.
Shared rate-limit cells (`pace_cells`) idle for an hour are forgotten too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.store import housekeeping as q
from hdops.store import pacing


@dataclass(frozen=True)
class Pruned:
    events: int
    messages: int
    pace_cells: int = 0


def prune(session: Session, settings: Settings, now: datetime) -> Pruned:
    """Delete what is past its retention; idempotent (a second run finds nothing)."""
    events = q.prune_events(session, now - timedelta(days=settings.event_retention_days))
    messages = q.prune_sent(session, now - timedelta(days=settings.outbox_retention_days))
    return Pruned(events, messages, pacing.prune(session))
