"""The report services on the real store (SQLite, and PostgreSQL with
HDOPS_TEST_DATABASE_URL): a small project built by hand, with every expected figure
worked out here from what was built, not read back from the code under test."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hdops import intents
from hdops.chat import Message
from hdops.config import Settings
from hdops.domain.reports import qualification_status
from hdops.services import dispatch, reports
from hdops.services.people import add_person
from hdops.services.projects import add_instruction_version, current_version
from hdops.services.scheduling import marker
from hdops.store.db import Store
from hdops.store.orm import (
    Assignment,
    Clarification,
    Item,
    OutboxMessage,
    Person,
    Project,
    Shift,
)
from hdops.store.prepared import as_tx
from tests.helpers import T0, add_items, contractor, make_project
from tests.payout_data import answer, check_in

RULE = {"min_gold_accuracy": 0.5, "min_gold_answered": 2}


@dataclass(frozen=True)
class Given:
    """Who did what, as built: the test's own record to check the figures against."""

    answers: dict[str, list[int]]  # accepted answers' seconds per person
    gold: dict[str, list[bool]]  # gold results per person
    questions: dict[str, int]
    skips: dict[str, int]


def _answer(
    s: Session,
    person: Person,
    item: Item,
    at: datetime,
    seconds: int,
    *,
    correct: bool | None = None,
    status: str = "accepted",
) -> None:
    row = answer(s, person, item, at, seconds=seconds, status=status)
    row.gold_correct = correct
    if status == "accepted":
        item.answer_count += 1
        item.open_slots = max(0, item.open_slots - 1)


def _assignment(s: Session, person: Person, item: Item, status: str) -> Assignment:
    live = status == "offered"
    a = Assignment(
        item_id=item.id,
        project_id=item.project_id,
        person_id=person.id,
        status=status,
        offered_at=T0,
        leased_until=T0 + timedelta(minutes=20),
        closed_at=None if live else T0,
        instruction_version_id=current_version(s, item.project_id).id,
    )
    s.add(a)
    s.flush()
    return a


def _question(
    s: Session,
    project: Project,
    person: Person,
    opened: datetime,
    first: datetime | None,
    *,
    status: str = "open",
    escalations: int = 0,
) -> None:
    s.add(
        Clarification(
            project_id=project.id,
            person_id=person.id,
            question="Which one?",
            status=status,
            opened_at=opened,
            first_answered_at=first,
            escalations=escalations,
        )
    )
    s.flush()


def _build(store: Store) -> Given:
    """Project "helpful-pairs" (overlap 2, gold rule 50% once 2 are answered):
    alice qualifies, bob is exactly at the bar, frank is under it, carol is still
    screening, dave never worked; erin is not a contractor but answered once."""
    with store.unit_of_work() as s:
        p = make_project(s, qualification=RULE, gold_share=0.2)
        items = add_items(s, p, 6)
        gold = add_items(s, p, 3, gold={"choice": "a"}, prefix="gold")
        alice, bob, carol, frank = (contractor(s, n) for n in ("alice", "bob", "carol", "frank"))
        dave = contractor(s, "dave")
        erin = add_person(s, "erin", identities=["console:erin"], roles=["researcher"])
        at = T0
        # Under instructions v1.
        _answer(s, alice, gold[0], at, 30, correct=True)
        _answer(s, alice, gold[1], at, 50, correct=True)
        _answer(s, alice, items[0], at, 70)
        _answer(s, bob, gold[0], at, 10, correct=True)
        _answer(s, bob, gold[1], at, 20, correct=False)
        _answer(s, bob, items[0], at, 40)  # items[0] now has its 2 answers
        _answer(s, bob, items[1], at, 99, status="rejected")  # not counted anywhere
        add_instruction_version(s, p, faq_add=("First question?", "First answer.", None), now=at)
        # Under v2.
        _answer(s, alice, items[1], at, 90)
        _answer(s, carol, gold[0], at, 45, correct=True)
        _answer(s, frank, gold[0], at, 15, correct=False)
        _answer(s, frank, gold[1], at, 25, correct=False)
        _answer(s, erin, items[2], at, 35)
        add_instruction_version(s, p, faq_add=("Second question?", "Second answer.", None), now=at)
        items[3].target = 3  # raised after disagreement
        _assignment(s, carol, items[4], "skipped")
        _assignment(s, carol, items[5], "skipped")
        _assignment(s, dave, items[4], "expired")
        _question(s, p, carol, T0, T0 + timedelta(minutes=4), status="resolved", escalations=1)
        _question(s, p, bob, T0 + timedelta(hours=1), T0 + timedelta(hours=1, seconds=90))
        _question(s, p, carol, T0 + timedelta(hours=2), None)

        # Another project's work must not show up in this one's figures.
        other = make_project(s, name="other-pairs", title="Other pairs")
        (elsewhere,) = add_items(s, other, 1)
        _answer(s, alice, elsewhere, at, 500)
    return Given(
        answers={
            "alice": [30, 50, 70, 90],
            "bob": [10, 20, 40],
            "carol": [45],
            "dave": [],
            "erin": [35],
            "frank": [15, 25],
        },
        gold={
            "alice": [True, True],
            "bob": [True, False],
            "carol": [True],
            "dave": [],
            "erin": [],
            "frank": [False, False],
        },
        questions={"bob": 1, "carol": 2},
        skips={"carol": 2},
    )


