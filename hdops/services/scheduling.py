"""What the scheduler should hold for shifts, and the small protocol it is held through.

Shifts in the database are the source of truth. From them `plan_shift_jobs`
derives each shift's jobs, with ids made from the domain ids (`shift:12:remind15`)
so re-planning replaces a job instead of adding a second one. `apply_shift_jobs`
makes a scheduler's shift jobs match the plan: it adds what is missing, replaces
what moved, and removes the jobs of cancelled or moved-away shifts. The process
that runs the scheduler calls it every minute, so a shift added from the CLI (another
process) is picked up within a minute, and right after a commit that changed
shifts in its own process (see `note_shifts_changed`).

The scheduler itself (APScheduler in `schedules/`, or the demo's simulated one)
is reached only through `JobScheduler`, so nothing in `hdops` imports it.

Every job is idempotent in the database: its action records a marker (a
processed-event id such as `job:shift:12:r0:remind15`) in the same transaction as
its effect, so a duplicate run (two schedulers for a moment, a re-added job,
a retry) changes nothing. Sync also skips jobs whose marker is recorded.

Misfire grace, per job kind (how late a job may still run after a pause, e.g. a
restart; later than that it is skipped and logged):

* `remind24h` 6 h — a day-before reminder is still useful a few hours late;
* `remind15` 10 min — a "starts in 15 minutes" reminder later than 5 minutes
  before the start says nothing the start message will not;
* `start` until the shift ends — a late start still starts the shift and pushes;
* `noshow` until the shift ends — ops still want to know, and the contractor
  may have checked in meanwhile (then nothing is reported);
* `end` and `close` no limit — availability must be switched off and an open
  check-in closed however late (within the sync's 2-day look-back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from hdops.store import shifts as q
from hdops.store.orm import Shift

log = logging.getLogger(__name__)

REMIND_24H = timedelta(hours=24)
REMIND_15 = timedelta(minutes=15)
NO_SHOW_AFTER = timedelta(minutes=10)
CLOSE_GRACE = timedelta(minutes=30)

# How far ahead jobs are created (more than the 24 h reminder plus a sync period)
# and how far back a job that never ran is still created (`end`, `close`).
HORIZON = timedelta(hours=48)
LOOKBACK = timedelta(days=2)

JOBS_MODULE = "schedules.jobs"
SHIFT_PREFIX = "shift:"


@dataclass(frozen=True)
class PlannedJob:
    """One run of one job function, by textual reference, with primitive kwargs."""

    id: str
    func: str
    run_at: datetime
    kwargs: dict[str, Any] = field(default_factory=dict)
    grace: timedelta | None = None  # None: run however late
    marker: str = ""

    def overdue(self, now: datetime) -> bool:
        """Past its run time by more than its grace: skip it."""
        return self.grace is not None and now - self.run_at > self.grace


@dataclass(frozen=True)
class ScheduledJob:
    """A job as the scheduler holds it."""

    id: str
    run_at: datetime | None
    kwargs: dict[str, Any]


class JobScheduler(Protocol):
    """The little the services need from a scheduler."""

    def put(self, job: PlannedJob) -> None:
        """Add the job, replacing one with the same id."""
        ...

    def remove(self, job_id: str) -> None:
        """Remove the job if it is there."""
        ...

    def scheduled(self, prefix: str) -> dict[str, ScheduledJob]:
        """Jobs whose id starts with `prefix`."""
        ...


def _job(
    shift: Shift, kind: str, func: str, run_at: datetime, grace: timedelta | None
) -> PlannedJob:
    return PlannedJob(
        id=f"{SHIFT_PREFIX}{shift.id}:{kind}",
        func=f"{JOBS_MODULE}:{func}",
        run_at=run_at,
        kwargs={"shift_id": shift.id, "revision": shift.revision, "kind": kind},
        grace=grace,
        marker=marker(shift.id, shift.revision, kind),
    )


MARKER_PREFIX = "job:shift:"


def marker(shift_id: int, revision: int, kind: str) -> str:
    """The key a shift job's effect is recorded (and its message deduplicated) under."""
    return f"{MARKER_PREFIX}{shift_id}:r{revision}:{kind}"


