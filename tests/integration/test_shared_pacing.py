"""Shared pacing: workers on one store book the same rate-limit cells, so a channel
gets one post a second from all of them together, not from each."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from hdops import intents
from hdops.chat import Message, Paragraph
from hdops.config import Settings
from hdops.pacing import LocalPacing, Pacer, Rate
from hdops.services.delivery import Deliverer
from hdops.services.shared_pacing import SharedPacing, pacing_for
from hdops.store import outbox
from hdops.store import pacing as q
from hdops.store.db import Store
from hdops.store.orm import PaceCell
from tests.integration.test_delivery import ScriptedPort

POST = Rate(per_second=1.0, burst=3)


def _book(store: Store, key: str, rate: Rate, max_wait: float = 100.0) -> tuple[float, bool]:
    with store.unit_of_work() as s:
        booking = q.book(s, [(key, rate)], max_wait)
    return booking.wait, booking.booked


def test_two_workers_book_one_channel_as_one(store: Store, db_url: str) -> None:
    """Alternating between two stores (two workers), a burst of three then one a second."""
    other = Store.from_url(db_url)
    try:
        waits = [_book((store, other)[i % 2], "slack:post:C1", POST)[0] for i in range(6)]
    finally:
        other.dispose()
    expected = [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]
    assert waits == pytest.approx(expected, abs=0.25), waits


def test_a_wait_too_long_books_nothing(store: Store) -> None:
    for _ in range(3):
        assert _book(store, "k", POST) == (0.0, True)
    wait, booked = _book(store, "k", Rate(1.0, 3), max_wait=0.5)  # ~1 s away: refused
    assert not booked and wait == pytest.approx(1.0, abs=0.25)
    wait, booked = _book(store, "k", POST)  # the refused try took no slot
    assert booked and wait == pytest.approx(1.0, abs=0.25)


def test_a_booking_counts_against_every_limit(store: Store) -> None:
    tier = Rate(per_second=0.5, burst=1)
    with store.unit_of_work() as s:
        first = q.book(s, [("slack:post:C1", POST), ("slack:chat.update", tier)], 10)
    assert first.booked and first.wait == 0.0
    wait, _ = _book(store, "slack:chat.update", tier)
    assert wait == pytest.approx(2.0, abs=0.5)


def test_a_platform_hold_stops_every_worker(store: Store, db_url: str) -> None:
    with store.unit_of_work() as s:
        q.hold(s, ["slack:post:C9"], 5.0)
    other = Store.from_url(db_url)
    try:
        wait, booked = _book(other, "slack:post:C9", POST)
    finally:
        other.dispose()
    assert booked and wait == pytest.approx(5.0, abs=0.25)
    with store.unit_of_work() as s:  # a shorter hold never shortens a longer one
        q.hold(s, ["slack:post:C9"], 1.0)
        held = s.scalar(select(PaceCell.held_until).where(PaceCell.key == "slack:post:C9"))
        now = s.scalar(select(q._db_now(s)))
    assert held is not None and now is not None and held - now > 4.0


def test_concurrent_workers_never_exceed_the_rate(store: Store, db_url: str) -> None:
    """Threads on two stores book one key at once: every booked start, on the
    database's clock, is spaced as the limit allows."""
    rate = Rate(per_second=20.0, burst=2)
    stores = [store, Store.from_url(db_url)]
    starts: list[float] = []
    lock = threading.Lock()

    def worker(s: Store) -> None:
        for _ in range(10):
            with s.unit_of_work() as session:
                booking = q.book(session, [("hot", rate)], 100)
                now = session.scalar(select(q._db_now(session)))
            assert booking.booked and now is not None
            with lock:
                starts.append(now + booking.wait)

    try:
        threads = [threading.Thread(target=worker, args=(s,)) for s in stores for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        stores[1].dispose()
    assert len(starts) == 40
    starts.sort()
    # Any `burst`+1 consecutive calls span at least one interval per call past the
    # burst (the reading of `now` after the booking makes each start a little late,
    # never early, so a tolerance of a few milliseconds only forgives that).
    for i in range(len(starts) - rate.burst):
        assert starts[i + rate.burst] - starts[i] >= rate.interval - 0.01


def test_idle_cells_are_pruned(store: Store) -> None:
    _book(store, "old", POST)
    _book(store, "fresh", POST)
    with store.unit_of_work() as s:
        s.execute(update(PaceCell).where(PaceCell.key == "old").values(tat=1000.0))
    with store.unit_of_work() as s:
        assert q.prune(s) == 1
        assert s.scalars(select(PaceCell.key)).all() == ["fresh"]


def test_without_the_database_a_send_is_paced_locally(tmp_path: object) -> None:
    """A booking that cannot reach the store does not stop delivery."""
    broken = Store.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        pacing = SharedPacing(broken)
        started = time.monotonic()
        bookings = [asyncio.run(pacing.book([("k", POST)], 10.0)) for _ in range(4)]
    finally:
        broken.dispose()
    assert time.monotonic() - started < 10
    assert [b.booked for b in bookings] == [True] * 4
    assert [round(b.wait) for b in bookings] == [0, 0, 0, 1]


async def test_two_deliverers_keep_one_channel_under_its_limit(store: Store, db_url: str) -> None:
    """Two workers send into one channel one after the other: the platform (which
    refuses calls over its limit with 429, as Slack does) never has to refuse one,
    because the second worker books after the first's burst instead of starting a
    burst of its own."""
    # Paced at 4 a second against a platform that allows 5: the headroom absorbs a
    # late start on a loaded machine (a call made late shortens the gap to the next).
    platform = ScriptedPort(per_second=5.0, burst=2, paced_as=Rate(4.0, 2))
    other = Store.from_url(db_url)
    workers = [
        Deliverer(s, {"slack": platform}, Settings(), pacer=SharedPacing(s)) for s in (store, other)
    ]
    try:
        for wave, worker in enumerate(workers):
            with store.unit_of_work() as s:
                for i in range(4):
                    text = f"notice {wave}.{i}"
                    message = Message(text=text, parts=[Paragraph(text=text)])
                    intents.to_channels(s, {"slack": "C1"}, message, datetime.now(UTC))
            for _ in range(50):
                await worker.deliver_due()
                with store.read() as s:
                    if outbox.pending_count(s) == 0:
                        break
                await asyncio.sleep(0.05)
    finally:
        other.dispose()
    assert len(platform.calls) == 8
    assert platform.refused == 0


def test_workers_on_postgresql_share_their_pacing(store: Store) -> None:
    expected = SharedPacing if store.dialect == "postgresql" else LocalPacing
    assert isinstance(pacing_for(store), expected)


RATES = [Rate(1.0, 3), Rate(0.5, 1), Rate(20.0, 2), Rate.per_minute(50), Rate(5.0, 5)]
# One step: after `dt` seconds, either book (keys, rates, max_wait) or hold a key.
STEPS = st.lists(
    st.tuples(
        st.floats(0.0, 3.0),
        st.sampled_from(["book", "book", "book", "hold"]),
        st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(RATES)), min_size=1, max_size=3),
        st.sampled_from([0.0, 0.5, 3.0, 100.0]),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
def test_the_store_books_as_the_in_memory_pacer_does(store: Store, steps: list) -> None:
    """The store's booking (on PostgreSQL the `hdops_pace_book` function, on SQLite
    the Python) gives the same waits as the in-memory `Pacer` over any sequence of
    bookings, multi-key bookings and platform holds, at the same instants."""
    now = [1.8e9]
    pacer = Pacer(clock=lambda: now[0])
    prefix = f"prop:{uuid.uuid4().hex[:8]}:"
    for dt, what, limits, max_wait in steps:
        now[0] += dt
        keyed = [(prefix + key, rate) for key, rate in limits]
        if what == "hold":
            pacer.hold([keyed[0][0]], max_wait)
            until = now[0] + max_wait
            with store.unit_of_work() as s:
                q._ensure(s, [keyed[0][0]])
                cell = s.get(PaceCell, keyed[0][0])
                assert cell is not None
                cell.held_until = max(cell.held_until or until, until)
            continue
        expected = pacer.book(keyed, max_wait)
        with store.unit_of_work() as s:
            got = q.book(s, keyed, max_wait, at=now[0])
        assert got.booked == expected.booked, (got, expected)
        assert got.wait == pytest.approx(expected.wait, abs=1e-6), (got, expected)