def test_project_figures_count_what_was_recorded(store: Store) -> None:
    given = _build(store)
    with store.unit_of_work() as s:
        f = reports.project_figures(s, "helpful-pairs")

    assert (f.name, f.title, f.overlap) == ("helpful-pairs", "Helpfulness comparisons", 2)
    assert f.qualification is not None and f.qualification.min_gold_answered == 2
    # Complete (2 accepted answers or more): it-0, gold-0 and gold-1; it-3 was raised.
    assert (f.items, f.gold_items, f.items_completed, f.items_raised) == (9, 3, 3, 1)
    total = sum(len(v) for v in given.answers.values())
    assert f.answers == total == 11
    assert (f.skips, f.expired) == (2, 1)

    # Everyone with the role, and erin who answered without it; most answers first.
    by_name = {c.name: c for c in f.contractors}
    assert set(by_name) == set(given.answers)
    order = sorted(given.answers, key=lambda n: (-len(given.answers[n]), n))
    assert [c.name for c in f.contractors] == order
    assert sum(c.answers for c in f.contractors) == f.answers
    for name, seconds in given.answers.items():
        c = by_name[name]
        golds = given.gold[name]
        assert c.answers == len(seconds), name
        assert c.median_seconds == (statistics.median(seconds) if seconds else None), name
        assert (c.gold_answered, c.gold_correct) == (len(golds), sum(golds)), name
        assert c.gold_accuracy == (sum(golds) / len(golds) if golds else None), name
        assert c.questions == given.questions.get(name, 0), name
        assert c.skips == given.skips.get(name, 0), name
    expected_status = {
        "alice": "qualified",
        "bob": "qualified",  # 1 of 2 is exactly the 50% bar
        "carol": "screening",
        "dave": "screening",
        "erin": "screening",
        "frank": "failed",
    }
    assert {c.name: c.status for c in f.contractors} == expected_status

    top = math.ceil(0.2 * len(given.answers))
    top_answers = sum(sorted((len(v) for v in given.answers.values()), reverse=True)[:top])
    assert (f.top_count, f.top_answers) == (top, top_answers) == (2, 7)
    assert f.top_share == top_answers / total
    all_gold = [g for v in given.gold.values() for g in v]
    assert (f.gold_answered, f.gold_correct) == (len(all_gold), sum(all_gold))

    c = f.clarifications
    assert (c.asked, c.answered, c.resolved, c.escalated) == (3, 2, 1, 1)
    assert c.first_answer_seconds == (240, 90)
    assert c.median_first_answer == 165 and c.longest_first_answer == 240

    i = f.instructions
    assert i.current_version == 3
    assert i.faq == ("First question?", "Second question?")
    assert i.answers_by_version == ((1, 6), (2, 5), (3, 0))


def test_the_report_status_is_what_dispatch_does(store: Store) -> None:
    """One qualification rule: the status column says what the dispatcher decides."""
    _build(store)
    words = {"ok": "qualified", "screening": "screening", "failed": "failed"}
    with store.unit_of_work() as s:
        f = reports.project_figures(s, "helpful-pairs")
        project = s.scalars(select(Project).where(Project.name == "helpful-pairs")).one()
        tx = as_tx(s)
        info = dispatch.project_info(tx, project.id)
        for c in f.contractors:
            person = s.scalars(select(Person).where(Person.name == c.name)).one()
            assert c.status == words[dispatch.qualification(tx, info, person.id).state], c.name


def test_no_qualification_rule_is_shown_as_a_dash(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s)
        (item,) = add_items(s, p, 1)
        _answer(s, contractor(s, "alice"), item, T0, 30)
    with store.unit_of_work() as s:
        f = reports.project_figures(s, "helpful-pairs")
    assert f.qualification is None
    assert [(c.name, c.status) for c in f.contractors] == [("alice", "-")]
    assert qualification_status(None, 0, 0) == "-"


def test_delivery_figures_count_the_outbox_by_status(store: Store) -> None:
    with store.unit_of_work() as s:
        alice = contractor(s, "alice")
        for n in range(6):
            intents.dm(s, alice.id, Message(text=f"note {n}"), T0)
        s.flush()
        rows = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        for row in rows[:3]:
            row.status = "sent"
        rows[3].status = "failed"
    with store.unit_of_work() as s:
        expected = Counter(s.scalars(select(OutboxMessage.status)))
        f = reports.delivery_figures(s)
    assert expected["sent"] >= 3 and expected["failed"] == 1
    assert (f.sent, f.pending, f.failed) == (
        expected["sent"],
        expected["pending"],
        expected["failed"],
    )


