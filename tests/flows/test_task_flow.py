"""Transcript-style flows: contractors get tasks, answer, skip, and time out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hdops.store.orm import Answer, Assignment, Item
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project


async def test_alice_answers_and_gets_the_next_task(harness: Harness) -> None:
    with harness.store.unit_of_work() as s:
        project = make_project(s)
        add_items(s, project, 3)
        contractor(s, "alice")
    harness.chat.command("alice", "/hdops next")
    await harness.flush()
    tasks = harness.chat.open_tasks("alice")
    assert len(tasks) == 1
    first = tasks[0]
    assert "Helpfulness comparisons" in first.text and "prompt:" in first.text

    harness.clock.advance(timedelta(seconds=42))
    harness.chat.press("alice", first.id, "A is better")
    await harness.flush()

    assert "Recorded: A is better (42 s)" in harness.chat.messages[first.id].text
    assert harness.chat.messages[first.id].message.controls() == []
    following = harness.chat.open_tasks("alice")
    assert len(following) == 1 and following[0].id != first.id
    with harness.store.unit_of_work() as s:
        answer = s.scalars(select(Answer)).one()
        assert answer.answer == {"choice": "a"} and answer.seconds_spent == 42


async def test_double_click_and_redelivery_store_one_answer(harness: Harness) -> None:
    with harness.store.unit_of_work() as s:
        project = make_project(s)
        add_items(s, project, 3)
        contractor(s, "alice")
    harness.chat.command("alice", "next")
    await harness.flush()
    task = harness.chat.open_tasks("alice")[0]
    harness.chat.press("alice", task.id, "B is better", event_id="ev-1")
    harness.chat.press("alice", task.id, "B is better", event_id="ev-1")  # redelivered
    reply = harness.chat.press("alice", task.id, "A is better", event_id="ev-2")  # 2nd click
    assert reply.message is not None and "already recorded" in reply.message.plain()
    await harness.flush()
    with harness.store.unit_of_work() as s:
        assert s.scalar(select(func.count(Answer.id))) == 1
        assert s.scalars(select(Answer.answer)).one() == {"choice": "b"}


async def test_lease_expiry_returns_the_task_to_the_pool(harness: Harness) -> None:
    with harness.store.unit_of_work() as s:
        project = make_project(s, overlap=1)
        add_items(s, project, 1)
        contractor(s, "alice")
        contractor(s, "bob")
    harness.chat.command("alice", "next")
    await harness.flush()
    harness.chat.command("bob", "next")
    await harness.flush()
    assert harness.chat.open_tasks("bob") == []  # the only item is held by alice
    harness.chat.command("alice", "pause")

    harness.clock.advance(timedelta(minutes=21))
    result = harness.core.sweep()
    await harness.flush()
    assert result["expired"] == 1
    assert "went back to the pool" in harness.chat.inbox("alice")[0].text
    assert len(harness.chat.open_tasks("bob")) == 1  # pushed to bob, who is available


async def test_overlap_is_filled_and_never_exceeded(harness: Harness) -> None:
    with harness.store.unit_of_work() as s:
        project = make_project(s, overlap=2)
        add_items(s, project, 2)
        for name in ("a1", "a2", "a3"):
            contractor(s, name)
    for _ in range(3):
        for name in ("a1", "a2", "a3"):
            harness.chat.command(name, "next")
            await harness.flush()
            for task in harness.chat.open_tasks(name):
                harness.chat.press(name, task.id, "Tie")
            await harness.flush()
    with harness.store.unit_of_work() as s:
        counts = s.execute(select(Item.answer_count, Item.open_slots)).all()
        assert sorted(counts) == [(2, 0), (2, 0)]
        pairs = s.execute(select(Assignment.item_id, Assignment.person_id)).all()
        assert len(pairs) == len(set(pairs))


async def test_skip_asks_a_reason_and_never_reoffers(harness: Harness) -> None:
    with harness.store.unit_of_work() as s:
        project = make_project(s, overlap=1)
        add_items(s, project, 2)
        contractor(s, "alice")
    harness.chat.command("alice", "next")
    await harness.flush()
    task = harness.chat.open_tasks("alice")[0]
    reply = harness.chat.press("alice", task.id, "Skip")
    assert reply.form is not None and reply.form.fields[0].name == "reason"
    bad = harness.chat.submit("alice", {"reason": "bored"})
    assert bad.form_errors or (bad.message and "reason" in bad.message.plain().lower())
    harness.chat.submit("alice", {"reason": "unclear", "note": "ambiguous prompt"})
    await harness.flush()
    assert "Skipped (Unclear)" in harness.chat.messages[task.id].text
    with harness.store.unit_of_work() as s:
        skipped = s.scalars(select(Assignment).where(Assignment.status == "skipped")).one()
        assert skipped.skip_reason == "unclear"
        item_ids = s.scalars(select(Assignment.item_id)).all()
        assert len(item_ids) == len(set(item_ids)) == 2
