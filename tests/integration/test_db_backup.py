"""`hdops db backup PATH`: an online copy of a SQLite store, taken while another
connection keeps writing, is one consistent committed state; a bad destination or a
PostgreSQL store gets one clear line and leaves nothing behind."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hdops.store.db import Store
from hdops.store.orm import Item
from tests.conftest import ON_POSTGRES
from tests.helpers import add_items, make_project


def test_backup_while_writing(store: Store, hdops: Any, tmp_path: Path) -> None:
    with store.unit_of_work() as s:
        project = make_project(s)
        add_items(s, project, 500)
        project_id = project.id
    if ON_POSTGRES:
        result = hdops("db", "backup", str(tmp_path / "copy.db"), ok=False)
        assert result.exit_code != 0
        assert "pg_dump" in result.output and "Traceback" not in result.output
        assert not (tmp_path / "copy.db").exists()
        return
    stop = threading.Event()

    def writer() -> None:  # hdops run, meanwhile
        n = 1000
        while not stop.is_set():
            with store.unit_of_work() as s:
                p = s.get(type(project), project_id)
                assert p is not None
                add_items(s, p, 20, prefix="live", start=n)
            n += 20

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = hdops("db", "backup", str(tmp_path / "copy.db"))
    finally:
        stop.set()
        thread.join(30)
    assert "backed up to" in result.stdout and "schema" in result.stdout
    copy = Store.from_url(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        with copy.read() as s:
            count = s.scalar(select(func.count()).select_from(Item))
    finally:
        copy.dispose()
    assert count is not None and count >= 500 and (count - 500) % 20 == 0  # whole commits
    conn = sqlite3.connect(tmp_path / "copy.db")
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_backup_refuses_an_existing_file(hdops: Any, tmp_path: Path) -> None:
    target = tmp_path / "exists.db"
    target.write_text("keep me")
    result = hdops("db", "backup", str(target), ok=False)
    assert result.exit_code != 0 and "Traceback" not in result.output
    reason = "pg_dump" if ON_POSTGRES else "already exists"
    assert reason in result.output
    assert target.read_text() == "keep me"
    missing = tmp_path / "no" / "such" / "dir.db"
    result = hdops("db", "backup", str(missing), ok=False)
    assert result.exit_code != 0 and not missing.exists()
