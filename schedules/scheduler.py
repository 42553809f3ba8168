"""The scheduler of `hdops run`: APScheduler 3.x `AsyncIOScheduler` on the process's
event loop, with a `SQLAlchemyJobStore` in the hdops database.

* Jobs are stored by textual reference (`schedules.jobs:…`) with primitive
  kwargs, so they survive restarts; ids come from domain ids (`shift:12:start`)
  and every add uses `replace_existing=True`, so re-scheduling replaces.
* Shifts are the source of truth: the `hdops:sync` job (every minute, at start-up
  and right after this process commits a shift change) makes the per-shift jobs
  match the database, so a shift added from the CLI is picked up within a minute.
* Misfires: `coalesce=True` everywhere (a job that missed several runs runs
  once); `misfire_grace_time` is chosen per job (see `hdops.services.scheduling`
  for the shift jobs and `STATIC_JOBS` below), never APScheduler's default of
  1 s, which would silently skip every job due during a pause or a restart. A job
  past its grace is skipped: APScheduler logs "was missed by", and so do we.
* One scheduler per database: only the leader (`hdops.store.scheduling`) starts
  it; the others wait on standby and take over within a minute.
* On start the scheduler is started paused, the fixed jobs are reconciled, then
  it resumes: a fixed job whose trigger did not change keeps its stored next run
  time, so a Monday payout run missed during downtime still runs (within grace)
  instead of being pushed to next week by a fresh `add_job`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hdops.clock import Clock, SystemClock
from hdops.config import Settings
from hdops.services import scheduling
from hdops.services.scheduling import PlannedJob, ScheduledJob
from hdops.store.db import Store
from hdops.store.scheduling import Leadership, SoleProcess
from schedules import jobs

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
LEADER_RETRY_SECONDS = 15.0
SYNC_JOB = "hdops:sync"


@dataclass(frozen=True)
class StaticJob:
    """A job every scheduler holds (not tied to a shift)."""

    id: str
    func: str
    trigger: Callable[[Settings], Any]
    grace: timedelta


def _every(seconds: float) -> Callable[[Settings], Any]:
    return lambda _settings: IntervalTrigger(seconds=seconds, timezone=UTC)


# Grace for the fixed jobs: a periodic job only needs its next run (one period);
# the daily digest is still worth sending a few hours late; the weekly payouts
# must not slip to next week because the process was down on Monday morning.
STATIC_JOBS: tuple[StaticJob, ...] = (
    StaticJob(SYNC_JOB, "schedules.jobs:sync_shifts", _every(60), timedelta(seconds=60)),
    StaticJob("hdops:sweep", "schedules.jobs:sweep", _every(30), timedelta(seconds=30)),
    StaticJob("hdops:outbox", "schedules.jobs:flush_outbox", _every(30), timedelta(seconds=30)),
    StaticJob(
        "hdops:coverage_digest",
        "schedules.jobs:coverage_digest",
        lambda s: CronTrigger(hour=8, minute=0, timezone=s.ops_zone),
        timedelta(hours=6),
    ),
    StaticJob(
        "hdops:housekeeping",
        "schedules.jobs:housekeeping",
        lambda s: CronTrigger(hour=4, minute=0, timezone=s.ops_zone),
        timedelta(hours=20),
    ),
    StaticJob(
        "hdops:quality_digest",
        "schedules.jobs:quality_digest",
        lambda s: CronTrigger(day_of_week="mon", hour=9, minute=30, timezone=s.ops_zone),
        timedelta(days=2),
    ),
    StaticJob(
        "hdops:weekly_payouts",
        "schedules.jobs:weekly_payouts",
        lambda s: CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=s.ops_zone),
        timedelta(days=2),
    ),
)


class JobObserver(Protocol):
    """Hears what the scheduler does, for metrics (`bots.metrics`). Job ids are
    grouped by kind: `hdops:sweep`, `shift:start` (the shift's id left out)."""

    def submitted(self, job: str, lag_seconds: float) -> None:
        """A job was handed to the executor `lag_seconds` after it was due."""

    def failed(self, job: str) -> None: ...

    def missed(self, job: str) -> None:
        """A job was skipped: it was later than its misfire grace."""


def job_kind(job_id: str) -> str:
    """`shift:12:remind15` → `shift:remind15`; fixed jobs keep their id."""
    if job_id.startswith(scheduling.SHIFT_PREFIX):
        return f"shift:{job_id.rsplit(':', 1)[-1]}"
    return job_id


def _seconds(grace: timedelta | None) -> int | None:
    return None if grace is None else max(1, int(grace.total_seconds()))


class TrackingExecutor(AsyncIOExecutor):  # type: ignore[misc]
    """APScheduler's asyncio executor, remembering which jobs are running.

    APScheduler removes a one-off job from its store when it submits it, before the
    job has committed its marker. A sync running at that moment would see the job
    neither held nor done and add it again (harmless, the marker makes the second
    run a no-op, but wasteful); jobs in flight therefore count as held."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight: dict[str, ScheduledJob] = {}
        self._guard = threading.Lock()

    def submit_job(self, job: Any, run_times: list[datetime]) -> None:
        with self._guard:
            self.in_flight[job.id] = ScheduledJob(job.id, run_times[-1], dict(job.kwargs))
        try:
            super().submit_job(job, run_times)
        except BaseException:
            self._done(job.id)
            raise

    def _done(self, job_id: str) -> None:
        with self._guard:
            self.in_flight.pop(job_id, None)

    def _run_job_success(self, job_id: str, events: Any) -> None:
        self._done(job_id)
        super()._run_job_success(job_id, events)

    def _run_job_error(self, job_id: str, exc: BaseException, traceback: Any = None) -> None:
        self._done(job_id)
        super()._run_job_error(job_id, exc, traceback)

    def running(self) -> dict[str, ScheduledJob]:
        with self._guard:
            return dict(self.in_flight)


class ApsJobs:
    """`hdops.services.scheduling.JobScheduler` on an APScheduler scheduler."""

    def __init__(self, aps: AsyncIOScheduler, executor: TrackingExecutor | None = None) -> None:
        self.aps = aps
        self.executor = executor

    def put(self, job: PlannedJob) -> None:
        self.aps.add_job(
            job.func,
            trigger=DateTrigger(run_date=job.run_at, timezone=UTC),
            id=job.id,
            name=job.id,
            kwargs=dict(job.kwargs),
            replace_existing=True,
            misfire_grace_time=_seconds(job.grace),
            coalesce=True,
            max_instances=1,
        )

    def remove(self, job_id: str) -> None:
        if self.aps.get_job(job_id) is not None:
            self.aps.remove_job(job_id)

    def scheduled(self, prefix: str) -> dict[str, ScheduledJob]:
        # The store first, then the running jobs: a job leaves the store only after
        # it is marked running, so one of the two always shows it.
        held = {
            job.id: ScheduledJob(job.id, job.next_run_time, dict(job.kwargs))
            for job in self.aps.get_jobs()
            if job.id.startswith(prefix)
        }
        running = self.executor.running() if self.executor is not None else {}
        for job_id, job in running.items():
            if job_id.startswith(prefix):
                held.setdefault(job_id, job)
        return held


class SchedulerService:
    """Leader election plus the APScheduler instance of one `hdops run` process."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        leadership: Leadership | None = None,
        clock: Clock | None = None,
        after_commit: Callable[[], None] | None = None,
        retry_seconds: float = LEADER_RETRY_SECONDS,
        static_jobs: tuple[StaticJob, ...] = STATIC_JOBS,
        observer: JobObserver | None = None,
    ) -> None:
        self.store = store
        self.observer = observer
        self.settings = settings
        self.leadership = leadership or SoleProcess()
        self.clock = clock or SystemClock()
        self.after_commit = after_commit or (lambda: None)
        self.retry_seconds = retry_seconds
        self.static_jobs = static_jobs
        self.aps: AsyncIOScheduler | None = None
        self._unlisten: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        return self.aps is not None

    # ------------------------------------------------------------------ leader loop

    async def run(self) -> None:
        """Run until cancelled: lead when possible, stand by otherwise."""
        announced_standby = False
        try:
            while True:
                if self.aps is None:
                    try:
                        got = await asyncio.to_thread(self.leadership.try_acquire)
                    except Exception as exc:
                        log.warning("scheduler leader election failed: %s", exc)
                        got = False
                    if got:
                        log.info("scheduler leader: pid %s runs the scheduled jobs", os.getpid())
                        self.start()
                        announced_standby = False
                    elif not announced_standby:
                        log.info(
                            "scheduler standby: pid %s; another process runs the scheduled "
                            "jobs, retrying every %.0f s",
                            os.getpid(),
                            self.retry_seconds,
                        )
                        announced_standby = True
                elif not await asyncio.to_thread(self.leadership.still_held):
                    log.error(
                        "scheduler leadership lost: stopping the scheduler in pid %s", os.getpid()
                    )
                    self.shutdown()
                    continue
                await asyncio.sleep(self.retry_seconds)
        finally:
            self.shutdown()
            await asyncio.to_thread(self.leadership.release)

    # ------------------------------------------------------------------ scheduler

    def start(self) -> AsyncIOScheduler:
        """Start APScheduler on the running event loop (this process must lead)."""
        executor = TrackingExecutor()
        aps = AsyncIOScheduler(
            executors={"default": executor},
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.store.engine, tablename=JOBS_TABLE)
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=UTC,
        )
        aps.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_SUBMITTED)
        self.aps = aps
        jobs.install(
            self.store,
            self.settings,
            clock=self.clock,
            after_commit=self.after_commit,
            scheduler=ApsJobs(aps, executor),
        )
        aps.start(paused=True)
        self._reconcile_static_jobs(aps)
        aps.resume()
        self._unlisten = scheduling.add_change_listener(self.nudge)
        return aps

    def _reconcile_static_jobs(self, aps: AsyncIOScheduler) -> None:
        now = self.clock.now()
        for spec in self.static_jobs:
            trigger = spec.trigger(self.settings)
            existing = aps.get_job(spec.id)
            if (
                existing is not None
                and existing.func_ref == spec.func
                and str(existing.trigger) == str(trigger)
                and existing.misfire_grace_time == _seconds(spec.grace)
            ):
                continue
            aps.add_job(
                spec.func,
                trigger=trigger,
                id=spec.id,
                name=spec.id,
                replace_existing=True,
                misfire_grace_time=_seconds(spec.grace),
                coalesce=True,
                max_instances=1,
            )
        # Sync at once: shifts may have changed while no scheduler ran.
        if aps.get_job(SYNC_JOB) is not None:
            aps.modify_job(SYNC_JOB, next_run_time=now)

    def nudge(self) -> None:
        """Run the shift sync now (after this process committed a shift change)."""
        aps = self.aps
        if aps is None:
            return
        try:
            aps.modify_job(SYNC_JOB, next_run_time=self.clock.now())
        except Exception:
            log.debug("could not nudge the shift sync", exc_info=True)

    def shutdown(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        aps, self.aps = self.aps, None
        if aps is not None and aps.running:
            aps.shutdown(wait=False)
        jobs.uninstall()

    def _on_event(self, event: JobEvent) -> None:
        kind = job_kind(event.job_id)
        if isinstance(event, JobSubmissionEvent):
            due = max(event.scheduled_run_times, default=None)
            if due is not None:
                lag = max(0.0, (self.clock.now() - due).total_seconds())
                self._tell(lambda observer: observer.submitted(kind, lag))
        elif isinstance(event, JobExecutionEvent) and event.code == EVENT_JOB_MISSED:
            log.warning(
                "scheduled job %s (due %s) missed its misfire grace: skipped",
                event.job_id,
                event.scheduled_run_time,
            )
            self._tell(lambda observer: observer.missed(kind))
        elif isinstance(event, JobExecutionEvent) and event.code == EVENT_JOB_ERROR:
            log.error("scheduled job %s failed: %r", event.job_id, event.exception)
            self._tell(lambda observer: observer.failed(kind))

    def _tell(self, call: Callable[[JobObserver], None]) -> None:
        if self.observer is None:
            return
        try:
            call(self.observer)
        except Exception:  # metrics must never disturb the scheduler
            log.exception("scheduler observer failed")
