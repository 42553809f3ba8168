"""`hdops run --slack` (and `--slack --discord`) as a real process, on the fakes: the
composition root wires the store, the core, the outbox delivery loop, Socket Mode and
the Discord Gateway together."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from hdops.services.people import add_person
from hdops.store.db import Store
from tests.e2e.discord_system import tasks, until
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack.server import FakeSlack
from tests.helpers import add_items, make_project

pytest_plugins = ["tests.fakes.slack.fixtures", "tests.fakes.discord.fixtures"]


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


async def test_hdops_run_serves_slack_and_discord_in_one_process(
    store: Store, db_url: str, fake_slack: FakeSlack, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Both platforms from one `hdops run`: each person gets their task where they are,
    and the Gateway URL comes from the API (`GET /gateway/bot`), not a test patch."""
    alice = fake_slack.add_user("alice")
    dora = fake_discord.add_user("dora")
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 4)
        add_person(s, "alice", identities=[f"slack:{alice.id}"], roles=["contractor"])
        add_person(s, "dora", identities=[f"discord:{dora.id}"], roles=["contractor"])
    env = {
        **os.environ,
        "HDOPS_DATABASE_URL": db_url,
        "HDOPS_SLACK_API_URL": fake_slack.api_url,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_APP_TOKEN": fake_slack.app_token,
        "HDOPS_DISCORD_API_URL": fake_discord.api_base,
        "DISCORD_BOT_TOKEN": fake_discord.token,
        "HDOPS_DISCORD_GUILDS": fake_discord.guild.id,
    }
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "run", "--slack", "--discord"],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        await fake_slack.wait_for_socket(1, timeout=30)
        await fake_discord.wait_ready(timeout=30)
        await until(lambda: bool(fake_discord.commands(fake_discord.guild)), timeout=20)
        await fake_slack.slash_command(alice, "/hdops", "next")
        await fake_discord.slash_command(dora, "hdops", ["next"])

        def slack_task() -> bool:
            dm = fake_slack.dm_with(alice)
            return any(
                b["action_id"].startswith("hd:ans:")
                for m in fake_slack.messages(dm)
                for b in m.buttons()
            )

        await fake_slack.wait_for(slack_task, timeout=20)
        await until(lambda: len(tasks(fake_discord, dora)) == 1, timeout=20)
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
    for secret in (fake_slack.bot_token, fake_slack.app_token, fake_discord.token):
        assert secret not in output
