"""Killing the process after an answer is stored but before the next task is sent:
after a restart the next task is delivered exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from bots.local.platform import LocalChat
from bots.runtime import bootstrap
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.store.db import Store
from hdops.store.orm import Answer, OutboxMessage
from tests.helpers import T0, add_items, contractor, make_project

CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from datetime import UTC, datetime
    from bots.local.platform import LocalChat
    from bots.runtime import bootstrap
    from hdops.clock import FakeClock
    from hdops.config import Settings
    from hdops.store.db import Store

    store = Store.from_url(sys.argv[1])
    clock = FakeClock(datetime(2026, 3, 2, 9, 5, tzinfo=UTC))
    runtime = bootstrap(Settings(), store, [LocalChat], clock)
    chat, deliverer = runtime.port("console"), runtime.deliverer
    chat.command("alice", "next")
    asyncio.run(deliverer.deliver_due())
    task = chat.open_tasks("alice")[0]
    chat.press("alice", task.id, "A is better", event_id="slack-interaction-1")
    # The answer and the "next task" intent are committed. Die before sending.
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


async def test_next_task_is_delivered_once_after_a_crash(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    with store.unit_of_work() as s:
        project = make_project(s)
        add_items(s, project, 3)
        contractor(s, "alice")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, str(script), db_url], env=env, timeout=60, capture_output=True, text=True
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    with store.unit_of_work() as s:
        assert s.scalar(select(func.count(Answer.id))) == 1
        pending = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        assert {p.kind for p in pending} == {"send", "edit"}  # edit old task, show next

    # Restart: a new process-equivalent with a fresh platform and delivery loop.
    clock = FakeClock(T0.replace(minute=6))
    runtime = bootstrap(Settings(), store, [LocalChat], clock)
    chat, deliverer = runtime.port("console"), runtime.deliverer
    assert isinstance(chat, LocalChat)
    await deliverer.deliver_due()
    await deliverer.deliver_due()
    # (The local platform keeps messages in memory, so the edit of the pre-crash
    # task message has nothing to edit after the restart; Slack and Discord keep it.)
    new_tasks = [m for m in chat.inbox("alice") if m.text.startswith("== Helpfulness")]
    assert len(new_tasks) == 1  # the next task, exactly once
    with store.unit_of_work() as s:
        row = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "send",
                OutboxMessage.payload["ref"].as_string() == "assignment:2",
            )
        ).one()
        assert row.status == "sent" and row.attempts == 1
    # the same interaction redelivered after the restart stores nothing more
    runtime.core.action("console:alice", "hd:ans:1:a", [], "slack-interaction-1")
    with store.unit_of_work() as s:
        assert s.scalar(select(func.count(Answer.id))) == 1
