"""Why a SQLite database cannot be written: its disk is full or read-only.

SQLite reports both vaguely. On a full disk a WAL database usually fails to open
with "disk I/O error" (it cannot size its shared-memory file) and a write fails
with "database or disk is full"; on a read-only filesystem or folder it fails with
"unable to open database file" or "attempt to write a readonly database". None
names the cause, so a command's one error line asks the filesystem instead.

Checked: a read-only mount (`statvfs` flag), a folder or file the process may not
write (`os.access`; root passes it, which is why the mount is checked first), and
free space below `FULL_BELOW` bytes (SQLite needs room for its -wal and -shm files
and a page or two before it can record anything).
"""

from __future__ import annotations

import os
from pathlib import Path

FULL_BELOW = 256 * 1024


def disk_problem(database: str | None) -> str | None:
    """The cause, as words for an error line, or None if the disk looks fine."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).resolve()
    folder = path.parent
    try:
        fs = os.statvfs(folder)
    except OSError:
        return None  # a missing folder: SQLite's own message says it
    if fs.f_flag & os.ST_RDONLY:
        return f"{folder} is on a read-only filesystem"
    if not os.access(folder, os.W_OK):
        return f"the folder {folder} is read-only (no write permission)"
    if path.exists() and not os.access(path, os.W_OK):
        return f"the file {path} is read-only (no write permission)"
    free = fs.f_bavail * fs.f_frsize
    if free < FULL_BELOW:
        return f"the disk holding {folder} is full ({free // 1024} KiB free)"
    return None
