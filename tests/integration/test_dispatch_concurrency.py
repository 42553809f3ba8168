"""Two (or more) dispatchers at once never over-fill an item or double-assign.

What each database run proves, by name:

- `..._postgres`: dispatchers in separate processes really run at once, so the
  conditional claim (`open_slots > 0` in the UPDATE), `SKIP LOCKED` and the
  contractor's row lock are what keep the counts right.
- `..._sqlite`: dispatchers in threads, each with its own `Store` (so the
  in-process writer gate does not serialise them): only SQLite's `BEGIN
  IMMEDIATE` does; with a deferred `BEGIN` they would read, then fail to upgrade
  to a write lock ("database is locked"), and this test fails.
- `test_a_claim_never_takes_a_slot_that_filled_after_it_was_read` forces the
  interleaving both databases can otherwise only hit by luck: the candidate was
  read while it had a free slot, another dispatcher took that slot, then the
  claim runs. The conditional claim must refuse it (without the condition the
  item goes to -1 open slots and is over-filled).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select, update

from hdops.store.db import Store
from hdops.store.orm import Assignment, Item, Person
from hdops.store.prepared import Tx
from tests.conftest import ON_POSTGRES
from tests.helpers import T0, add_items, contractor, make_project

WORKERS = 4
CONTRACTORS_PER_WORKER = 6
ROUNDS = 6


def _work(url: str, names: list[str], rounds: int) -> None:
    """Each contractor takes a task and answers it, repeatedly, as fast as possible."""
    from datetime import timedelta

    from hdops.services import answers, dispatch

    store = Store.from_url(url)
    try:
        for r in range(rounds):
            now = T0 + timedelta(seconds=r)
            for name in names:
                with store.unit_of_work() as s:
                    person = s.scalars(select(Person).where(Person.name == name)).one()
                    assignment = dispatch.assign_next_task(s, person, now)
                    if assignment is None:
                        continue
                    answers.submit_answer(
                        s,
                        person,
                        assignment.id,
                        {"choice": "tie"},
                        f"{name}-{r}-{assignment.id}",
                        now,
                    )
    finally:
        store.dispose()


def _contractors(store: Store) -> list[list[str]]:
    """24 contractors for 75 slots (25 items, overlap 3), split into worker groups."""
    names = [f"c{w}_{i}" for w in range(WORKERS) for i in range(CONTRACTORS_PER_WORKER)]
    with store.unit_of_work() as s:
        project = make_project(s, overlap=3)
        add_items(s, project, 25)  # 75 slots for 24 contractors x 6 rounds: scarce
        for name in names:
            p = contractor(s, name)
            assert p.profile is not None
            p.profile.available = False  # drive them by hand, no auto-next
    return [names[w::WORKERS] for w in range(WORKERS)]


@pytest.mark.postgres_only
def test_concurrent_dispatch_never_overfills_postgres(store: Store, db_url: str) -> None:
    groups = _contractors(store)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_work, args=(db_url, g, ROUNDS)) for g in groups]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    _assert_filled_exactly(store)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's writer lock; PostgreSQL runs the process test")
def test_concurrent_dispatch_never_overfills_sqlite(store: Store, db_url: str) -> None:
    groups = _contractors(store)
    errors: list[BaseException] = []

    def run(group: list[str]) -> None:
        try:
            _work(db_url, group, ROUNDS)  # its own Store: its own writer gate
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(g,)) for g in groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    _assert_filled_exactly(store)


def _assert_filled_exactly(store: Store) -> None:
    with store.unit_of_work() as s:
        rows = s.execute(select(Item.id, Item.target, Item.answer_count, Item.open_slots)).all()
        for _, target, answered, open_slots in rows:
            assert answered <= target
            assert open_slots == target - answered  # no live offers left
        assert sum(r.answer_count for r in rows) == 75  # every slot filled exactly
        pairs = s.execute(select(Assignment.item_id, Assignment.person_id)).all()
        assert len(pairs) == len(set(pairs))
        per_item = Counter(item for item, _ in pairs)
        assert max(per_item.values()) <= 3
        open_per_person = s.execute(
            select(Assignment.person_id, func.count())
            .where(Assignment.status == "offered")
            .group_by(Assignment.person_id)
        ).all()
        assert all(n <= 1 for _, n in open_per_person)


def test_everyone_asking_at_once_gets_a_task_while_work_remains(store: Store) -> None:
    """30 contractors ask at the same moment for 30 single-answer items: every one
    gets a task (dispatchers racing for the same first items must move on to others,
    not give up)."""
    names = [f"n{i:02d}" for i in range(30)]
    with store.unit_of_work() as s:
        project = make_project(s, overlap=1)
        add_items(s, project, 30)
        for name in names:
            contractor(s, name)
    from hdops.services import dispatch

    barrier = threading.Barrier(len(names))
    got: dict[str, bool] = {}
    errors: list[BaseException] = []

    def ask(name: str) -> None:
        try:
            barrier.wait(30)
            with store.unit_of_work() as s:
                person = s.scalars(select(Person).where(Person.name == name)).one()
                got[name] = dispatch.assign_next_task(s, person, T0) is not None
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(n for n, ok in got.items() if not ok) == []


def test_a_claim_never_takes_a_slot_that_filled_after_it_was_read(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """alice's dispatcher read item 1 as free; before it claims, another dispatcher
    takes item 1's last slot. The claim must see that and move on to item 2."""
    from hdops.services import dispatch
    from hdops.store import dispatch as q

    with store.unit_of_work() as s:
        project = make_project(s, overlap=1)
        first, second = add_items(s, project, 2)
        first_id, second_id = first.id, second.id
        contractor(s, "alice")
    read_while_free = [first_id, second_id]  # what the candidate query saw

    def stale_candidates(tx: Tx, *args: object, **kwargs: object) -> list[int]:
        # Between this read and the claim, the other dispatcher's claim lands. (It is
        # written here through the same transaction: SQLite would make a second
        # writer wait for this one, and the claim's own check is what is under test.)
        tx.session.execute(update(Item).where(Item.id == first_id).values(open_slots=0))
        return list(read_while_free)

    monkeypatch.setattr(q, "candidate_items", stale_candidates)
    with store.unit_of_work() as s:
        alice = s.scalars(select(Person).where(Person.name == "alice")).one()
        got = dispatch.assign_next_task(s, alice, T0)
        assert got is not None
        assert got.item_id == second_id
    with store.unit_of_work() as s:
        slots = {i: n for i, n in s.execute(select(Item.id, Item.open_slots))}
        assert slots == {first_id: 0, second_id: 0}  # never -1: the first is not over-filled
