"""`hdops run --slack` as a real process, on a fake Slack: the composition root wires
the store, the core, the outbox delivery loop and Socket Mode together."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from hdops.services.people import add_person
from hdops.store.db import Store
from tests.fakes.slack.server import FakeSlack
from tests.helpers import add_items, make_project

pytest_plugins = ["tests.fakes.slack.fixtures"]


async def test_hdops_run_serves_slack_until_stopped(
    store: Store, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    alice = fake_slack.add_user("alice")
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 3)
        add_person(s, "alice", identities=[f"slack:{alice.id}"], roles=["contractor"])
    env = {
        **os.environ,
        "HDOPS_DATABASE_URL": db_url,
        "HDOPS_SLACK_API_URL": fake_slack.api_url,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_APP_TOKEN": fake_slack.app_token,
    }
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "run", "--slack"], env=env, stdout=log, stderr=log
    )
    try:
        await fake_slack.wait_for_socket(1, timeout=30)
        await fake_slack.slash_command(alice, "/hdops", "next")

        def has_task() -> bool:
            dm = fake_slack.dm_with(alice)
            return any(
                b["action_id"].startswith("hd:ans:")
                for m in fake_slack.messages(dm)
                for b in m.buttons()
            )

        await fake_slack.wait_for(has_task, timeout=20)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(proc.wait, 20)
        finally:
            if proc.poll() is None:
                proc.kill()
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert code == 0, output
    assert fake_slack.bot_token not in output and fake_slack.app_token not in output
