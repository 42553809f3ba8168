"""Scheduled jobs, stored by textual reference (`"schedules.jobs:shift_reminder"`).

APScheduler's job store keeps the reference and the keyword arguments, never a
bound object, so a job survives a restart and a new release. Each job is a thin
function with primitive kwargs: it opens one unit of work on the store of the
process that runs the scheduler, calls one service, and wakes the outbox
delivery after commit. The services make every job idempotent in the database,
so running one twice changes nothing.

The store, settings and clock come from the `JobContext` installed by whoever
runs the jobs (`schedules.scheduler.SchedulerService` in `hdops run`, the demo's
simulated scheduler, tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hdops.clock import Clock, SystemClock
from hdops.config import Settings
from hdops.services import payouts, scheduling
from hdops.services import shifts as shift_service
from hdops.services import sweep as periodic
from hdops.services.housekeeping import Pruned, prune
from hdops.services.quality_digest import send_quality_digests
from hdops.services.scheduling import JobScheduler
from hdops.store.db import Store

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    store: Store
    settings: Settings
    clock: Clock
    after_commit: Callable[[], None]
    scheduler: JobScheduler | None = None


_context: JobContext | None = None


def install(
    store: Store,
    settings: Settings,
    *,
    clock: Clock | None = None,
    after_commit: Callable[[], None] | None = None,
    scheduler: JobScheduler | None = None,
) -> JobContext:
    """Make the jobs of this process run against `store`."""
    global _context
    _context = JobContext(
        store, settings, clock or SystemClock(), after_commit or (lambda: None), scheduler
    )
    return _context


def uninstall() -> None:
    global _context
    _context = None


def current() -> JobContext:
    if _context is None:
        raise RuntimeError("no job context installed (schedules.jobs.install)")
    return _context


# --------------------------------------------------------------------------- shifts


def _shift_job(shift_id: int, revision: int, kind: str) -> bool:
    ctx = current()
    with ctx.store.unit_of_work() as session:
        done = shift_service.run_shift_job(
            session, kind, shift_id, revision, settings=ctx.settings, now=ctx.clock.now()
        )
    if done:
        log.info("shift %s: %s done", shift_id, kind)
        ctx.after_commit()
    return done


def shift_reminder(shift_id: int, revision: int, kind: str) -> bool:
    """24 h and 15 min before a shift: remind the person."""
    return _shift_job(shift_id, revision, kind)


def shift_start(shift_id: int, revision: int, kind: str = "start") -> bool:
    """At the start: the contractor becomes available and gets the first task."""
    return _shift_job(shift_id, revision, kind)


def shift_no_show(shift_id: int, revision: int, kind: str = "noshow") -> bool:
    """10 min after the start: no check-in → the ops channel is told, once."""
    return _shift_job(shift_id, revision, kind)


def shift_end(shift_id: int, revision: int, kind: str = "end") -> bool:
    """At the end: no more pushes (unless another shift follows)."""
    return _shift_job(shift_id, revision, kind)


def shift_close(shift_id: int, revision: int, kind: str = "close") -> bool:
    """30 min after the end: close a forgotten check-in and flag it for ops."""
    return _shift_job(shift_id, revision, kind)


_overdue_reported: set[str] = set()


def sync_shifts() -> dict[str, int]:
    """Make the scheduler's per-shift jobs match the shifts in the database."""
    ctx = current()
    if ctx.scheduler is None:
        raise RuntimeError("sync_shifts needs a scheduler in the job context")
    held = ctx.scheduler.scheduled(scheduling.SHIFT_PREFIX)  # first: see apply_shift_jobs
    with ctx.store.unit_of_work() as session:
        wanted, overdue = scheduling.wanted_jobs(session, ctx.clock.now())
    result = scheduling.apply_shift_jobs(ctx.scheduler, held, wanted, overdue)
    for job in result.overdue:
        if job.marker not in _overdue_reported:
            _overdue_reported.add(job.marker)
            log.warning(
                "scheduled job %s (due %s) was never run and is past its grace of %s: skipped",
                job.id,
                job.run_at.isoformat(),
                job.grace,
            )
    if result.added or result.replaced or result.removed:
        log.info(
            "shift jobs synced: %d added, %d replaced, %d removed",
            len(result.added),
            len(result.replaced),
            len(result.removed),
        )
    return {
        "added": len(result.added),
        "replaced": len(result.replaced),
        "removed": len(result.removed),
    }


# --------------------------------------------------------------------------- periodic work


def sweep() -> dict[str, int]:
    """Lease expiry, clarification escalations (`due_escalations`) and task pushes."""
    ctx = current()
    with ctx.store.unit_of_work() as session:
        done = periodic.sweep(session, ctx.settings, ctx.clock.now())
    ctx.after_commit()
    return done


def flush_outbox() -> None:
    """Wake the outbox delivery (it also polls on its own; this catches anything a
    crash or a missed wake-up left behind)."""
    current().after_commit()


def coverage_digest() -> bool:
    """Daily to ops: coverage of the next 7 days (with the chart on Mondays)."""
    ctx = current()
    with ctx.store.unit_of_work() as session:
        sent = shift_service.send_coverage_digest(session, ctx.settings, ctx.clock.now())
    ctx.after_commit()
    return sent


def housekeeping() -> Pruned:
    """Daily 04:00 (ops timezone): prune old event ids and sent messages."""
    ctx = current()
    with ctx.store.unit_of_work() as session:
        return prune(session, ctx.settings, ctx.clock.now())


def quality_digest() -> int:
    """Monday 09:30 (ops timezone): last week's quality digest to each project's
    researchers."""
    ctx = current()
    with ctx.store.unit_of_work() as session:
        sent = send_quality_digests(session, ctx.settings, ctx.clock.now())
    ctx.after_commit()
    return sent


def weekly_payouts() -> Any:
    """Monday 09:00 (ops timezone): draft last week's statements."""
    ctx = current()
    with ctx.store.unit_of_work() as session:
        result = payouts.run_weekly_payouts(session, ctx.clock.now(), ctx.settings)
    ctx.after_commit()
    return result
