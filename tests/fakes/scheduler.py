"""FakeJobs: the scheduler protocol in memory, run by hand on a fake clock.

It holds planned jobs like APScheduler's job store does (by id, replaced on
put) and runs the due ones through their textual reference, so tests exercise
the same `schedules.jobs` functions and the same sync as `hdops run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.util import ref_to_obj

from hdops.services.scheduling import PlannedJob, ScheduledJob


@dataclass
class FakeJobs:
    jobs: dict[str, PlannedJob] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def put(self, job: PlannedJob) -> None:
        self.jobs[job.id] = job

    def remove(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)

    def scheduled(self, prefix: str) -> dict[str, ScheduledJob]:
        return {
            job.id: ScheduledJob(job.id, job.run_at, dict(job.kwargs))
            for job in self.jobs.values()
            if job.id.startswith(prefix)
        }

    def run_due(self, now: datetime) -> list[str]:
        """Run (or skip, past grace) every job due at `now`, earliest first."""
        done = []
        for job in sorted(self.jobs.values(), key=lambda j: (j.run_at, j.id)):
            if job.run_at > now:
                continue
            del self.jobs[job.id]
            if job.overdue(now):
                self.skipped.append(job.id)
                continue
            ref_to_obj(job.func)(**job.kwargs)
            self.ran.append(job.id)
            done.append(job.id)
        return done
