"""`hdops run` as a real child process the fault tests can kill and start again.

One log file collects every incarnation's output (appended), so a failure shows what
each process said before it died."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.fakes.slack.server import FakeSlack


def slack_env(db_url: str, fake: FakeSlack, **extra: str) -> dict[str, str]:
    """The environment `hdops run --slack` needs to serve `fake` over Socket Mode."""
    return {
        **os.environ,
        "HDOPS_DATABASE_URL": db_url,
        "HDOPS_SLACK_API_URL": fake.api_url,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_APP_TOKEN": fake.app_token,
        **extra,
    }


class HdopsProcess:
    """`python -m bots.cli <args>`, restartable; `kill()` is SIGKILL, `stop()` SIGTERM."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.args = args
        self.env = dict(env)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

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
            return await asyncio.to_thread(self.proc.wait, timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")
