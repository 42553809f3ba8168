"""Nobody is cut off without a word: when there is no task for a contractor,
`/hdops next` and the pushes say why, per project (SPEC §5)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hdops.store.orm import ContractorProfile, Item, Person, Project
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project
from tests.payout_data import answer

NOTHING = "No task for you right now"


def _answered(s: Session, person: Person, item: Item, at: datetime) -> None:
    """An answer already given (stored directly, with the item's counts kept right)."""
    answer(s, person, item, at)
    item.answer_count += 1
    item.open_slots -= 1


def _said(h: Harness, user: str) -> str:
    text = h.chat.last_notice(user)
    assert text is not None
    return text


def _told(h: Harness, user: str) -> list[str]:
    """The no-task messages pushed to `user`'s DMs."""
    return [m.text for m in h.chat.inbox(user) if NOTHING in m.text]


async def test_screening_that_ends_under_the_bar_on_a_right_answer_is_explained(
    harness: Harness,
) -> None:
    """The issue's case: the last gold answer is right, but 3 of 5 is under 80 %."""
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(
            s, qualification={"min_gold_accuracy": 0.8, "min_gold_answered": 5}, gold_share=0.2
        )
        add_items(s, p, 10)
        add_items(s, p, 6, gold={"choice": "a"}, prefix="gold")
        contractor(s, "alice")
    h.chat.command("alice", "next")
    for choice in ("B is better", "B is better", "A is better", "A is better", "A is better"):
        await h.flush()
        task = h.chat.open_tasks("alice")[-1]
        assert "gold-" in task.text
        h.chat.press("alice", task.id, choice)
    await h.flush()

    why = "Helpfulness comparisons: your accuracy on check items is 60% (3 of 5 right; 80% needed)"
    (last_gold,) = h.chat.open_tasks("alice")  # under the bar: only check items now
    assert "gold-5" in last_gold.text
    told = [m.text for m in h.chat.inbox("alice") if why in m.text]
    assert len(told) == 1 and "only check items" in told[0]  # told at once, once
    assert _told(h, "alice") == []  # she has work: no "no task" message
    h.chat.press("alice", last_gold.id, "B is better")  # 3 of 6: still under, none left
    await h.flush()
    assert h.chat.open_tasks("alice") == []
    now_why = "your accuracy on check items is 50% (3 of 6 right; 80% needed)"
    assert [now_why in text for text in _told(h, "alice")] == [True]
    assert "You'll get a task" not in _told(h, "alice")[0]  # not by itself: ops must act
    h.chat.command("alice", "next")
    assert now_why in _said(h, "alice")


async def test_next_names_every_projects_reason(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        add_items(s, make_project(s, name="coding", title="Code review", skills=["coding"]), 3)
        paused = make_project(s, name="paused", title="Paused pairs", priority=-1)
        add_items(s, paused, 3)
        paused.status = "paused"
        done = make_project(s, name="done", title="Done pairs", overlap=1, priority=3)
        held = make_project(s, name="held", title="Held pairs", overlap=1, priority=2)
        capped = make_project(s, name="capped", title="Capped pairs", max_share=0.25, priority=1)
        alice = contractor(s, "alice")
        bob = contractor(s, "bob")
        (first,) = add_items(s, done, 1)
        _answered(s, alice, first, h.clock.now())  # alice did the only item of "done"
        add_items(s, held, 1)  # bob will hold the only item of "held"
        for i, item in enumerate(add_items(s, capped, 20, prefix="cap")):
            _answered(s, alice if i < 5 else bob, item, h.clock.now())  # alice: 5 of 20
    h.chat.command("bob", "next")
    await h.flush()
    assert "Held pairs" in h.chat.open_tasks("bob")[0].text

    h.chat.command("alice", "next")
    said = _said(h, "alice")
    assert NOTHING in said.splitlines()[0]
    lines = [line for line in said.splitlines() if line.startswith("• ")]
    assert lines == [
        "• Done pairs: no items left that you have not done.",
        "• Held pairs: the items it has left are with other contractors right now; any that "
        "come back will be offered.",
        "• Capped pairs: you have given the most of its answers one person may (25%); more "
        "once others catch up.",
        "• Code review: needs the skill coding, which is not on your profile (ops can add it).",
        "• Paused pairs: paused by ops for now.",
    ]
    await h.flush()
    assert _told(h, "alice") == []  # the reply said it; no DM on top


async def test_no_projects_and_an_inactive_profile_are_said_too(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        contractor(s, "alice")
    h.chat.command("alice", "next")
    assert _said(h, "alice").startswith("There are no projects with work right now.")
    h.chat.command("alice", "pause")
    h.chat.command("alice", "resume")
    assert _said(h, "alice").startswith("Resumed. There are no projects with work right now.")
    with h.store.unit_of_work() as s:
        add_items(s, make_project(s), 2)
        profile = s.scalars(select(ContractorProfile)).one()
        profile.status = "inactive"
    h.chat.command("alice", "next")
    assert "Your hdops work has ended (deactivated by ops)" in _said(h, "alice")
    await h.flush()
    assert h.chat.open_tasks("alice") == []


async def test_pushes_say_why_once_per_change_of_reasons(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        add_items(s, make_project(s, overlap=1), 1)
        contractor(s, "alice")
    h.chat.command("alice", "next")
    await h.flush()
    h.chat.press("alice", h.chat.open_tasks("alice")[0].id, "Tie")  # the last item
    await h.flush()
    assert len(_told(h, "alice")) == 1 and "no items left" in _told(h, "alice")[0]

    for _ in range(3):  # the periodic push finds the same reasons: silence
        h.clock.advance(timedelta(minutes=1))
        h.core.sweep()
        await h.flush()
    assert len(_told(h, "alice")) == 1

    with h.store.unit_of_work() as s:  # a new project she cannot work on
        add_items(s, make_project(s, name="medical", title="Triage", skills=["medical"]), 2)
    h.core.sweep()
    await h.flush()
    assert len(_told(h, "alice")) == 2 and "Triage: needs the skill medical" in _told(h, "alice")[1]
    h.core.sweep()
    await h.flush()
    assert len(_told(h, "alice")) == 2

    h.chat.command("alice", "next")  # asking always gets the answer...
    assert "Triage: needs the skill medical" in _said(h, "alice")
    with h.store.unit_of_work() as s:  # ...and ops pausing the project is news
        s.scalars(select(Project).where(Project.name == "medical")).one().status = "paused"
    h.core.sweep()
    await h.flush()
    assert len(_told(h, "alice")) == 3 and "Triage" not in _told(h, "alice")[2]
    with h.store.unit_of_work() as s:
        alice = s.scalars(select(Person).where(Person.name == "alice")).one()
        assert alice.profile is not None and alice.profile.no_task_told is not None


async def test_a_paused_contractor_who_finishes_her_task_hears_why_nothing_follows(
    harness: Harness,
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        add_items(s, make_project(s, overlap=1), 4)
        contractor(s, "alice")
    for _ in range(2):
        h.chat.command("alice", "next")
        await h.flush()
        h.chat.command("alice", "pause")  # (or her shift ended)
        h.chat.press("alice", h.chat.open_tasks("alice")[0].id, "Tie")
        await h.flush()
        assert h.chat.open_tasks("alice") == []
    told = [m.text for m in h.chat.inbox("alice") if "not taking tasks" in m.text]
    assert told == [
        "No new task comes now: you are not taking tasks (you paused, or your shift ended). "
        "/hdops next gets you one, /hdops resume turns them back on."
    ]  # once, not after every such answer
    h.chat.command("alice", "next")
    await h.flush()
    assert len(h.chat.open_tasks("alice")) == 1


async def test_a_bar_without_screening_holds_nothing_against_a_newcomer(harness: Harness) -> None:
    """min_gold_accuracy alone: no gold answered yet is not 0 % accuracy. The first
    wrong check item then puts alice under the bar, and she is told so."""
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(s, qualification={"min_gold_accuracy": 0.8}, gold_share=0.5)
        add_items(s, p, 4)
        add_items(s, p, 4, gold={"choice": "a"}, prefix="gold")
        contractor(s, "alice")
    h.chat.command("alice", "next")
    await h.flush()
    task = h.chat.open_tasks("alice")[0]
    assert "gold-" in task.text  # (half her stream is check items: the first is one)
    h.chat.press("alice", task.id, "B is better")
    await h.flush()
    (gold,) = h.chat.open_tasks("alice")  # under the bar: check items only
    assert "gold-" in gold.text
    told = [m.text for m in h.chat.inbox("alice") if "accuracy on check items" in m.text]
    assert len(told) == 1 and "0% (0 of 1 right; 80% needed)" in told[0]
