"""`/hdops me` (SPEC §6b, issue 14 point 9): a contractor's own answers this week
and in all per project, gold record and standing, skips, questions and this
week's earnings so far — and nobody else's figures or names."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hdops.store.orm import (
    Answer,
    Assignment,
    Clarification,
    Item,
    PayoutStatement,
    Person,
    Project,
)
from tests.flows.conftest import Harness
from tests.helpers import T0, add_items, contractor, make_project, researcher
from tests.payout_data import answer, check_in

LAST_WEEK = T0 - timedelta(days=7)  # T0 is Monday 2026-03-02 09:00 UTC (2026-W10)


def _answer(
    s: Session,
    who: Person,
    item: Item,
    at: datetime,
    *,
    correct: bool | None = None,
    status: str = "accepted",
) -> None:
    answer(s, who, item, at, status=status).gold_correct = correct


def _skip(s: Session, who: Person, item: Item, at: datetime) -> None:
    version = s.scalar(select(Assignment.instruction_version_id).limit(1))
    s.add(
        Assignment(
            item_id=item.id,
            project_id=item.project_id,
            person_id=who.id,
            status="skipped",
            offered_at=at,
            leased_until=at,
            closed_at=at,
            instruction_version_id=version,
            skip_reason="unclear",
        )
    )


def _ask(s: Session, who: Person, project: Project, at: datetime) -> None:
    s.add(Clarification(project_id=project.id, person_id=who.id, question="?", opened_at=at))


def _build(h: Harness) -> None:
    """alice in helpful-pairs: 2 answers last week; this week 3 answers, 1 rejected,
    2 gold (the first right, the second wrong: 1 of 2 under the 80% bar), 1 skip and
    1 question (and 1 of each last week), 1 h 30 min checked in at 12.00/h.
    bob ("Bob Zebra"): 17 answers here and 4 in a project alice never saw."""
    with h.store.unit_of_work() as s:
        p = make_project(
            s, qualification={"min_gold_accuracy": 0.8, "min_gold_answered": 2}, gold_share=0.2
        )
        items = add_items(s, p, 20)
        gold = add_items(s, p, 2, gold={"choice": "a"}, prefix="gold")
        secret = make_project(s, name="secret-pairs", title="Secret ratings")
        hidden = add_items(s, secret, 4, prefix="sec")
        alice = contractor(s, "alice", display_name="Alice Moreau", hourly_rate="12.00")
        bob = contractor(s, "bob", display_name="Bob Zebra", hourly_rate="30.00")
        researcher(s, "rita")
        for i in range(2):
            _answer(s, alice, items[i], LAST_WEEK + timedelta(minutes=i))
        for i in range(2, 5):
            _answer(s, alice, items[i], T0 + timedelta(minutes=i))
        _answer(s, alice, items[5], T0, status="rejected")
        _answer(s, alice, gold[0], T0 + timedelta(minutes=10), correct=True)
        _answer(s, alice, gold[1], T0 + timedelta(minutes=11), correct=False)
        _skip(s, alice, items[6], T0 + timedelta(minutes=20))
        _skip(s, alice, items[7], LAST_WEEK)
        _ask(s, alice, p, T0 + timedelta(minutes=30))
        _ask(s, alice, p, LAST_WEEK)
        check_in(s, alice, T0, T0 + timedelta(minutes=90), "12.00")
        for i in range(17):
            _answer(s, bob, items[i], T0 + timedelta(minutes=40 + i))
        bobs_b = s.scalars(select(Answer).where(Answer.person_id == bob.id)).all()[2]
        bobs_b.answer = {"choice": "b"}  # the one item where alice and bob differ
        for item in hidden:
            _answer(s, bob, item, T0 + timedelta(minutes=60))
        _ask(s, bob, secret, T0)
        check_in(s, bob, T0, T0 + timedelta(hours=3), "30.00")


def _reply(h: Harness, who: str) -> str:
    h.chat.command(who, "/hdops me")
    text = h.chat.last_notice(who)
    assert text is not None
    return " ".join(text.split())  # table columns are padded


async def test_a_contractor_sees_their_own_figures(harness: Harness) -> None:
    h = harness
    _build(h)
    h.clock.set(T0 + timedelta(days=1))
    mine = _reply(h, "alice")
    assert "Your work — Alice Moreau" in mine
    # Project | Answers 2026-W10 | All time | Gold | Agreement | Skips | Questions
    # (agreement: with bob on 4 of the 5 items they share)
    assert "Helpfulness comparisons 5 7 (1 rejected) 1/2 (50%) failed 80% 1 / 2 1 / 2" in mine, mine
    # 5 accepted this week × 0.40 + 1.5 h × 12.00 = 2.00 + 18.00
    assert "Earned in 2026-W10 so far: 20.00 USD (5 tasks, 1 h 30 min checked in)" in mine
    with h.store.unit_of_work() as s:
        assert s.scalar(select(func.count(PayoutStatement.id))) == 0  # read only: no draft


async def test_nobody_elses_numbers_or_names_show(harness: Harness) -> None:
    h = harness
    _build(h)
    h.clock.set(T0 + timedelta(days=1))
    mine = _reply(h, "alice")
    for theirs in ("Bob", "Zebra", "Secret ratings", "17", "21", "30.00", "96.80"):
        assert theirs not in mine, theirs
    bobs = _reply(h, "bob")
    # bob: 17 + 4 answers this week; 21 × 0.40 + 3 h × 30.00 = 8.40 + 90.00
    assert "Helpfulness comparisons 17 17 none yet (screening) 80% 0 / 0 0 / 0" in bobs, bobs
    assert "Secret ratings 4 4 - - 0 / 0 1 / 1" in bobs, bobs  # nobody to agree with
    assert "98.40 USD (21 tasks, 3 h 00 min checked in)" in bobs, bobs
    for hers in ("Alice", "Moreau", "20.00", "failed"):
        assert hers not in bobs, hers


async def test_me_is_for_contractors(harness: Harness) -> None:
    h = harness
    _build(h)
    h.chat.command("rita", "/hdops me")
    said = h.chat.last_notice("rita")
    assert said is not None and "Only contractor can use /hdops me" in said


async def test_a_new_contractor_is_told_how_to_start(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        contractor(s, "newbie", display_name="New Person")
    text = _reply(h, "newbie")
    assert "No tasks yet" in text and "Earned in 2026-W10 so far: nothing yet" in text
