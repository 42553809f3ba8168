"""A stand-in for `hdops run` in the leader test: the same `SchedulerService` and
PostgreSQL advisory-lock leadership, with a fast heartbeat job instead of the
real ones and a short retry period, so a takeover shows within seconds.

    python -m tests.integration.leader_worker DATABASE_URL RETRY_SECONDS
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from hdops.config import Settings
from hdops.store.db import Store
from hdops.store.orm import AuditEntry
from hdops.store.scheduling import AdvisoryLockLeader
from schedules import jobs
from schedules.scheduler import SchedulerService, StaticJob

HEARTBEAT = StaticJob(
    "test:heartbeat",
    "tests.integration.leader_worker:heartbeat",
    lambda _settings: IntervalTrigger(seconds=0.2, timezone=UTC),
    timedelta(seconds=5),
)


def heartbeat() -> None:
    """Record which process ran the job."""
    with jobs.current().store.unit_of_work() as session:
        session.add(
            AuditEntry(
                at=datetime.now(UTC),
                action="test.heartbeat",
                subject=str(os.getpid()),
                details={},
            )
        )


async def main(url: str, retry: float) -> None:
    store = Store.from_url(url)
    service = SchedulerService(
        store,
        Settings(),
        leadership=AdvisoryLockLeader(url),
        retry_seconds=retry,
        static_jobs=(HEARTBEAT,),
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    task = asyncio.create_task(service.run())
    await stop.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    store.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
