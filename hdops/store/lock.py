"""One writer process per SQLite file.

SQLite serialises writers with a file lock that is held only per transaction, so
two `hdops run` processes on one file would both start and then fight (and both
would run the scheduler). A second process is refused up front instead: the
first holds an exclusive `flock` on `<database>.lock` for its whole life. The
lock dies with the process, so a crash never leaves a stale lock behind.
PostgreSQL needs no such lock (several workers share it; see the scheduler's
advisory-lock leader).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from hdops.errors import Conflict
from hdops.store.db import normalize_url


class WriterLock:
    def __init__(self, path: Path | None, handle: IO[str] | None) -> None:
        self.path = path
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_path(url: str) -> Path | None:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve().with_name(Path(parsed.database).name + ".lock")


def acquire_writer_lock(url: str) -> WriterLock:
    """Take the single-writer lock for a SQLite URL (no-op for other databases)."""
    path = lock_path(url)
    if path is None:
        return WriterLock(None, None)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise Conflict(
            f"another hdops process (pid {holder}) is already running on this SQLite "
            f"database; it holds the lock {path}. Stop it, or use PostgreSQL for several "
            "workers."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return WriterLock(path, handle)
