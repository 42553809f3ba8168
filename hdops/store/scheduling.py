"""Who runs the scheduler: one leader per database.

APScheduler 3.x job stores must never be shared by two running schedulers, so
when several `hdops run` processes share a PostgreSQL store exactly one of them
(the leader) runs the scheduler. The leader holds a session-level advisory lock
(`pg_try_advisory_lock`) on a dedicated connection kept open for its whole life;
the others try again every few seconds. The lock belongs to the database
session, so it is released the moment the leader's connection closes: at once
when the process exits or is killed (the kernel closes its socket), and within
about 25 s if its machine disappears (TCP keepalives, set on both ends of the
connection below). A standby retrying every 15 s therefore takes over within a
minute. The leader checks its connection on the same period and stops its
scheduler if the connection is lost, since its lock is then gone too.

On SQLite no lock is needed: `hdops run` already holds the single-writer lock
(`hdops.store.lock`), so only one process can run on a SQLite file at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from typing import Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from hdops.store.db import normalize_url

log = logging.getLogger(__name__)

# A fixed 64-bit key: the same for every hdops process on the database.
LEADER_KEY = int.from_bytes(
    hashlib.sha256(b"hdops:scheduler-leader").digest()[:8], "big", signed=True
)

KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


class Leadership(Protocol):
    def try_acquire(self) -> bool:
        """Become the leader if nobody is; True if this process now leads."""
        ...

    def still_held(self) -> bool:
        """False once leadership is lost (the lock's connection is gone)."""
        ...

    def release(self) -> None: ...


class SoleProcess:
    """SQLite: the single-writer lock already guarantees one process."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


class AdvisoryLockLeader:
    """PostgreSQL advisory-lock leadership on a dedicated connection."""

    def __init__(self, url: str, key: int = LEADER_KEY) -> None:
        self.key = key
        self._engine = create_engine(
            normalize_url(url),
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={**KEEPALIVE, "application_name": "hdops-scheduler-leader"},
        )
        self._conn: Connection | None = None

    @property
    def leading(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return self.still_held()
        conn = self._engine.connect()
        try:
            # The server drops the session of a vanished client within ~25 s.
            conn.execute(text("SET tcp_keepalives_idle = 10"))
            conn.execute(text("SET tcp_keepalives_interval = 5"))
            conn.execute(text("SET tcp_keepalives_count = 3"))
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            )
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1")).scalar()
        except Exception as exc:
            log.error("scheduler leader connection lost (%s): leadership is gone", exc)
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(Exception):  # closing the connection releases it anyway
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("closing the leader connection failed", exc_info=True)

    def dispose(self) -> None:
        self.release()
        self._engine.dispose()


def leadership_for(url: str) -> Leadership:
    """The leader election that fits the database behind `url`."""
    backend = make_url(normalize_url(url)).get_backend_name()
    if backend == "postgresql":
        return AdvisoryLockLeader(url)
    return SoleProcess()
