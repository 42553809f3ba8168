"""The review queue in chat (SPEC §6b): an answer given far faster than usual waits
for review; rejected there, its item goes to someone else and the contractor
reads why; `/hdops review PROJECT` lists the queue for researchers and ops."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hdops.services import review
from hdops.store.orm import Answer, Project
from tests.flows.conftest import Harness
from tests.helpers import T0, add_items, contractor, make_project, ops
from tests.payout_data import answer


def _typical_sixty_seconds(h: Harness) -> None:
    """A project (overlap 1) whose answers take 60 s; one item left to answer."""
    with h.store.unit_of_work() as s:
        p = make_project(s, overlap=1)
        others = [contractor(s, f"o{i}") for i in range(3)]
        for i, item in enumerate(add_items(s, p, 20, prefix="done")):
            answer(s, others[i % 3], item, T0 - timedelta(hours=1), seconds=60)
            item.answer_count, item.open_slots = 1, 0
        add_items(s, p, 1, prefix="open")
        contractor(s, "alice")
        contractor(s, "bob")
        ops(s, "olga")


async def test_rejected_in_review_is_requeued_and_the_contractor_sees_the_reason(
    harness: Harness,
) -> None:
    h = harness
    _typical_sixty_seconds(h)
    h.chat.command("alice", "next")
    await h.flush()
    (task,) = h.chat.open_tasks("alice")
    h.clock.advance(timedelta(seconds=10))  # a sixth of the usual time
    h.chat.press("alice", task.id, "A is better")
    await h.flush()
    assert "Recorded" in h.chat.messages[task.id].text  # flagging is not the contractor's news
    h.chat.command("bob", "next")
    await h.flush()
    assert h.chat.open_tasks("bob") == []  # the item is full while its answer waits

    listed = h.chat.command("olga", "review helpful-pairs").message
    assert listed is not None
    assert listed.text == "Review queue — Helpfulness comparisons: 1 flagged answer."
    table = next(p for p in listed.parts if p.kind == "table")
    assert table.rows[0][1:] == ["open-0", "alice", "A is better", "10", "far faster than usual"]

    with h.store.unit_of_work() as s:
        project = s.scalars(select(Project)).one()
        flagged = s.scalars(select(Answer).where(Answer.status == "flagged")).one()
        review.decide(
            s,
            project,
            review.Reviewer(None),
            accept=False,
            ids=[flagged.id],
            reason="Ten seconds is not enough to read both responses",
            now=h.clock.now(),
        )
    h.core.sweep()  # the periodic push offers the reopened item
    await h.flush()
    told = [m.text for m in h.chat.inbox("alice") if "rejected" in m.text]
    assert told == [
        "Your answer to item open-0 in Helpfulness comparisons was rejected: Ten seconds is "
        "not enough to read both responses. It will not be paid."
    ]
    (again,) = h.chat.open_tasks("bob")
    assert "open-0" in again.text  # back for another answer, from someone else
    assert h.chat.open_tasks("alice") == []  # never the same item twice


async def test_only_researchers_and_ops_see_the_queue(harness: Harness) -> None:
    h = harness
    _typical_sixty_seconds(h)
    reply = h.chat.command("alice", "review helpful-pairs").message
    assert reply is not None and "Only researcher or ops" in reply.text
    empty = h.chat.command("olga", "review helpful-pairs").message
    assert empty is not None and "no flagged answers" in empty.text
