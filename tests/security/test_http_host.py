"""Issue 11, point 11 (HTTP): `hdops run --slack --http PORT` listens on 127.0.0.1
unless `--host` says otherwise.

Before: HTTP mode always bound 0.0.0.0, exposing the plain-HTTP port (meant for a
TLS proxy in front) on every interface. Linux routes all of 127.0.0.0/8 to the
loopback interface, so a server bound to 0.0.0.0 answers on 127.0.0.2 too and one
bound to 127.0.0.1 does not."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.slack.server import FakeSlack

pytest_plugins = ["tests.fakes.slack.fixtures"]

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses 127.0.0.2 (Linux)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


async def healthy(host: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                async with http.get(f"http://{host}:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.2)


def start(db_url: str, fake: FakeSlack, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HDOPS_DATABASE_URL": db_url,
        "HDOPS_SLACK_API_URL": fake.api_url,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": fake.signing_secret,
    }
    out = log.open("w")
    cmd = [sys.executable, "-m", "bots.cli", "run", "--slack", *args]
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=out)


async def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.to_thread(proc.wait, 20)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("args", "listening", "not_listening"),
    [((), "127.0.0.1", "127.0.0.2"), (("--host", "127.0.0.2"), "127.0.0.2", "127.0.0.1")],
    ids=["default", "--host"],
)
async def test_http_mode_listens_on_loopback_unless_told_otherwise(
    db_url: str,
    fake_slack: FakeSlack,
    tmp_path: Path,
    args: tuple[str, ...],
    listening: str,
    not_listening: str,
) -> None:
    port = free_port()
    log = tmp_path / "run.log"
    proc = start(db_url, fake_slack, log, "--http", str(port), *args)
    try:
        await healthy(listening, port, proc, log)
        assert not answers(not_listening, port)
        assert f"listening on {listening}:{port}" in log.read_text()
    finally:
        code = await stop(proc)
    assert code == 0, log.read_text()


async def test_an_address_it_cannot_listen_on_stops_it_with_one_line(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    log = tmp_path / "run.log"
    # 203.0.113.0/24 is reserved for documentation: no interface here has it.
    proc = start(db_url, fake_slack, log, "--http", str(free_port()), "--host", "203.0.113.7")
    try:
        code = await asyncio.to_thread(proc.wait, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = log.read_text()
    assert code != 0, output
    last = output.strip().splitlines()[-1]
    assert last.startswith("error: hdops run stopped:") and "203.0.113.7" in last, output


def test_host_without_http_mode_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli", "run", "--slack", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HDOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "--host" in result.stderr, result.stderr
