"""Which claimed rows go now. A row waits while an older row of its lane waits —
deferred in this process, or held by another worker — and while no running
platform can deliver it (it fails once it is too old); every other row is routed
(`routing`) into a `Job`.

This module owns the order within a lane as a claim sees it; it changes when the
rules for what waits behind what change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.intents import Intent
from hdops.ports import ChatPort
from hdops.services.delivery.jobs import WAIT_BEHIND, Failure, Job, Snapshot, lane_of
from hdops.services.delivery.retries import Retries
from hdops.services.delivery.routing import Router, Unroutable, ops_channels, served_platforms
from hdops.store import outbox
from hdops.store.outbox import Claimed, Deferred, Failed, Outcome

UNROUTABLE_CAP = timedelta(seconds=60)
RECHECK_BEHIND = timedelta(seconds=5)  # a row behind a row held elsewhere looks again at the latest


class BatchPlanner:
    def __init__(self, ports: Mapping[str, ChatPort], settings: Settings, retries: Retries) -> None:
        """`ports` is the deliverer's own map: a platform plugged in later is served."""
        self.ports = ports
        self.settings = settings
        self.retries = retries

    def plan(
        self, session: Session, parsed: list[tuple[Claimed, Intent]], now: datetime, snap: Snapshot
    ) -> tuple[list[Job], list[Outcome], list[Failure]]:
        """Route each row, or say why it waits (or fails): its lane has an older
        row waiting, or no running platform can deliver it yet."""
        jobs: list[Job] = []
        early: list[Outcome] = []
        failures: list[Failure] = []
        if not parsed:
            return jobs, early, failures
        router = Router(
            session,
            served_platforms(self.ports),
            ops_channels(self.settings),
            snap.produced,
            snap.dm_channels,
        )
        router.load([intent for _, intent in parsed])
        first_ids: dict[str, int] = {}
        for row, _ in parsed:
            first_ids.setdefault(lane_of(row), row.id)
        held_elsewhere = outbox.earlier_pending(
            session, list(first_ids), first_ids, {*snap.known, *(r.id for r, _ in parsed)}
        )
        blocked = snap.blocked
        for row, intent in parsed:
            lane = lane_of(row)
            wait_until = max(
                [t for t in (blocked.get(lane), held_elsewhere.get(lane)) if t is not None],
                default=None,
            )
            if wait_until is not None:
                # Look again soon: the row ahead may be another worker's, sent
                # long before its claim runs out.
                until = max(now + WAIT_BEHIND, min(wait_until, now + RECHECK_BEHIND))
                early.append(
                    Deferred(
                        row.id,
                        until,
                        "waiting behind an earlier message",
                        False,
                        maybe_sent=row.maybe_sent,
                    )
                )
                blocked[lane] = until
                continue
            try:
                send, after = router.plan(intent, row.platform)
            except Unroutable as exc:
                if self.retries.too_old(row, now):
                    early.append(Failed(row.id, str(exc), attempted=False))
                    failures.append((row, intent, str(exc), True))
                else:
                    age = now - row.age_from
                    delay = min(UNROUTABLE_CAP, max(timedelta(seconds=1), age / 10))
                    early.append(
                        Deferred(
                            row.id,
                            now + delay,
                            str(exc),
                            attempted=False,
                            maybe_sent=row.maybe_sent,
                        )
                    )
                    blocked[lane] = now + delay
                continue
            jobs.append(Job(row, intent, send, after))
        return jobs, early, failures
