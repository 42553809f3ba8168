"""SQLite writers of one process queue in order; readers never wait for them."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from hdops.store.db import Store, WriterGate
from hdops.store.orm import Person
from tests.conftest import ON_POSTGRES
from tests.helpers import contractor

pytestmark = pytest.mark.timeout(60)
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="the writer gate is SQLite's")


def test_waiting_writers_get_the_lock_in_the_order_they_asked() -> None:
    gate = WriterGate()
    order: list[int] = []
    gate.acquire()
    threads = []
    for n in range(8):

        def write(n: int = n) -> None:
            gate.acquire()
            order.append(n)
            gate.release()

        thread = threading.Thread(target=write)
        thread.start()
        threads.append(thread)
        while gate.queued < n + 1:  # n is queued before n + 1 asks
            time.sleep(0.001)
    gate.release()
    for thread in threads:
        thread.join(5)
    assert order == list(range(8))


def test_the_gate_is_reentrant_on_one_thread_and_exclusive_across_threads() -> None:
    gate = WriterGate(timeout=0.2)
    gate.acquire()
    gate.acquire()  # the same thread: no deadlock
    gate.release()
    failed: list[BaseException] = []

    def other() -> None:
        try:
            gate.acquire()
        except OperationalError as exc:
            failed.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(5)
    assert failed and "database is locked" in str(failed[0])
    assert gate.queued == 0  # the writer that gave up left the queue
    gate.release()
    gate.acquire()  # free again
    gate.release()


@sqlite_only
def test_a_reader_does_not_wait_for_a_writer(store: Store) -> None:
    assert store.gate is not None
    writing, done = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with store.unit_of_work() as s:
            contractor(s, "alice")
            s.flush()
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert writing.wait(10)
    started = time.monotonic()
    with store.read() as s:
        assert s.scalar(select(func.count(Person.id))) == 0  # the committed state
    assert time.monotonic() - started < 1.0
    done.set()
    thread.join(10)
    with store.read() as s:
        assert s.scalar(select(func.count(Person.id))) == 1


@sqlite_only
def test_concurrent_units_of_work_all_commit(store: Store) -> None:
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            for k in range(10):
                with store.unit_of_work() as s:
                    contractor(s, f"p{n}x{k}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with store.read() as s:
        assert s.scalar(select(func.count(Person.id))) == 80