def test_open_work_until_everything_is_answered(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s, overlap=1)
        (item,) = add_items(s, p, 1)
        (gold,) = add_items(s, p, 1, gold={"choice": "a"}, prefix="gold")
        gold.answer_count = 1  # gold has all its answers, and more may still be asked
        alice = contractor(s, "alice")
        _question(s, p, alice, T0, None)
    with store.unit_of_work() as s:
        w = reports.open_work(s)
    assert (w.unfinished_items, w.open_questions, w.held_tasks, w.done) == (1, 1, 0, False)
    with store.unit_of_work() as s:
        s.get_one(Item, item.id).answer_count = 1
        s.scalars(select(Clarification)).one().status = "resolved"
        # Nothing left but a gold item someone still holds: not done until it is back.
        held = _assignment(s, s.get_one(Person, alice.id), s.get_one(Item, gold.id), "offered")
    with store.unit_of_work() as s:
        w = reports.open_work(s)
        assert (w.unfinished_items, w.open_questions, w.held_tasks, w.done) == (0, 0, 1, False)
        s.get_one(Assignment, held.id).status = "answered"
    with store.unit_of_work() as s:
        assert reports.open_work(s).done


# --------------------------------------------------------------------------- shifts

BERLIN = Settings(ops_tz="Europe/Berlin")  # UTC+1 in March: the week starts Sun 23:00 UTC
WEEK_START = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # Mon 2 Mar 00:00 in Berlin
WEEK_END = WEEK_START + timedelta(days=7)


def _shift(s: Session, person: Person, start: datetime, hours: int, status: str) -> Shift:
    shift = Shift(
        person_id=person.id,
        role="contractor",
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        tz="Europe/Berlin",
        status=status,
        created_at=start - timedelta(days=2),
    )
    s.add(shift)
    s.flush()
    return shift


def test_shift_week_figures_count_one_week_in_the_ops_timezone(store: Store) -> None:
    inside = WEEK_START + timedelta(minutes=30)  # Mon 00:30 Berlin, still Sun in UTC
    with store.unit_of_work() as s:
        alice = add_person(s, "alice", roles=["contractor"], display_name="Alice A")
        bob = add_person(s, "bob", roles=["contractor"], display_name="Bob B")
        shifts = [
            _shift(s, alice, inside, 4, "done"),
            _shift(s, bob, WEEK_START + timedelta(days=1, hours=9), 8, "no_show"),
            _shift(s, alice, WEEK_START + timedelta(days=2, hours=9), 8, "scheduled"),
            _shift(s, bob, WEEK_START + timedelta(days=3, hours=9), 8, "cancelled"),
            _shift(s, alice, WEEK_START - timedelta(minutes=30), 4, "done"),  # week before
            _shift(s, bob, WEEK_END, 4, "scheduled"),  # next week
        ]
        sent = [  # (shift, kind, written at)
            (shifts[0], "remind24h", WEEK_START - timedelta(hours=1)),  # before the week
            (shifts[1], "remind24h", inside),
            (shifts[2], "remind24h", WEEK_START + timedelta(days=1)),
            (shifts[1], "remind15", WEEK_START + timedelta(days=1, hours=8, minutes=45)),
            (shifts[1], "start", WEEK_START + timedelta(days=1, hours=9)),
            (shifts[0], "start", inside),
            (shifts[5], "remind15", WEEK_END + timedelta(minutes=1)),  # after the week
        ]
        for shift, kind, at in sent:
            key = marker(shift.id, 0, kind)
            intents.dm(s, shift.person_id, Message(text=kind), at, dedupe_key=key)
        intents.dm(s, alice.id, Message(text="other"), inside, dedupe_key="job:payouts:x")
        minutes = [90, 45]
        check_in(s, alice, inside, inside + timedelta(minutes=90, seconds=59), None)
        check_in(s, bob, inside + timedelta(days=1), inside + timedelta(days=1, minutes=45), None)
        check_in(s, alice, inside + timedelta(days=2), None, None)  # still open
        check_in(s, alice, WEEK_START - timedelta(hours=2), WEEK_START, None)  # week before
    with store.unit_of_work() as s:
        f = reports.shift_week_figures(s, BERLIN, "2026-W10", now=WEEK_START)

    in_week = [k for _, k, at in sent if WEEK_START <= at < WEEK_END]
    assert f.week == "2026-W10" and f.coverage.monday.isoformat() == "2026-03-02"
    assert f.shifts == 3  # not the cancelled one, nor the neighbouring weeks'
    assert (
        (f.reminders_day_before, f.reminders_15, f.started)
        == (
            in_week.count("remind24h"),
            in_week.count("remind15"),
            in_week.count("start"),
        )
        == (2, 1, 2)
    )
    assert f.no_shows == ("Bob B",)
    assert (f.check_ins, f.minutes_checked_in) == (3, sum(minutes))