def marker_kind(key: str) -> str:
    """The job kind of a `marker` key ('remind24h', 'start', ...)."""
    return key.rsplit(":", 1)[1]


def plan_shift_jobs(shift: Shift) -> list[PlannedJob]:
    """Every job a live shift has, whatever the time now."""
    start, end = shift.starts_at, shift.ends_at
    length = end - start
    jobs = []
    if shift.status == "scheduled":
        # A reminder due before the shift was created is not sent: the person was
        # told about the shift just then.
        for kind, before, grace in (
            ("remind24h", REMIND_24H, timedelta(hours=6)),
            ("remind15", REMIND_15, timedelta(minutes=10)),
        ):
            if start - before >= shift.created_at:
                jobs.append(_job(shift, kind, "shift_reminder", start - before, grace))
        jobs.append(_job(shift, "start", "shift_start", start, length))
        if shift.role == "contractor":
            jobs.append(
                _job(
                    shift,
                    "noshow",
                    "shift_no_show",
                    start + NO_SHOW_AFTER,
                    max(length - NO_SHOW_AFTER, timedelta(minutes=1)),
                )
            )
    jobs += [
        _job(shift, "end", "shift_end", end, None),
        _job(shift, "close", "shift_close", end + CLOSE_GRACE, None),
    ]
    return jobs


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    overdue: list[PlannedJob] = field(default_factory=list)  # never ran, past grace


def wanted_jobs(session: Session, now: datetime) -> tuple[list[PlannedJob], list[PlannedJob]]:
    """(jobs the scheduler should hold, jobs that never ran and are past their grace)."""
    # A shift's earliest job is its day-before reminder.
    shifts = q.live_shifts_in_window(session, now - LOOKBACK, now + HORIZON + REMIND_24H)
    planned = [
        job for shift in shifts for job in plan_shift_jobs(shift) if job.run_at < now + HORIZON
    ]
    done = q.done_markers(session, [job.marker for job in planned])
    pending = [job for job in planned if job.marker not in done]
    return [j for j in pending if not j.overdue(now)], [j for j in pending if j.overdue(now)]


def apply_shift_jobs(
    scheduler: JobScheduler,
    held: dict[str, ScheduledJob],
    wanted: list[PlannedJob],
    overdue: list[PlannedJob],
) -> SyncResult:
    """Make the scheduler's shift jobs match `wanted` (from `wanted_jobs`).

    Order matters: take `held` (`scheduler.scheduled(SHIFT_PREFIX)`, which counts
    running jobs) *before* reading the plan, so a job that finishes in between has
    its marker committed before the plan is read and is not added again. Call it
    outside the transaction that read the plan: a job store in the same SQLite
    database needs the write lock that transaction would still hold."""
    result = SyncResult(overdue=overdue)
    for job in wanted:
        current = held.get(job.id)
        if current is None:
            scheduler.put(job)
            result.added.append(job.id)
        elif current.run_at != job.run_at or current.kwargs != job.kwargs:
            scheduler.put(job)
            result.replaced.append(job.id)
    wanted_ids = {job.id for job in wanted}
    for job_id in sorted(set(held) - wanted_ids):
        scheduler.remove(job_id)
        result.removed.append(job_id)
    return result


# --------------------------------------------------------------------------- change hook

_INFO_KEY = "hdops.shifts_changed"
_HOOKED = "hdops.shift_hooks"
_listeners: list[Callable[[], None]] = []


def add_change_listener(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` after every commit that changed shifts in this process (the
    scheduler uses it to sync at once). Returns a function that removes it."""
    _listeners.append(listener)

    def remove() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return remove


def note_shifts_changed(session: Session) -> None:
    """Mark this transaction as changing shifts; listeners run after it commits
    (never after a rollback)."""
    session.info[_INFO_KEY] = True
    if session.info.get(_HOOKED):
        return
    session.info[_HOOKED] = True
    event.listen(session, "after_commit", _after_commit)
    event.listen(session, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    if not session.info.pop(_INFO_KEY, False):
        return
    for listener in list(_listeners):
        try:
            listener()
        except Exception:  # a listener must never undo a committed change
            log.exception("shift change listener failed")


def _after_rollback(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)
