"""SQLite on a full disk and on a read-only one: `hdops` commands and `hdops run` end
with ONE line naming the problem, no traceback, and the database keeps what it had.

Real filesystems, not simulations: a 2 MiB tmpfs filled to the last block, and a tmpfs
remounted read-only. (Permissions alone would not do: these tests run as root, and
root writes through chmod 0444/0555; a read-only mount stops root too. `PRAGMA
max_page_count` is no disk: SQLite's -wal and -shm files would still find room.)
Mounting needs root; elsewhere the tests are skipped, saying so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hdops.store.db import Store
from hdops.store.orm import Person
from tests.conftest import ON_POSTGRES
from tests.helpers import contractor

pytestmark = [
    pytest.mark.skipif(ON_POSTGRES, reason="SQLite's own disk: the PostgreSQL run has none"),
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root"),
]


def _mount(target: Path, *options: str) -> None:
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(target)], check=True
    )


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs of its own, unmounted afterwards whatever happened."""
    target = tmp_path / "disk"
    target.mkdir()
    _mount(target, "size=2M", "mode=0755")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@pytest.fixture
def database(db_url: str, disk: Path) -> Path:
    """The test's migrated database, with one person, copied onto the small disk."""
    store = Store.from_url(db_url)
    with store.unit_of_work() as s:
        contractor(s, "alice")
    store.dispose()  # the last connection checkpoints the WAL into the file
    source = make_url(db_url).database
    assert source is not None
    path = disk / "hdops.db"
    shutil.copyfile(source, path)
    return path


def hdops(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HDOPS_DATABASE_URL": f"sqlite:///{path}"}
    env.pop("HDOPS_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _fill(disk: Path) -> None:
    with (disk / "ballast").open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def _one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    line = lines[0]
    assert line.startswith("error: "), line
    for word in words:
        assert word in line, line
    return line


def _people(path: Path) -> int:
    store = Store.from_url(f"sqlite:///{path}")
    try:
        with store.read() as s:
            return int(s.scalar(select(func.count(Person.id))) or 0)
    finally:
        store.dispose()


def test_a_full_disk_is_one_line_naming_it_and_changes_nothing(database: Path, disk: Path) -> None:
    assert hdops(database, "person", "list").returncode == 0  # the -wal/-shm exist now
    _fill(disk)
    added = hdops(database, "person", "add", "zed", "--role", "contractor")
    _one_line(added, f"the disk holding {disk} is full")
    _one_line(hdops_run(database), "is full (")
    (disk / "ballast").unlink()
    assert _people(database) == 1  # alice, and no half-added zed


def test_a_read_only_disk_is_one_line_naming_it_for_commands_and_run(
    database: Path, disk: Path
) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    _one_line(
        hdops(database, "person", "add", "zed", "--role", "contractor"), "read-only filesystem"
    )
    _one_line(hdops(database, "person", "list"), f"{disk} is on a read-only filesystem")
    _one_line(hdops_run(database), "read-only filesystem")
    subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
    assert _people(database) == 1


def hdops_run(path: Path) -> subprocess.CompletedProcess[str]:
    """`hdops run --slack` with tokens set: it gets as far as opening the store."""
    env = {
        **os.environ,
        "HDOPS_DATABASE_URL": f"sqlite:///{path}",
        "SLACK_BOT_TOKEN": "xoxb-unused",
        "SLACK_APP_TOKEN": "xapp-unused",
        "HDOPS_SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", "run", "--slack"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
