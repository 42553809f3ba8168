"""The answer hot path runs prepared statements on the driver cursor, beside the
ORM (hdops/store/prepared.py). These tests pin what that must not change: the
values stored and read back, the errors raised, what the ORM in the same
session sees, and one stored answer per click under concurrent delivery."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from hdops.intents import Intent
from hdops.services import answers, dispatch
from hdops.store import answers as qa
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.orm import Answer, Assignment, Item, OutboxMessage, Person, Project
from hdops.store.prepared import Prepared, Tx
from tests.helpers import T0, add_items, contractor, make_project


def _setup(store: Store, *, items: int = 5, available: bool = True) -> tuple[int, int]:
    """A project, items and one contractor holding one offered task: (person, assignment)."""
    with store.unit_of_work() as s:
        project = make_project(s)
        add_items(s, project, items)
        person = contractor(s, "alice")
        assert person.profile is not None
        person.profile.available = available
        assignment = dispatch.assign_next_task(s, person, T0)
        assert assignment is not None
        return person.id, assignment.id


def test_prepared_values_read_back_through_the_orm_unchanged(store: Store) -> None:
    person_id, assignment_id = _setup(store)
    now = T0 + timedelta(seconds=7, microseconds=123456)
    with store.unit_of_work() as s:
        a = s.get(Assignment, assignment_id)
        assert a is not None
        tx = Tx(s)
        answer_id = qa.insert_answer(
            tx,
            assignment_id=a.id,
            item_id=a.item_id,
            project_id=a.project_id,
            person_id=person_id,
            answer={"choice": "a", "rationale": "ünïcode ✓"},
            instruction_version_id=a.instruction_version_id,
            seconds_spent=7,
            answered_at=now,
            idempotency_key="k-1",
            gold_correct=False,
            pay_rate=Decimal("0.4"),
            currency="USD",
        )
    with store.unit_of_work() as s:
        row = s.get(Answer, answer_id)
        assert row is not None
        assert row.answered_at == now and row.answered_at.tzinfo is not None
        assert row.pay_rate == Decimal("0.4000")
        assert row.answer == {"choice": "a", "rationale": "ünïcode ✓"}
        assert row.rationale == "ünïcode ✓"
        assert row.gold_correct is False and row.status == "accepted"
        # ... and what the ORM wrote reads back the same through a prepared statement.
        ctx = qa.assignment_for_answer(Tx(s), assignment_id, "no-such-key")
        assert ctx is not None
        a = s.get(Assignment, assignment_id)
        assert a is not None
        assert ctx.offered_at == a.offered_at and ctx.offered_at.tzinfo is not None
        assert ctx.duplicate_of is None and ctx.person_id == person_id
        assert ctx.is_gold is False and ctx.gold is None
        assert ctx.skills == [] and ctx.profile_status == "active" and ctx.available is True


def test_a_duplicate_key_is_sqlalchemys_integrity_error(store: Store) -> None:
    person_id, assignment_id = _setup(store)
    with store.unit_of_work() as s:
        answers.submit_answer(
            s, s.get_one(Person, person_id), assignment_id, {"choice": "a"}, "k", T0
        )
    with pytest.raises(IntegrityError), store.unit_of_work() as s:
        a = s.get_one(Assignment, assignment_id)
        qa.insert_answer(
            Tx(s),
            assignment_id=a.id,
            item_id=a.item_id,
            project_id=a.project_id,
            person_id=person_id,
            answer={"choice": "a"},
            instruction_version_id=a.instruction_version_id,
            seconds_spent=1,
            answered_at=T0,
            idempotency_key="k",
            gold_correct=None,
            pay_rate=Decimal("0.4"),
            currency="USD",
        )


def test_an_insert_that_would_need_a_python_default_is_refused() -> None:
    from sqlalchemy.dialects import sqlite

    stmt = Prepared(insert(OutboxMessage), columns=["kind", "payload"])  # no status, attempts
    with pytest.raises(ValueError, match="must set every column"):
        stmt.plan(sqlite.dialect(paramstyle="named"))


def test_a_positional_dialect_is_refused_with_the_reason() -> None:
    from sqlalchemy.dialects import sqlite

    stmt = Prepared(select(OutboxMessage.id).where(OutboxMessage.id == 1))
    with pytest.raises(ValueError, match="named paramstyle"):
        stmt.plan(sqlite.dialect())


def test_prepared_statements_are_in_the_engine_log(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    person_id, assignment_id = _setup(store)
    with caplog.at_level("INFO", logger="sqlalchemy.engine.Engine"), store.unit_of_work() as s:
        person = s.get_one(Person, person_id)
        answers.submit_answer(s, person, assignment_id, {"choice": "b"}, "ev-log", T0)
    logged = [r.getMessage() for r in caplog.records if "[prepared]" in r.getMessage()]
    assert any("INSERT INTO answers" in m for m in logged)


def test_the_orm_in_the_same_session_sees_the_answer(store: Store) -> None:
    person_id, assignment_id = _setup(store)
    with store.unit_of_work() as s:
        person = s.get_one(Person, person_id)
        loaded = s.get_one(Assignment, assignment_id)
        assert loaded.status == "offered"
        result = answers.submit_answer(s, person, assignment_id, {"choice": "b"}, "ev", T0)
        assert result.status == "recorded" and result.next_assignment_id is not None
        assert loaded.status == "answered" and loaded.closed_at == T0
        nxt = s.get_one(Assignment, result.next_assignment_id)
        assert nxt.status == "offered" and nxt.person_id == person_id


def test_pending_orm_changes_are_seen_by_the_hot_path(store: Store) -> None:
    person_id, assignment_id = _setup(store, available=False)
    with store.unit_of_work() as s:
        person = s.get_one(Person, person_id)
        assert person.profile is not None
        person.profile.available = True  # not flushed yet
        result = answers.submit_answer(s, person, assignment_id, {"choice": "a"}, "ev", T0)
        assert result.next_assignment_id is not None  # available was seen: next task offered


def test_intents_read_back_as_the_same_dict(store: Store) -> None:
    person_id, assignment_id = _setup(store)
    with store.unit_of_work() as s:
        answers.submit_answer(
            s, s.get_one(Person, person_id), assignment_id, {"choice": "a"}, "e", T0
        )
    with store.unit_of_work() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.kind for r in rows] == ["edit", "send"]  # recorded, then the next task
        for row in rows:
            assert isinstance(row.payload, dict)
            assert Intent.model_validate(row.payload).model_dump(mode="json") == row.payload
        assert rows[1].payload["ref"].startswith("assignment:")
        # A dict payload (the other callers' way) reads back the same too.
        payload: dict[str, Any] = {"kind": "send", "nested": {"é": [1, None, True]}}
        new_id = outbox.enqueue(s, "send", payload, T0, dedupe_key="once")
        assert outbox.enqueue(s, "send", payload, T0, dedupe_key="once") is None
    with store.unit_of_work() as s:
        assert s.get_one(OutboxMessage, new_id).payload == payload


def test_a_changed_project_is_seen_by_the_next_answer(store: Store) -> None:
    """The per-process project snapshot is keyed by `updated_at`."""
    person_id, assignment_id = _setup(store)
    with store.unit_of_work() as s:
        project = s.scalars(select(Project)).one()
        project.title = "Renamed"
        project.updated_at = T0 + timedelta(days=1)
    with store.unit_of_work() as s:
        answers.submit_answer(
            s, s.get_one(Person, person_id), assignment_id, {"choice": "a"}, "e", T0
        )
    with store.unit_of_work() as s:
        sent = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "send")).one()
        assert sent.payload["message"]["text"].startswith("New task: Renamed")


def _deliver_twice(
    store: Store, db_url: str, keys: tuple[str, str], *, second_task: tuple[int, int] | None = None
) -> list[Any]:
    """Deliver two submissions at once (for one task, or the second for
    `second_task`): the first holds its transaction open for a moment after
    writing, while the second arrives."""
    person_id, assignment_id = _setup(store)
    second_person, second_assignment = second_task or (person_id, assignment_id)
    results: list[Any] = [None, None]
    written = threading.Event()

    def first() -> None:
        with store.unit_of_work() as s:
            person = s.get_one(Person, person_id)
            results[0] = answers.submit_answer(
                s, person, assignment_id, {"choice": "a"}, keys[0], T0
            )
            written.set()
            time.sleep(0.3)  # the second delivery is waiting on the lock meanwhile

    def second() -> None:
        written.wait(10)
        other = Store.from_url(db_url)  # another worker: its own engine and connection
        try:
            with other.unit_of_work() as s:
                person = s.get_one(Person, second_person)
                results[1] = answers.submit_answer(
                    s, person, second_assignment, {"choice": "b"}, keys[1], T0
                )
        finally:
            other.dispose()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_redelivery_stores_one_answer(store: Store, db_url: str) -> None:
    first, second = _deliver_twice(store, db_url, ("ev-1", "ev-1"))
    assert first.status == "recorded"
    assert second.status == "duplicate" and second.answer_id == first.answer_id
    with store.unit_of_work() as s:
        assert s.scalar(select(func.count(Answer.id))) == 1
        item = s.scalars(select(Item).where(Item.answer_count > 0)).one()
        assert item.answer_count == 1


def test_concurrent_double_click_stores_one_answer(store: Store, db_url: str) -> None:
    first, second = _deliver_twice(store, db_url, ("ev-1", "ev-2"))
    assert first.status == "recorded" and second.status == "already"
    with store.unit_of_work() as s:
        assert s.scalars(select(Answer.answer)).all() == [{"choice": "a"}]
        # one next task offered, not two
        assert s.scalar(select(func.count()).where(Assignment.status == "offered")) == 1


def test_a_key_reused_for_another_task_at_once_stores_nothing_twice(
    store: Store, db_url: str
) -> None:
    """Not a real delivery pattern (an event id names one task), but the one way
    past the row lock: the insert then hits the unique key. The second unit of
    work reports a duplicate and commits nothing; nobody sees an error."""
    with store.unit_of_work() as s:
        project = make_project(s, name="other", title="Other")
        add_items(s, project, 2, prefix="o")
        bob = contractor(s, "bob")
        bob_task = dispatch.assign_next_task(s, bob, T0)
        assert bob_task is not None
        bob_ids = (bob.id, bob_task.id)
    first, second = _deliver_twice(store, db_url, ("ev-1", "ev-1"), second_task=bob_ids)
    assert first.status == "recorded" and second.status == "duplicate"
    with store.unit_of_work() as s:
        assert s.scalar(select(func.count(Answer.id))) == 1
        bob_assignment = s.get_one(Assignment, bob_ids[1])
        assert bob_assignment.status == "offered"  # bob's answer left no trace
        rows = s.execute(select(Item.target, Item.answer_count, Item.open_slots)).all()
        offered = s.scalar(select(func.count()).where(Assignment.status == "offered"))
        assert sum(r.answer_count for r in rows) == 1
        assert sum(r.target - r.answer_count - r.open_slots for r in rows) == offered
