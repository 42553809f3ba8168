"""`hdops run` as real processes against the fakes: the environment that points it at
them, and a context that starts a worker and always stops it (SIGTERM, then a kill if
it hangs), returning its exit code and log for the test to check."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.discord import FakeDiscord
from tests.fakes.slack.server import FakeSlack


def run_env(
    db_url: str, slack: FakeSlack | None = None, discord: FakeDiscord | None = None
) -> dict[str, str]:
    """This environment plus what `hdops run` needs to reach the store and the fakes."""
    env = {**os.environ, "HDOPS_DATABASE_URL": db_url}
    if slack is not None:
        env |= {
            "HDOPS_SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
        }
    if discord is not None:
        env |= {
            "HDOPS_DISCORD_API_URL": discord.api_base,
            "DISCORD_BOT_TOKEN": discord.token,
            "HDOPS_DISCORD_GUILDS": discord.guild.id,
        }
    return env


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log_path: Path
    code: int | None = None

    @property
    def output(self) -> str:
        return self.log_path.read_text()


@contextlib.asynccontextmanager
async def hdops_run(
    flags: list[str], env: dict[str, str], log_path: Path, stop_timeout: float = 20
) -> AsyncIterator[Worker]:
    """One `hdops run FLAGS` process for the block; `worker.code` is its exit code
    after the block (SIGTERM asks it to stop as an operator would)."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bots.cli", "run", *flags], env=env, stdout=log, stderr=log
        )
        worker = Worker(proc, log_path)
        try:
            yield worker
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                worker.code = await asyncio.to_thread(proc.wait, stop_timeout)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
