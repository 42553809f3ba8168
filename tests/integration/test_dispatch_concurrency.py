"""Two (or more) dispatchers at once never over-fill an item or double-assign.

On PostgreSQL the dispatchers are separate processes, each with its own engine;
on SQLite they are threads in one process (one writer process per SQLite file).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections import Counter

from sqlalchemy import func, select

from hdops.store.db import Store
from hdops.store.orm import Assignment, Item, Person
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


def test_concurrent_dispatch_never_overfills(store: Store, db_url: str) -> None:
    names = [f"c{w}_{i}" for w in range(WORKERS) for i in range(CONTRACTORS_PER_WORKER)]
    with store.unit_of_work() as s:
        project = make_project(s, overlap=3)
        add_items(s, project, 25)  # 75 slots for 24 contractors x 6 rounds: scarce
        for name in names:
            p = contractor(s, name)
            assert p.profile is not None
            p.profile.available = False  # drive them by hand, no auto-next
    groups = [names[w::WORKERS] for w in range(WORKERS)]
    if ON_POSTGRES:
        ctx = mp.get_context("spawn")
        procs = [ctx.Process(target=_work, args=(db_url, g, ROUNDS)) for g in groups]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
            assert p.exitcode == 0
    else:
        errors: list[BaseException] = []

        def run(group: list[str]) -> None:
            try:
                _work(db_url, group, ROUNDS)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(g,)) for g in groups]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors

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
