"""The review queue and the quality pause on the real store (SQLite and PostgreSQL):
answers far faster than usual flagged on arrival, a contractor's answers flagged
once when they fall under the bar (ops told once), decisions in bulk, and what
flagged answers mean for aggregates and pay."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.domain import review as rules
from hdops.domain.projects import parse_project_spec
from hdops.domain.review import OWN_WINDOW, PROJECT_WINDOW
from hdops.domain.weeks import IsoWeek
from hdops.errors import InvalidInput, PermissionDenied
from hdops.intents import Intent
from hdops.services import answers, dispatch, payouts, quality_watch, reports, review
from hdops.services.projects import update_project
from hdops.store import review as review_q
from hdops.store.db import Store
from hdops.store.orm import Answer, AuditEntry, Item, OutboxMessage, Person, Project
from hdops.store.prepared import Tx
from tests.helpers import T0, add_items, contractor, make_project, ops, researcher, spec_dict
from tests.payout_data import answer

RULE = {"min_gold_accuracy": 0.8, "min_gold_answered": 5}
_batches = itertools.count()


def _intents(s: Session) -> list[Intent]:
    rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [Intent.model_validate(r.payload) for r in rows]


def _to_ops(s: Session) -> list[str]:
    return [i.message.text for i in _intents(s) if i.target.ops]


def _dms(s: Session, person_id: int) -> list[str]:
    return [i.message.text for i in _intents(s) if i.target.person == person_id]


def _seed_typical(s: Session, project: Project, person: Person, own: int = 5) -> None:
    """20 answers of 60 s by others and `own` of 60 s by `person`: both typical times 60 s."""
    others = [contractor(s, f"other{i}") for i in range(4)]
    items = add_items(s, project, 20 + own, prefix="seen")
    for i, item in enumerate(items[:20]):
        answer(s, others[i % 4], item, T0 - timedelta(hours=2, minutes=i), seconds=60)
    for i, item in enumerate(items[20:]):
        answer(s, person, item, T0 - timedelta(hours=1, minutes=i), seconds=60)


def _answer_after(s: Session, person: Person, seconds: int, now: datetime, key: str) -> Answer:
    assignment = dispatch.assign_next_task(s, person, now)
    assert assignment is not None
    result = answers.submit_answer(
        s, person, assignment.id, {"choice": "a"}, key, now + timedelta(seconds=seconds)
    )
    assert result.answer_id is not None
    return s.get_one(Answer, result.answer_id)


# --------------------------------------------------------------------------- fast answers


def test_an_answer_three_times_faster_than_typical_is_flagged(store: Store) -> None:
    """Must show (issue 14): 20 s where both the contractor and the project take 60 s."""
    with store.unit_of_work() as s:
        p = make_project(s, overlap=3)
        add_items(s, p, 5, prefix="new")
        alice = contractor(s, "alice")
        _seed_typical(s, p, alice)
        fast = _answer_after(s, alice, 20, T0, "k1")
        usual = _answer_after(s, alice, 21, T0 + timedelta(minutes=5), "k2")
        assert (fast.status, fast.flag_reasons, fast.flagged_at) == (
            "flagged",
            "fast",
            T0 + timedelta(seconds=20),
        )
        assert (usual.status, usual.flag_reasons) == ("accepted", None)  # 2.9× is not
        # The flagged answer fills its slot like any other until review decides.
        assert s.get_one(Item, fast.item_id).answer_count == 1
        queue = review.queue(s, p)
        assert [(r.id, r.reasons, r.seconds) for r in queue] == [(fast.id, "fast", 20)]


def test_gold_answers_are_never_flagged_as_fast(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s, overlap=3, gold_share=1.0)
        add_items(s, p, 3, gold={"choice": "a"}, prefix="gold")
        alice = contractor(s, "alice")
        _seed_typical(s, p, alice)
        gold = _answer_after(s, alice, 1, T0, "k1")
        assert gold.gold_correct is True and gold.status == "accepted"


def test_no_typical_time_yet_flags_nothing(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s, overlap=3)
        add_items(s, p, 3)
        alice = contractor(s, "alice")
        assert _answer_after(s, alice, 0, T0, "k1").status == "accepted"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    answers=st.lists(
        st.tuples(st.integers(0, 400), st.sampled_from(["accepted", "flagged", "rejected"])),
        max_size=230,
    ),
    seconds=st.integers(0, 150),
)
def test_the_store_counts_the_window_as_the_rule_reads_it(
    store: Store, answers: list[tuple[int, str]], seconds: int
) -> None:
    """The SQL count over the latest accepted answers is the domain's `window` over
    the same seconds (latest PROJECT_WINDOW accepted, flagged and rejected left out)."""
    with store.unit_of_work() as s:
        p = make_project(s, name=f"w{next(_batches)}", overlap=3)
        people = [contractor(s, f"p{p.id}-{i}") for i in range(3)]
        items = add_items(s, p, len(answers) // 3 + 1)
        for n, (spent, status) in enumerate(answers):
            at = T0 + timedelta(seconds=n)
            answer(s, people[n % 3], items[n // 3], at, seconds=spent, status=status)
        accepted = [spent for spent, status in reversed(answers) if status == "accepted"]
        mine = [
            spent
            for n, (spent, status) in reversed(list(enumerate(answers)))
            if status == "accepted" and n % 3 == 0
        ]
        tx = Tx(s)
        assert review_q.project_window(tx, p.id, seconds) == rules.window(
            accepted[:PROJECT_WINDOW], seconds
        )
        assert review_q.own_window(tx, p.id, people[0].id, seconds) == rules.window(
            mine[:OWN_WINDOW], seconds
        )


# --------------------------------------------------------------------------- the bar


def _gold_history(
    s: Session, project: Project, person: Person, outcomes: list[bool], start: datetime
) -> list[datetime]:
    """Gold answers with these outcomes (oldest first), one a minute from `start`."""
    items = add_items(s, project, len(outcomes), gold={"choice": "a"}, prefix=f"g{next(_batches)}")
    times = []
    for i, (item, ok) in enumerate(zip(items, outcomes, strict=True)):
        at = start + timedelta(minutes=i)
        row = answer(s, person, item, at)
        row.gold_correct = ok
        times.append(at)
    s.flush()
    return times


def _regular(s: Session, project: Project, person: Person, times: list[datetime]) -> list[int]:
    items = add_items(s, project, len(times), prefix=f"r{next(_batches)}")
    return [answer(s, person, item, at).id for item, at in zip(items, times, strict=True)]


def test_a_recent_lapse_flags_the_answers_it_covers_and_tells_ops_once(store: Store) -> None:
    """10 right, then 15 of 20 (83 % over all, 75 % lately, bar 80 %): the answers
    given since the first of the latest 20 gold answers wait for review; older
    ones do not. Falling is dealt with once; staying under is not news."""
    with store.unit_of_work() as s:
        p = make_project(s, qualification=RULE, gold_share=0.1)
        alice = contractor(s, "alice")
        _gold_history(s, p, alice, [True] * 10, T0)
        before = _regular(s, p, alice, [T0 + timedelta(minutes=m) for m in (11, 12)])
        # The lapse: 19 of its 20 gold answers (15 right so far, the 20th decides).
        lapse = ([True] * 3 + [False]) * 4 + [True] * 3
        times = _gold_history(s, p, alice, lapse, T0 + timedelta(hours=1))
        during = _regular(s, p, alice, [times[0], times[5] + timedelta(seconds=30)])
        info = dispatch.project_info(Tx(s), p.id)
        assert quality_watch.after_gold_answer(Tx(s), alice.id, info, True, T0) is None  # not yet
        _gold_history(s, p, alice, [False], T0 + timedelta(hours=2))
        blocked = quality_watch.after_gold_answer(
            Tx(s), alice.id, info, False, T0 + timedelta(hours=2)
        )
        assert blocked is not None
        assert (blocked.gold_answered, blocked.gold_correct, blocked.gold_recent) == (20, 15, True)
        status = {a.id: (a.status, a.flag_reasons) for a in s.scalars(select(Answer))}
        assert all(status[i] == ("accepted", None) for i in before)
        assert all(status[i] == ("flagged", "under_bar") for i in during)
        (told,) = _to_ops(s)
        assert "alice is under the bar in Helpfulness comparisons" in told
        assert "last 20 check items 75% (15 of 20 right; 80% needed)" in told
        assert "2 of their recent answers are flagged for review" in told
        # Another wrong gold answer: still under, nothing new.
        _gold_history(s, p, alice, [False], T0 + timedelta(hours=3))
        assert quality_watch.after_gold_answer(Tx(s), alice.id, info, False, T0) is None
        assert len(_to_ops(s)) == 1
        assert dispatch.qualification(Tx(s), info, alice.id).state == "failed"
        audits = s.scalars(select(AuditEntry).where(AuditEntry.action == "qualification.failed"))
        assert [a.details["recent"] for a in audits] == [True]


def test_failing_qualification_flags_every_answer_and_flagging_is_idempotent(
    store: Store,
) -> None:
    with store.unit_of_work() as s:
        p = make_project(s, qualification={"min_gold_accuracy": 0.8}, gold_share=0.1)
        alice = contractor(s, "alice")
        bob = contractor(s, "bob")
        mine = _regular(s, p, alice, [T0 + timedelta(minutes=m) for m in range(3)])
        theirs = _regular(s, p, bob, [T0 + timedelta(minutes=m) for m in range(1)])
        # One was already flagged as fast; one was accepted in review (never again).
        s.get_one(Answer, mine[0]).status = "flagged"
        s.get_one(Answer, mine[0]).flag_reasons = "fast"
        s.get_one(Answer, mine[1]).reviewed_at = T0
        _gold_history(s, p, alice, [False], T0 + timedelta(hours=1))
        info = dispatch.project_info(Tx(s), p.id)
        assert quality_watch.after_gold_answer(Tx(s), alice.id, info, False, T0) is not None
        got = {a.id: (a.status, a.flag_reasons) for a in s.scalars(select(Answer))}
        assert got[mine[0]] == ("flagged", "fast,failed")
        assert got[mine[1]] == ("accepted", None)
        assert got[mine[2]] == ("flagged", "failed")
        assert got[theirs[0]] == ("accepted", None)
        assert review_q.flag_answers(Tx(s), p.id, alice.id, "failed", T0) == 0  # again: nothing
        s.expire_all()
        assert s.get_one(Answer, mine[0]).flag_reasons == "fast,failed"
        assert "failed qualification" not in _to_ops(s)[0]  # ops read the figures instead
        assert "2 of their answers in the project are flagged" in _to_ops(s)[0]


def test_a_stricter_rule_deals_with_those_it_puts_under_the_bar_once(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s, qualification={"min_gold_accuracy": 0.5}, gold_share=0.1)
        alice = contractor(s, "alice")
        bob = contractor(s, "bob")
        _gold_history(s, p, alice, [True] * 7 + [False] * 3, T0)  # 70 %
        _gold_history(s, p, bob, [True] * 10, T0 + timedelta(hours=1))
        flagged = _regular(s, p, alice, [T0 + timedelta(hours=2)])
    stricter = parse_project_spec(
        spec_dict(qualification={"min_gold_accuracy": 0.8}, gold_share=0.1)
    )
    for _ in range(2):  # the second update changes no rule: nothing again
        with store.unit_of_work() as s:
            update_project(s, stricter, now=T0 + timedelta(hours=3))
    with store.unit_of_work() as s:
        assert s.get_one(Answer, flagged[0]).status == "flagged"
        assert len(_to_ops(s)) == 1 and _to_ops(s)[0].startswith("alice is under the bar")
        (dm,) = _dms(s, alice.id)
        assert "70% (7 of 10 right; 80% needed)" in dm and "only check items" in dm
        assert _dms(s, bob.id) == []


# --------------------------------------------------------------------------- decisions


def _flagged(s: Session, n: int) -> tuple[Project, Person, list[Answer]]:
    """A project (overlap 1) with n full items, each answered by alice and flagged."""
    p = make_project(s, overlap=1)
    alice = contractor(s, "alice")
    items = add_items(s, p, n)
    rows = []
    for i, item in enumerate(items):
        row = answer(s, alice, item, T0 + timedelta(minutes=i), seconds=3)
        row.status, row.flag_reasons = "flagged", "fast"
        item.answer_count, item.open_slots = 1, 0
        rows.append(row)
    s.flush()
    return p, alice, rows


def test_rejected_in_review_are_requeued_unpaid_and_the_contractor_is_told(store: Store) -> None:
    with store.unit_of_work() as s:
        p, alice, rows = _flagged(s, 3)
        rita = researcher(s, "rita")  # listed on the project (console:rita)
        decision = review.decide(
            s,
            p,
            review.Reviewer(rita),
            accept=False,
            ids=[rows[0].id, rows[1].id],
            reason="Answered before the responses could be read",
            now=T0 + timedelta(hours=1),
        )
        assert decision.ids == (rows[0].id, rows[1].id)
        s.expire_all()
        for row in rows[:2]:
            assert (row.status, row.rejected_by, row.reviewed_by) == ("rejected", rita.id, rita.id)
            item = s.get_one(Item, row.item_id)
            assert (item.answer_count, item.open_slots) == (0, 1)  # back for another answer
        assert rows[2].status == "flagged"
        (dm,) = _dms(s, alice.id)  # one message for both, naming the items
        assert dm == (
            "2 of your answers in Helpfulness comparisons were rejected: Answered before the "
            "responses could be read. They will not be paid. Items: it-0, it-1."
        )
        rejected = s.scalars(select(AuditEntry).where(AuditEntry.action == "answer.reject"))
        assert sorted(a.subject for a in rejected) == [
            f"answer:{rows[0].id}",
            f"answer:{rows[1].id}",
        ]


def test_accepted_in_review_leave_the_queue_for_good(store: Store) -> None:
    with store.unit_of_work() as s:
        p, alice, rows = _flagged(s, 2)
        decision = review.decide(
            s, p, review.Reviewer(None), accept=True, ids=None, reason=None, now=T0
        )
        assert decision == review.Decision("accepted", (rows[0].id, rows[1].id))
        s.expire_all()
        assert [r.status for r in rows] == ["accepted", "accepted"]
        assert all(r.reviewed_at == T0 and r.reviewed_by is None for r in rows)
        assert review.queue(s, p) == []
        assert _dms(s, alice.id) == []  # nothing changes for them
        assert review_q.flag_answers(Tx(s), p.id, alice.id, "failed", T0) == 0
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.accept"))
        assert entry.details["via"] == "cli" and entry.details["answers"] == [r.id for r in rows]


def test_a_decision_is_all_or_nothing(store: Store) -> None:
    with store.unit_of_work() as s:
        p, alice, rows = _flagged(s, 2)
        other = make_project(s, name="other")
        (elsewhere,) = _regular(s, other, alice, [T0])
        s.get_one(Answer, rows[1].id).status = "accepted"
        with pytest.raises(InvalidInput) as caught:
            review.decide(
                s,
                p,
                review.Reviewer(None),
                accept=True,
                ids=[rows[0].id, rows[1].id, elsewhere],
                reason=None,
                now=T0,
            )
        assert caught.value.problems == [
            f"{rows[1].id}: not flagged for review (it is accepted)",
            f"{elsewhere}: no answer {elsewhere} in helpful-pairs",
        ]
        assert s.get_one(Answer, rows[0].id).status == "flagged"
        with pytest.raises(InvalidInput, match="Give a reason"):
            review.decide(s, p, review.Reviewer(None), accept=False, ids=None, reason=" ", now=T0)


def test_only_ops_and_the_projects_researchers_review(store: Store) -> None:
    with store.unit_of_work() as s:
        p, alice, _ = _flagged(s, 1)
        ops(s, "olga")
        other = researcher(s, "rex")  # not listed on the project
        for person in (alice, other):
            with pytest.raises(PermissionDenied):
                review.open_queue(s, p.name, review.Reviewer(person))
        olga = s.scalars(select(Person).where(Person.name == "olga")).one()
        assert review.open_queue(s, p.name, review.Reviewer(olga)) is p


# --------------------------------------------------------------------------- pay


def test_a_flagged_answer_is_paid_in_the_draft_until_review_rejects_it(store: Store) -> None:
    cfg = Settings(ops_tz="UTC")
    week = IsoWeek(2026, 10)
    later = T0 + timedelta(days=8)
    with store.unit_of_work() as s:
        p, alice, rows = _flagged(s, 2)
        item = add_items(s, p, 1, prefix="ok")[0]
        answer(s, alice, item, T0)  # one accepted, two flagged: all three paid
    with store.unit_of_work() as s:
        payouts.draft_week(s, week, later, cfg)
        (statement,) = payouts.week_view(s, week, later, cfg).statements
        assert (statement.tasks, statement.total) == (3, Decimal("1.20"))
    with store.unit_of_work() as s:
        project = s.scalars(select(Project)).one()
        review.decide(
            s,
            project,
            review.Reviewer(None),
            accept=False,
            ids=[rows[0].id],
            reason="Too fast",
            now=later,
        )
        payouts.draft_week(s, week, later, cfg)
        (statement,) = payouts.week_view(s, week, later, cfg).statements
        assert (statement.tasks, statement.total) == (2, Decimal("0.80"))


def test_reports_say_what_dispatch_does_about_a_recent_lapse(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s, qualification=RULE, gold_share=0.1)
        alice = contractor(s, "alice")
        bob = contractor(s, "bob")
        _gold_history(s, p, alice, [True] * 10 + ([True] * 3 + [False]) * 5, T0)  # 83 %, 75 %
        _gold_history(s, p, bob, [False] + [True] * 29, T0)  # 97 %, 100 %
        figures = {c.name: c.status for c in reports.project_figures(s, p.name).contractors}
        info = dispatch.project_info(Tx(s), p.id)
        states = {
            person.name: dispatch.qualification(Tx(s), info, person.id).state
            for person in (alice, bob)
        }
    assert figures == {"alice": "failed", "bob": "qualified"}
    assert states == {"alice": "failed", "bob": "ok"}
