"""Pacing shared by every `hdops run` worker on one PostgreSQL store.

Slack's and Discord's limits count the app, not the process: three workers each
pacing a channel at one post a second would post three a second into it. So with
several workers the rate-limit cells live in the store (`hdops.store.pacing`) and
each send books its slot there, off the event loop: one statement in autocommit
(`hdops_pace_book`, one round trip, well under a millisecond on a local
PostgreSQL), on threads of its own — a send is never queued behind the
interactions running on the default executor, which a burst of clicks fills.

If the database cannot be reached for a booking, the send is paced by this
process's own `Pacer` instead of waiting on the database: delivery goes on, paced
as one process would be, and the platform's 429s still hold it back.

SQLite serves one process (the writer lock), so there `LocalPacing` is enough
(`pacing_for`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hdops.pacing import Booking, Limit, LocalPacing, Pacer, Pacing
from hdops.store import pacing as q
from hdops.store.db import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class SharedPacing:
    """`Pacing` against cells in the store, with a local fallback."""

    THREADS = 2  # bookings at once; each is one short statement

    def __init__(self, store: Store) -> None:
        self.store = store
        self.fallback = Pacer()
        # On PostgreSQL the booking is a single statement, so it needs no
        # transaction of its own: autocommit saves the BEGIN and COMMIT round trips.
        self._autocommit: sessionmaker[Session] = sessionmaker(
            store.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._executor = ThreadPoolExecutor(self.THREADS, thread_name_prefix="hdops-pacing")

    async def book(self, limits: Sequence[Limit], max_wait: float) -> Booking:
        try:
            return await self._off_loop(self._book, limits, max_wait)
        except SQLAlchemyError as exc:
            log.warning("shared pacing unavailable, pacing this call locally: %s", exc)
            return self.fallback.book(limits, max_wait)

    async def hold(self, keys: Sequence[str], seconds: float) -> None:
        self.fallback.hold(keys, seconds)
        try:
            await self._off_loop(self._hold, keys, seconds)
        except SQLAlchemyError as exc:
            log.warning("shared pacing unavailable, holding locally only: %s", exc)

    async def _off_loop(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _book(self, limits: Sequence[Limit], max_wait: float) -> Booking:
        if self.store.dialect != "postgresql":  # the Python booking: a transaction
            with self.store.unit_of_work() as session:
                return q.book(session, limits, max_wait)
        with self._autocommit() as session:
            return q.book(session, limits, max_wait)

    def _hold(self, keys: Sequence[str], seconds: float) -> None:
        with self.store.unit_of_work() as session:
            q.hold(session, keys, seconds)


def pacing_for(store: Store) -> Pacing:
    """Shared cells where several workers may share the store, else in memory."""
    return SharedPacing(store) if store.dialect == "postgresql" else LocalPacing()
