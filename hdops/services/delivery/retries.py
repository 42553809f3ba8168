"""When a row that could not be sent is tried again, and when it is given up:
exponential back-off, capped at `BACKOFF_CAP` (or as long as the platform's
Retry-After says), until the row is older than the maximum age
(`HDOPS_OUTBOX_MAX_AGE_HOURS`, default 24); then it fails.

This module changes when the retry policy changes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from hdops.clock import Clock
from hdops.config import Settings
from hdops.store.outbox import Claimed, Deferred, Failed, Outcome

log = logging.getLogger(__name__)

BACKOFF_CAP = timedelta(minutes=5)


class Retries:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def backoff(
        self, row: Claimed, error: str, retry_after: float | None, *, maybe_sent: bool = False
    ) -> Outcome:
        """Try again later, or fail if the row is too old; `maybe_sent`: the attempt
        got no answer, so the next one looks for the message before sending."""
        now = self.clock.now()
        if self.too_old(row, now):
            return Failed(row.id, error, attempted=True)
        delay = (
            timedelta(seconds=retry_after)
            if retry_after
            else min(BACKOFF_CAP, timedelta(seconds=2 ** min(row.attempts + 1, 12)))
        )
        log.warning("outbox row %s: %s (retry in %ss)", row.id, error, delay.total_seconds())
        return Deferred(row.id, now + delay, error, attempted=True, maybe_sent=maybe_sent)

    def too_old(self, row: Claimed, now: datetime) -> bool:
        return now - row.age_from >= self.settings.outbox_max_age
