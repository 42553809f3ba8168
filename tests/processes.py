"""`hdops run` as real processes against the fakes: the environment that points it at
them, a restartable process the fault tests can SIGKILL, and a context that starts a
worker for a block and always stops it (SIGTERM, then a kill if it hangs).

One log file collects every incarnation's output (appended), so a failure shows what
each process said before it died."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from tests.fakes.discord import FakeDiscord
from tests.fakes.slack.server import FakeSlack


def run_env(
    db_url: str,
    slack: FakeSlack | None = None,
    discord: FakeDiscord | None = None,
    **extra: str,
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
    return env | extra


class HdopsProcess:
    """`python -m bots.cli <args>`, restartable; `kill()` is SIGKILL, `stop()` SIGTERM."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.args = args
        self.env = dict(env)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.code: int | None = None  # the exit code of the last stop()

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log.open("ab") as out:
            out.write(f"\n----- start {self.starts + 1}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bots.cli", *self.args],
                env=self.env,
                stdout=out,
                stderr=out,
            )
        self.starts += 1

    async def kill(self) -> None:
        """SIGKILL, and wait until the process is gone (its sockets closed)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.proc.wait, 10)

    async def stop(self, timeout: float = 20) -> int:
        """SIGTERM: the graceful stop; its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.code = await asyncio.to_thread(self.proc.wait, timeout)
            return self.code
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.asynccontextmanager
async def hdops_run(
    flags: list[str], env: dict[str, str], log_path: Path, stop_timeout: float = 20
) -> AsyncIterator[HdopsProcess]:
    """One `hdops run FLAGS` process for the block; `worker.code` is its exit code
    after the block (SIGTERM asks it to stop as an operator would)."""
    worker = HdopsProcess(["run", *flags], env, log_path)
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop(stop_timeout)
