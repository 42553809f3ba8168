"""Telling ops about rows that failed for good: once per row (the notices carry
dedupe keys), by another route than the one that failed — a failed ops-channel
message goes to the ops people's DMs, and when even one of those fails, the log
is all that is left.

This module changes when the failure notice or its route changes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hdops import intents as intent_api
from hdops.config import Settings
from hdops.render.outbox import delivery_failed
from hdops.services import people as people_service
from hdops.services.delivery.jobs import Failure

log = logging.getLogger(__name__)

# Dedupe keys of failure reports: to the ops channel, and (when that channel is what
# failed) to each ops person; a failed DM report is not reported again.
FAILURE_KEY = "outbox-failed:"
LAST_ROUTE_KEY = "outbox-failed-dm:"


class FailureReporter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def report(self, session: Session, failures: Sequence[Failure], now: datetime) -> None:
        """Tell ops, once per failed row, by a route other than the one that failed."""
        for row, intent, error, aged in failures:
            log.error("outbox row %s failed for good: %s", row.id, error)
            if (row.dedupe_key or "").startswith(LAST_ROUTE_KEY):
                continue  # even the ops people's DMs failed: the log is all that is left
            age = _describe_age(self.settings.outbox_max_age) if aged else None
            message = delivery_failed(row.id, intent.message.text, error, gave_up_after=age)
            suffix = f"{row.id}:{row.age_from.isoformat()}"
            if not intent.target.ops:
                intent_api.to_ops(session, message, now, dedupe_key=f"{FAILURE_KEY}{suffix}")
                continue
            # The ops channel itself failed: tell the ops people directly.
            for person in people_service.list_people(session, role="ops"):
                key = f"{LAST_ROUTE_KEY}{suffix}:{person.id}"
                intent_api.dm(session, person.id, message, now, dedupe_key=key)


def _describe_age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:g} h" if hours >= 1 else f"{age.total_seconds() / 60:g} min"
