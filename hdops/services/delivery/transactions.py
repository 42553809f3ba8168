"""Everything the deliverer does in the store, each in one transaction, run on
the deliverer's own thread (never on the event loop): claiming due rows and
planning them (recording at once the rows that must wait or cannot be read),
planning rows handed over at commit (read-only), renewing the claims of rows
still in this process's hands, failing rows nobody sent in time, and recording a
batch of outcomes — each with the ops notices about its failures.

This module changes when what the deliverer reads or writes in the outbox changes.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

from pydantic import ValidationError

from hdops.clock import Clock
from hdops.config import Settings
from hdops.intents import Intent
from hdops.ports import ChatPort
from hdops.services.delivery.failures import FailureReporter
from hdops.services.delivery.jobs import Failure, Job, Snapshot, tally
from hdops.services.delivery.planning import BatchPlanner
from hdops.services.delivery.retries import Retries
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.outbox import Claimed, Failed, Outcome

log = logging.getLogger(__name__)


class Transactions:
    """The deliverer's store work; every method runs on the deliverer's thread."""

    def __init__(
        self,
        store: Store,
        ports: Mapping[str, ChatPort],
        settings: Settings,
        clock: Clock,
        stats: Counter[str],
        retries: Retries,
        *,
        claims_unaddressed: bool,
    ) -> None:
        """`ports` and `stats` are the deliverer's own: a platform plugged in later
        is claimed for, and the counts kept here are the deliverer's."""
        self.store = store
        self.ports = ports
        self.settings = settings
        self.clock = clock
        self.stats = stats
        self.retries = retries
        self.claims_unaddressed = claims_unaddressed
        self.planner = BatchPlanner(ports, settings, retries)
        self.reporter = FailureReporter(settings)

    def claim(self, now: datetime, limit: int, snap: Snapshot) -> tuple[list[Job], int]:
        """(Deliverer thread.) Claim, plan, and record at once the rows that must wait."""
        deadline = now + timedelta(seconds=outbox.CLAIM_SECONDS)
        with self.store.unit_of_work() as session:
            rows = [
                r
                for r in outbox.claim_due(
                    session,
                    now,
                    deadline,
                    limit,
                    platforms=list(self.ports),
                    unaddressed=self.claims_unaddressed,
                )
                if r.id not in snap.known
            ]
            if not rows:
                return [], 0
            early: list[Outcome] = []
            parsed: list[tuple[Claimed, Intent]] = []
            for row in rows:
                try:
                    parsed.append((row, Intent.model_validate(row.payload)))
                except ValidationError as exc:
                    log.error("outbox row %s is not a readable intent: %s", row.id, exc)
                    early.append(Failed(row.id, f"unreadable intent: {exc}", attempted=False))
            jobs, planned_early, failures = self.planner.plan(session, parsed, now, snap)
            early += planned_early
            outbox.record_outcomes(session, early)
            self.reporter.report(session, failures, now)
        tally(self.stats, early)
        return jobs, len(rows)

    def plan_handed(
        self, rows: list[tuple[Claimed, Intent]], now: datetime, snap: Snapshot
    ) -> tuple[list[Job], list[Outcome]]:
        """(Deliverer thread.) Plan handed rows in a read-only transaction."""
        with self.store.read() as session:
            jobs, early, _ = self.planner.plan(session, rows, now, snap)
        return jobs, early

    def expire_stale(self, now: datetime) -> int:
        """(Deliverer thread.) Fail rows past their maximum age that no process has
        sent — also those addressed to a platform nobody serves any more, which no
        claim of ours would ever see — and tell ops about each, once."""
        with self.store.unit_of_work() as session:
            rows = outbox.stale(session, now, self.settings.outbox_max_age)
            failures: list[Failure] = []
            outcomes: list[Outcome] = []
            for row in rows:
                error = f"nobody delivered it (addressed to {row.platform or 'any platform'})"
                outcomes.append(Failed(row.id, error, attempted=False))
                try:
                    failures.append((row, Intent.model_validate(row.payload), error, True))
                except ValidationError:
                    log.error("outbox row %s is not a readable intent", row.id)
            outbox.record_outcomes(session, outcomes)
            self.reporter.report(session, failures, now)
        tally(self.stats, outcomes)
        return len(rows)

    def extend(self, ids: list[int], deadline: datetime) -> None:
        with self.store.unit_of_work() as session:
            outbox.extend_claims(session, ids, deadline)

    def record(self, batch: list[tuple[Outcome, Job | None]]) -> None:
        """(Deliverer thread.) One transaction for a batch of outcomes."""
        now = self.clock.now()
        failures = [
            (job.row, job.intent, outcome.error, self.retries.too_old(job.row, now))
            for outcome, job in batch
            if isinstance(outcome, Failed) and job is not None
        ]
        with self.store.unit_of_work() as session:
            outbox.record_outcomes(session, [o for o, _ in batch])
            self.reporter.report(session, failures, now)
