"""The periodic push offers work to idle contractors only, and never waits on one
who is busy with a task."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from hdops.config import Settings
from hdops.services import answers, dispatch
from hdops.services import sweep as periodic
from hdops.store.db import Store
from hdops.store.dispatch import available_by_fewest_answers
from hdops.store.orm import Assignment, Person
from tests.helpers import T0, add_items, contractor, make_project


def _people(store: Store) -> dict[str, int]:
    with store.unit_of_work() as s:
        add_items(s, make_project(s, overlap=1), 10)
        ids = {}
        for name in ("ann", "bob", "cat", "dan"):
            person = contractor(s, name)
            assert person.profile is not None
            person.profile.available = True  # on shift: the push serves them
            ids[name] = person.id
        return ids


def test_the_push_looks_only_at_idle_contractors_fewest_answers_first(store: Store) -> None:
    ids = _people(store)
    now = T0 + timedelta(minutes=1)
    with store.unit_of_work() as s:
        bob = s.get(Person, ids["bob"])
        dan = s.get(Person, ids["dan"])
        assert bob is not None and dan is not None
        for _ in range(2):  # dan answers twice this week: last in line
            task = dispatch.assign_next_task(s, dan, now)
            assert task is not None
            answers.submit_answer(s, dan, task.id, {"choice": "a"}, f"k{task.id}", now)
        assert dispatch.assign_next_task(s, bob, now) is not None  # bob holds a task
        s.execute(
            text(  # dan's lease ran out: idle again
                "UPDATE assignments SET status = 'expired' "
                "WHERE person_id = :p AND status = 'offered'"
            ),
            {"p": ids["dan"]},
        )
    with store.unit_of_work() as s:
        order = [p.name for p in available_by_fewest_answers(s, T0)]
        assert order == ["ann", "cat", "dan"]
        assert all(p.profile is not None for p in available_by_fewest_answers(s, T0))
    with store.unit_of_work() as s:
        done = periodic.sweep(s, Settings(), now)
    with store.read() as s:
        open_tasks = s.scalars(
            select(Assignment.person_id).where(Assignment.status == "offered")
        ).all()
    # ann and cat are offered a task, bob keeps his one; dan, ahead on answers, may
    # be held back by the even spread (the project's rule, not the push's).
    assert {ids["ann"], ids["bob"], ids["cat"]} <= set(open_tasks)
    assert sorted(open_tasks).count(ids["bob"]) == 1
    assert done["pushed"] == len(open_tasks) - 1


@pytest.mark.postgres_only
def test_a_sweep_does_not_wait_for_a_contractor_busy_with_a_task(db_url: str) -> None:
    """A click holds its contractor's row lock until it commits. The sweep, which
    runs every 30 s on the leader, must not queue behind it (nor hold up the click):
    with a 2 s lock timeout a sweep that locked every contractor fails here."""
    store = Store.from_url(db_url, busy_timeout=2)
    ids = _people(store)
    with store.unit_of_work() as s:
        bob = s.get(Person, ids["bob"])
        assert bob is not None and dispatch.assign_next_task(s, bob, T0) is not None
    release = threading.Event()
    locked = threading.Event()

    def click_in_flight() -> None:
        with store.unit_of_work() as s:
            s.execute(
                text("SELECT 1 FROM contractor_profiles WHERE person_id = :p FOR UPDATE"),
                {"p": ids["bob"]},
            )
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=click_in_flight)
    holder.start()
    try:
        assert locked.wait(10)
        with store.unit_of_work() as s:
            done = periodic.sweep(s, Settings(), T0 + timedelta(minutes=1))
        assert done["pushed"] == 3  # ann, cat and dan; bob keeps his task
    finally:
        release.set()
        holder.join(10)
        store.dispose()
