"""An online copy of a SQLite store (`hdops db backup PATH`).

SQLite's backup API copies the database page by page while `hdops run` keeps
writing: a step that finds the source changed by another connection starts over,
so the copy is always one committed state, never a torn file (copying the file
with `cp` while the WAL holds recent commits is not). The copy is written beside
its destination and renamed into place only once it is complete and passes
`PRAGMA integrity_check`, so an interrupted backup leaves no half file behind.

PostgreSQL has `pg_dump` for this (README, "Scaling out")."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

PAGES_PER_STEP = 1024  # ~4 MB: writers get the lock back between steps


@dataclass(frozen=True)
class Backup:
    path: Path
    bytes: int
    pages: int


class BackupError(Exception):
    """The copy could not be made; nothing was left at the destination."""


def backup_sqlite(engine: Engine, dest: Path) -> Backup:
    """Copy the SQLite database behind `engine` to `dest` (which must not exist)."""
    if engine.dialect.name != "sqlite":
        raise BackupError("not a SQLite store")
    if dest.exists():
        raise BackupError(f"{dest} already exists; choose a new file")
    if not dest.parent.is_dir():
        raise BackupError(f"no such directory: {dest.parent}")
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        with engine.connect() as conn:
            source = conn.connection.driver_connection
            assert isinstance(source, sqlite3.Connection)
            target = sqlite3.connect(partial)
            try:
                source.backup(target, pages=PAGES_PER_STEP)
                (check,) = target.execute("PRAGMA integrity_check").fetchone()
                (pages,) = target.execute("PRAGMA page_count").fetchone()
            finally:
                target.close()
        if check != "ok":
            raise BackupError(f"the copy failed its integrity check: {check}")
        os.replace(partial, dest)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(str(exc)) from None
    finally:
        partial.unlink(missing_ok=True)
    return Backup(dest, dest.stat().st_size, int(pages))
