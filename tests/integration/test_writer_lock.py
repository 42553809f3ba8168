"""A second `hdops run` on the same SQLite file refuses to start, naming the lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hdops.errors import Conflict
from hdops.store.lock import acquire_writer_lock, lock_path

HOLDER = """
import sys, time
from hdops.store.lock import acquire_writer_lock
lock = acquire_writer_lock(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


def test_second_run_on_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hdops.db'}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        env = {
            **os.environ,
            "HDOPS_DATABASE_URL": url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_APP_TOKEN": "xapp-test",
        }
        proc = subprocess.run(
            [sys.executable, "-m", "bots.cli", "run", "--slack"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode != 0
        assert str(lock_path(url)) in proc.stderr
        assert f"pid {holder.pid}" in proc.stderr
        assert "xapp-test" not in proc.stderr + proc.stdout  # tokens are never echoed
    finally:
        holder.kill()
        holder.wait()
    # the lock dies with its holder: now it can be taken
    time.sleep(0.1)
    acquire_writer_lock(url).release()


def test_lock_in_process_and_postgres_needs_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    first = acquire_writer_lock(url)
    with pytest.raises(Conflict, match="already running"):
        acquire_writer_lock(url)
    first.release()
    acquire_writer_lock(url).release()
    assert lock_path("postgresql+psycopg://postgres@127.0.0.1/test") is None
