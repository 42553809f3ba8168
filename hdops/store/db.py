"""Engines, sessions and the unit of work.

`Store` owns one engine and hands out units of work. Services receive a unit of
work (a `Session` inside one transaction) and never create engines; nothing is
created at import time.

SQLite discipline: WAL journal, foreign keys on, a busy timeout, and every
writing transaction starts with `BEGIN IMMEDIATE` so two writers queue on the
lock up front instead of failing half-way with "database is locked" on upgrade
from a read lock. Within one process, writers queue in a FIFO `WriterGate`
before they even ask SQLite: the lock passes straight to the next writer when
one commits, instead of every waiter polling SQLite's busy handler, which
sleeps in growing steps (1, 2, 5, 10 … 100 ms) and so leaves the database idle
while writers wait. (Writers in other processes, e.g. a CLI command beside
`hdops run`, still meet SQLite's own lock and busy timeout.) Read-only work
(`Store.read()`) begins a deferred transaction and never waits for writers:
WAL lets it read the last committed state.

Group commit — several threads' transactions sharing one COMMIT — is not done:
with WAL and `synchronous=NORMAL` a commit does not wait for the disk (only
checkpoints do), so it costs microseconds, and joining transactions would make
one request's failure roll back another's.

PostgreSQL needs none of this; it gets the same busy timeout as its
`lock_timeout`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_S = 30  # SQLite busy timeout, PostgreSQL lock_timeout
READ_ONLY = "hdops_read_only"  # execution option: begin a deferred (read) transaction


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def create_store_engine(url: str, *, busy_timeout: float = BUSY_TIMEOUT_S, **kwargs: Any) -> Engine:
    """`busy_timeout`: how long a statement waits for a lock another writer holds
    before giving up — SQLite's busy timeout ("database is locked"), PostgreSQL's
    `lock_timeout` (without one a request would wait for ever, and its person with
    it). Either way the error is `is_busy` and the core answers "busy, try again"."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            # Named parameters (sqlite3 takes both): prepared.py compiles statements
            # through the public API, which names parameters (PostgreSQL's psycopg
            # dialect is named already).
            paramstyle="named",
            **kwargs,
        )
        _configure_sqlite(engine, busy_timeout)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if parsed.get_backend_name() == "postgresql":
        connect_args = dict(kwargs.pop("connect_args", {}))
        lock_timeout = f"-c lock_timeout={int(busy_timeout * 1000)}"
        connect_args["options"] = f"{connect_args.get('options', '')} {lock_timeout}".strip()
        kwargs["connect_args"] = connect_args
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; we emit BEGIN.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: this runs for every unit of work, and SQLAlchemy's
        # execution layer costs more than the statement. Errors (e.g. "database is
        # locked" after the busy timeout) are still raised as SQLAlchemy's.
        begin = "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
        try:
            conn.connection.dbapi_connection.execute(begin)
        except sqlite3.Error as err:
            raise DBAPIError.instance(
                begin, (), err, sqlite3.Error, dialect=engine.dialect
            ) from err


# PostgreSQL SQLSTATEs meaning "not now": lock_not_available (lock_timeout),
# query_canceled (statement_timeout), serialization_failure, deadlock_detected.
_PG_BUSY = frozenset({"55P03", "57014", "40001", "40P01"})


def is_busy(exc: BaseException) -> bool:
    """True when the database refused only for now — a lock held by another writer
    past the busy timeout (SQLite "database is locked"/"busy", this process's
    writer queue included), a PostgreSQL lock or statement timeout, a
    serialization failure or deadlock — so the same request may well work shortly."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        words = str(orig).lower()
        return "locked" in words or "busy" in words
    return getattr(orig, "sqlstate", None) in _PG_BUSY


class WriterGate:
    """A FIFO lock for this process's SQLite writers, handed from one to the next.

    Re-entrant per thread (a unit of work opened inside another on the same thread
    passes; SQLite itself then decides). `acquire` gives up after `timeout` seconds
    like SQLite's busy handler would, with the same "database is locked" error."""

    _HANDED_OFF = -1

    def __init__(self, timeout: float = BUSY_TIMEOUT_S) -> None:
        self.timeout = timeout
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None:
                self._owner, self._depth = me, 1
                return
            ticket = threading.Lock()
            ticket.acquire()
            self._waiters.append(ticket)
        if not ticket.acquire(timeout=self.timeout):
            with self._mutex:
                if ticket in self._waiters:  # not handed to us: give up
                    self._waiters.remove(ticket)
                    raise OperationalError(
                        "BEGIN IMMEDIATE",
                        (),
                        sqlite3.OperationalError("database is locked (writer queue)"),
                    )
            # handed to us just as we timed out: we hold it now
        with self._mutex:
            self._owner, self._depth = me, 1

    def release(self) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner = self._HANDED_OFF  # newcomers queue behind the next writer
                self._waiters.popleft().release()
            else:
                self._owner = None

    @property
    def queued(self) -> int:
        return len(self._waiters)


class Store:
    """One database: an engine plus a session factory."""

    def __init__(self, engine: Engine, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=True)
        self._read_sessions = sessionmaker(
            engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        sqlite = engine.dialect.name == "sqlite"
        self.gate: WriterGate | None = WriterGate(busy_timeout) if sqlite else None

    @classmethod
    def from_url(cls, url: str, *, busy_timeout: float = BUSY_TIMEOUT_S, **kwargs: Any) -> Store:
        """`busy_timeout`: seconds a writer waits for a lock (on SQLite in this
        process's queue, then in SQLite's) before giving up; see `create_store_engine`."""
        return cls(create_store_engine(url, busy_timeout=busy_timeout, **kwargs), busy_timeout)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on error.
        On SQLite it first takes its turn in the process's writer queue."""
        gate = self.gate
        if gate is not None:
            gate.acquire()
        try:
            session = self._sessions()
            try:
                with session.begin():
                    yield session
            finally:
                session.close()
        finally:
            if gate is not None:
                gate.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction: sees the last committed state and never waits
        for writers (on SQLite a deferred transaction in WAL mode). Do not write in it."""
        session = self._read_sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
