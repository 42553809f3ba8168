"""One scheduler per PostgreSQL database: two processes, only the advisory-lock
leader runs jobs; kill it and the other takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hdops.store.db import Store
from hdops.store.orm import AuditEntry
from hdops.store.scheduling import AdvisoryLockLeader, SoleProcess, leadership_for

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parents[2]


def heartbeats(store: Store) -> list[tuple[float, int]]:
    with store.unit_of_work() as session:
        rows = session.execute(
            select(AuditEntry.at, AuditEntry.subject)
            .where(AuditEntry.action == "test.heartbeat")
            .order_by(AuditEntry.id)
        ).all()
    return [(at.timestamp(), int(pid)) for at, pid in rows]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def spawn(db_url: str) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.leader_worker", db_url, "0.5"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def test_only_the_leader_runs_jobs_and_another_takes_over(
    store: Store, spawn: Callable[[], subprocess.Popen[bytes]]
) -> None:
    first, second = spawn(), spawn()
    pids = {first.pid, second.pid}
    wait_for(lambda: len(heartbeats(store)) >= 5, 30, "the first heartbeats")
    time.sleep(1.5)  # both processes have had several chances to take the lock
    beats = heartbeats(store)
    runners = {pid for _, pid in beats}
    assert len(runners) == 1 and runners <= pids, beats
    leader_pid = runners.pop()
    leader = first if first.pid == leader_pid else second
    standby = second if leader is first else first

    leader.send_signal(signal.SIGKILL)  # no clean shutdown, no unlock
    leader.wait(timeout=10)
    killed_at = time.time()
    wait_for(
        lambda: any(pid == standby.pid for _, pid in heartbeats(store)),
        60,
        "the standby to take over",
    )
    took_over = min(at for at, pid in heartbeats(store) if pid == standby.pid)
    assert took_over - killed_at < 60
    time.sleep(1.0)
    after = [pid for at, pid in heartbeats(store) if at > took_over]
    assert after and set(after) == {standby.pid}
    assert standby.poll() is None


def test_leadership_kind_follows_the_database(db_url: str) -> None:
    assert isinstance(leadership_for("sqlite:///x.db"), SoleProcess)
    one, two = AdvisoryLockLeader(db_url), AdvisoryLockLeader(db_url)
    try:
        assert one.try_acquire() is True
        assert two.try_acquire() is False
        assert one.still_held() is True
        one.release()
        assert two.try_acquire() is True
    finally:
        one.dispose()
        two.dispose()
