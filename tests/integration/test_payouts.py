"""The payout ledger on the real store (SQLite and PostgreSQL): exact totals,
rate snapshots, ops-timezone weeks, and approved weeks that nothing can change."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from hdops.config import Settings
from hdops.domain.weeks import IsoWeek
from hdops.errors import Conflict
from hdops.services import disputes, payouts
from hdops.services.people import get_person
from hdops.store.db import Store
from hdops.store.orm import (
    Adjustment,
    ApprovedPayoutChange,
    PayoutLine,
    PayoutStatement,
    PayoutWeek,
    Project,
    RateChange,
)
from tests.helpers import add_items, contractor, make_project, ops
from tests.payout_data import answer, check_in

W10 = IsoWeek(2026, 10)
MON = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
AFTER = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
UTC_SETTINGS = Settings(ops_tz="UTC")


def _cli() -> payouts.Actor:
    return payouts.Actor(None, "cli")


# --------------------------------------------------------------------------- exact totals

money = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99.9999"), places=4)
adjust = st.decimals(min_value=Decimal("-500"), max_value=Decimal("500"), places=2).filter(
    lambda d: d != 0
)
_weeks = itertools.count(1)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    answers=st.lists(
        st.tuples(st.integers(0, 2), money, st.sampled_from(["USD", "EUR"]), st.booleans()),
        min_size=1,
        max_size=25,
    ),
    hours=st.lists(st.tuples(st.integers(1, 36_000), money), max_size=4),
    adjustments=st.lists(adjust, max_size=4),
)
def test_totals_equal_sum_of_lines_to_the_cent(
    store: Store,
    answers: list[tuple[int, Decimal, str, bool]],
    hours: list[tuple[int, Decimal]],
    adjustments: list[Decimal],
) -> None:
    """Over generated answers (rates with 4 places, two currencies, some rejected),
    check-ins at generated hourly rates and adjustments: every line is rounded
    half-up to the cent from the quantity and rate it shows, every total is the exact sum of its
    lines, currencies are never mixed, and nothing is a float."""
    n = next(_weeks)
    week = IsoWeek(2030, 1).shift(n)
    start = week.start("UTC")
    with store.unit_of_work() as s:
        project = s.scalar(select(Project)) or make_project(s)
        items = add_items(s, project, len(answers), prefix=f"w{n}")
        person = contractor(s, f"p{n}")
        expected: dict[str, Decimal] = {}
        for i, (offset, rate, currency, rejected) in enumerate(answers):
            answer(
                s,
                person,
                items[i],
                start + timedelta(hours=offset * 24 + i),
                rate=rate,
                currency=currency,
                status="rejected" if rejected else "accepted",
                reason="no" if rejected else None,
            )
        for j, (seconds, rate) in enumerate(hours):
            at = start + timedelta(days=3, hours=j * 11)
            check_in(s, person, at, at + timedelta(seconds=seconds), rate, "USD")
        for amount in adjustments:
            payouts.add_adjustment(
                s, _cli(), person.name, amount, "bonus", week, start, UTC_SETTINGS, currency="EUR"
            )
        # the expected totals, computed independently: group, multiply, round once
        groups: dict[tuple[str, Decimal], int] = {}
        for _, rate, currency, rejected in answers:
            expected.setdefault(currency, Decimal(0))  # rejected only: a statement of 0.00
            if not rejected:
                groups[(currency, rate)] = groups.get((currency, rate), 0) + 1
        for (currency, rate), count in groups.items():
            expected[currency] = expected.get(currency, Decimal(0)) + (rate * count).quantize(
                Decimal("0.01"), rounding="ROUND_HALF_UP"
            )
        by_rate: dict[Decimal, int] = {}
        for seconds, rate in hours:
            by_rate[rate] = by_rate.get(rate, 0) + seconds
        for rate, seconds in by_rate.items():
            # paid in hundredths of an hour, as the line shows them
            shown = (seconds / Decimal(3600)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
            expected["USD"] = expected.get("USD", Decimal(0)) + (rate * shown).quantize(
                Decimal("0.01"), rounding="ROUND_HALF_UP"
            )
        for amount in adjustments:
            expected["EUR"] = expected.get("EUR", Decimal(0)) + amount
        payouts.draft_week(s, week, start + timedelta(days=8), UTC_SETTINGS)
    with store.unit_of_work() as s:
        view = payouts.week_view(s, week, start + timedelta(days=8), UTC_SETTINGS)
        got = {st_.currency: st_.total for st_ in view.statements}
        assert got == expected
        for statement in view.statements:
            assert isinstance(statement.total, Decimal)
            assert statement.total == sum((line.amount for line in statement.lines), Decimal(0))
            for line in statement.lines:
                assert isinstance(line.amount, Decimal) and not isinstance(line.amount, float)
                assert line.amount == line.amount.quantize(Decimal("0.01"))
        stored = s.scalars(select(PayoutStatement).where(PayoutStatement.week == str(week))).all()
        for row in stored:
            assert row.total == sum((line.amount for line in row.lines), Decimal(0))


# --------------------------------------------------------------------------- rates


def test_rate_changes_never_rewrite_past_earnings(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s)
        items = add_items(s, p, 2)
        alice = contractor(s, "alice", hourly_rate="20.00")
        answer(s, alice, items[0], MON + timedelta(hours=10))  # at 0.40
        check_in(s, alice, MON + timedelta(hours=9), MON + timedelta(hours=11), "20.00")
        # later the project pays 0.55 and alice 25.00/h: W10 stays as it was
        p.pay_per_task = Decimal("0.55")
        assert alice.profile is not None
        alice.profile.hourly_rate = Decimal("25.00")
        answer(s, alice, items[1], MON + timedelta(days=7, hours=1))  # W11, at 0.55
    with store.unit_of_work() as s:
        payouts.draft_week(s, W10, AFTER, UTC_SETTINGS)
        view = payouts.week_view(s, W10, AFTER, UTC_SETTINGS)
        (statement,) = view.statements
        assert statement.total == Decimal("40.40")  # 0.40 + 2 h × 20.00
        assert statement.effective_hourly == Decimal("20.20")


def test_check_in_without_snapshot_uses_rate_in_force_then(store: Store) -> None:
    with store.unit_of_work() as s:
        alice = contractor(s, "alice")
        s.add(
            RateChange(
                person_id=alice.id,
                hourly_rate=Decimal("10.00"),
                currency="USD",
                effective_from=MON - timedelta(days=30),
            )
        )
        s.add(
            RateChange(
                person_id=alice.id,
                hourly_rate=Decimal("99.00"),
                currency="USD",
                effective_from=MON + timedelta(days=1),
            )
        )  # later: not for this one
        check_in(s, alice, MON + timedelta(hours=9), MON + timedelta(hours=12), None)
    with store.unit_of_work() as s:
        payouts.draft_week(s, W10, AFTER, UTC_SETTINGS)
        (statement,) = payouts.week_view(s, W10, AFTER, UTC_SETTINGS).statements
        assert statement.total == Decimal("30.00") and statement.seconds_worked == 3 * 3600


# --------------------------------------------------------------------------- week boundaries


@pytest.mark.parametrize(
    ("tz", "inside", "outside"),
    [
        # New York: W10 starts Mon 2 Mar 00:00 EST (05:00 UTC) and, as DST begins on
        # Sun 8 Mar, ends Mon 9 Mar 00:00 EDT (04:00 UTC)
        (
            "America/New_York",
            datetime(2026, 3, 9, 3, 30, tzinfo=UTC),
            MON + timedelta(hours=4, minutes=59),
        ),
        # Tokyo is UTC+9: W10 starts Sun 1 Mar 15:00 UTC
        (
            "Asia/Tokyo",
            datetime(2026, 3, 1, 15, 30, tzinfo=UTC),
            datetime(2026, 3, 8, 15, 0, tzinfo=UTC),
        ),
    ],
)
def test_week_boundaries_follow_the_ops_timezone(
    store: Store, tz: str, inside: datetime, outside: datetime
) -> None:
    cfg = Settings(ops_tz=tz)
    with store.unit_of_work() as s:
        p = make_project(s)
        items = add_items(s, p, 2)
        alice = contractor(s, "alice")
        answer(s, alice, items[0], inside)
        answer(s, alice, items[1], outside)
        check_in(s, alice, W10.end(tz) - timedelta(hours=1), W10.end(tz) + timedelta(hours=1), "12")
    with store.unit_of_work() as s:
        # the Monday job at 09:00 in the ops timezone drafts the previous week
        now = datetime(2026, 3, 9, 9, 0, tzinfo=cfg.ops_zone)
        run = payouts.run_weekly_payouts(s, now, cfg)
        assert run.week == W10
        (statement,) = payouts.week_view(s, W10, now, cfg).statements
        assert statement.tasks == 1
        assert statement.seconds_worked == 3600  # the check-in is cut at the week's end
        assert statement.total == Decimal("12.40")


# --------------------------------------------------------------------------- approved weeks


def _approved_week(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s)
        items = add_items(s, p, 3)
        alice = contractor(s, "alice")
        bob = contractor(s, "bob")
        ops(s, "otto")
        answer(s, alice, items[0], MON + timedelta(hours=10))
        answer(s, bob, items[1], MON + timedelta(hours=11))
        payouts.run_weekly_payouts(s, AFTER, UTC_SETTINGS)
    with store.unit_of_work() as s:
        approval = payouts.approve_week(
            s, payouts.Actor(get_person(s, "otto"), "chat"), W10, AFTER, UTC_SETTINGS
        )
        assert approval.status == "approved"


def _snapshot(store: Store) -> list[tuple[object, ...]]:
    with store.unit_of_work() as s:
        rows = s.scalars(select(PayoutStatement).order_by(PayoutStatement.id)).all()
        return [
            (
                r.id,
                r.status,
                r.total,
                r.tasks,
                tuple((x.id, x.amount, x.description) for x in r.lines),
            )
            for r in rows
        ]


def test_approved_week_refuses_every_service_and_command(store: Store) -> None:
    _approved_week(store)
    before = _snapshot(store)
    later = AFTER + timedelta(days=1)
    with store.unit_of_work() as s:
        otto = get_person(s, "otto")
        actor = payouts.Actor(otto, "chat")
        # approving again is a no-op
        assert payouts.approve_week(s, actor, W10, later, UTC_SETTINGS).status == "already"
        # drafting, the weekly job, showing: nothing changes
        assert not payouts.draft_week(s, W10, later, UTC_SETTINGS).any_change
        payouts.run_weekly_payouts(s, AFTER, UTC_SETTINGS)
        payouts.show_week(s, W10, later, UTC_SETTINGS)
        with pytest.raises(Conflict, match="approved"):
            payouts.add_adjustment(
                s, actor, "alice", "5.00", "late bonus", W10, later, UTC_SETTINGS
            )
    # a new answer dated inside the approved week changes nothing either
    with store.unit_of_work() as s:
        p = s.scalars(select(Project)).one()
        (item,) = add_items(s, p, 1, prefix="late")
        answer(s, get_person(s, "alice"), item, MON + timedelta(hours=20))
    with store.unit_of_work() as s:
        assert not payouts.draft_week(s, W10, later, UTC_SETTINGS).any_change
    # a dispute on an approved line is booked in a later week, never in W10
    with store.unit_of_work() as s:
        alice = get_person(s, "alice")
        line = s.scalars(
            select(PayoutLine).join(PayoutStatement).where(PayoutStatement.person_id == alice.id)
        ).first()
        assert line is not None
        d = disputes.open_dispute(s, alice, line.id, "missed one", later)
        _, adj = disputes.resolve_dispute(
            s,
            payouts.Actor(get_person(s, "otto"), "chat"),
            d.id,
            accept=True,
            note="yes",
            amount="0.40",
            now=later,
            settings=UTC_SETTINGS,
        )
        assert adj is not None and adj.week == "2026-W11"
    assert _snapshot(store) == before


def test_approved_week_refuses_direct_orm_changes(store: Store) -> None:
    _approved_week(store)
    before = _snapshot(store)
    changes = [
        lambda s: setattr(s.scalars(select(PayoutStatement)).first(), "total", Decimal("1")),
        lambda s: setattr(s.scalars(select(PayoutStatement)).first(), "status", "draft"),
        lambda s: s.delete(s.scalars(select(PayoutStatement)).first()),
        lambda s: setattr(s.scalars(select(PayoutLine)).first(), "amount", Decimal("9")),
        lambda s: s.delete(s.scalars(select(PayoutLine)).first()),
        lambda s: s.add(
            PayoutLine(
                statement_id=s.scalars(select(PayoutStatement.id)).first(),
                position=9,
                key="x",
                kind="adjustment",
                description="x",
                quantity=Decimal(1),
                unit_amount=Decimal(1),
                amount=Decimal(1),
            )
        ),
        lambda s: setattr(s.get(PayoutWeek, "2026-W10"), "status", "draft"),
        lambda s: s.add(
            Adjustment(
                person_id=s.scalars(select(PayoutStatement.person_id)).first(),
                week="2026-W10",
                amount=Decimal("1"),
                currency="USD",
                reason="sneaky",
                created_at=AFTER,
            )
        ),
        lambda s: (
            s.get(PayoutWeek, "2026-W10"),  # the week in memory: checked without a query
            s.add(
                Adjustment(
                    person_id=s.scalars(select(PayoutStatement.person_id)).first(),
                    week="2026-W10",
                    amount=Decimal("2"),
                    currency="USD",
                    reason="sneaky",
                    created_at=AFTER,
                )
            ),
        ),
        lambda s: s.add(
            PayoutStatement(
                person_id=s.scalars(select(PayoutStatement.person_id)).first(),
                week="2026-W10",
                currency="EUR",
                total=Decimal(0),
                created_at=AFTER,
            )
        ),
    ]
    for change in changes:
        with pytest.raises(ApprovedPayoutChange), store.unit_of_work() as s:
            change(s)
            s.flush()
    assert _snapshot(store) == before


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE payout_statements SET total = 0",
        "UPDATE payout_statements SET status = 'draft'",
        "DELETE FROM payout_statements",
        "UPDATE payout_lines SET amount = 0",
        "DELETE FROM payout_lines",
        "UPDATE payout_weeks SET status = 'draft'",
        "DELETE FROM payout_weeks",
        "INSERT INTO payout_lines (statement_id, position, key, kind, description, quantity, "
        "unit_amount, amount) SELECT id, 9, 'x', 'adjustment', 'x', 1, 1, 1 FROM payout_statements",
        "INSERT INTO adjustments (person_id, week, amount, currency, reason, created_at) "
        "SELECT person_id, week, 1, 'USD', 'x', created_at FROM payout_statements",
        "INSERT INTO payout_statements (person_id, week, currency, total, tasks, seconds_worked, "
        "active_seconds, status, created_at) SELECT person_id, week, 'EUR', 0, 0, 0, 0, 'draft', "
        "created_at FROM payout_statements",
    ],
)
def test_database_triggers_refuse_plain_sql_on_an_approved_week(store: Store, sql: str) -> None:
    _approved_week(store)
    before = _snapshot(store)
    with (
        pytest.raises(DBAPIError, match="approved payouts never change"),
        store.engine.begin() as conn,
    ):
        conn.execute(text(sql))
    assert _snapshot(store) == before


def test_bulk_orm_statements_hit_the_triggers_too(store: Store) -> None:
    _approved_week(store)
    with pytest.raises(DBAPIError), store.unit_of_work() as s:
        s.execute(update(PayoutLine).values(amount=Decimal("0")))
    with pytest.raises(DBAPIError), store.unit_of_work() as s:
        s.execute(delete(PayoutStatement))


def test_drafts_can_change_until_approved(store: Store) -> None:
    """The guards bite only on approval: a draft is recomputed freely, line ids stay."""
    with store.unit_of_work() as s:
        p = make_project(s)
        items = add_items(s, p, 3)
        alice = contractor(s, "alice")
        answer(s, alice, items[0], MON + timedelta(hours=1))
        payouts.draft_week(s, W10, AFTER, UTC_SETTINGS)
        first = s.scalars(select(PayoutLine.id)).all()
        answer(s, alice, items[1], MON + timedelta(hours=2))
        result = payouts.draft_week(s, W10, AFTER, UTC_SETTINGS)
        assert result.changed and not result.created
        assert s.scalars(select(PayoutLine.id)).all() == first  # same line, new count
        assert s.scalars(select(PayoutStatement.total)).one() == Decimal("0.80")
        assert not payouts.draft_week(s, W10, AFTER, UTC_SETTINGS).any_change


def test_rejected_answers_show_with_their_reason(store: Store) -> None:
    """Rejected through the review service (found via its audit entry) or stored as
    rejected (found by scanning the week): either way shown with the reason, unpaid."""
    from hdops.services.answers import reject_answer

    with store.unit_of_work() as s:
        p = make_project(s)
        items = add_items(s, p, 3)
        alice = contractor(s, "alice")
        otto = ops(s, "otto")
        first = answer(s, alice, items[0], MON + timedelta(hours=1))
        answer(s, alice, items[1], MON + timedelta(hours=2))
        reject_answer(s, otto, first.id, "ignored the rubric", MON + timedelta(hours=3))
    with store.unit_of_work() as s:
        payouts.draft_week(s, W10, AFTER, UTC_SETTINGS)
        (statement,) = payouts.week_view(s, W10, AFTER, UTC_SETTINGS).statements
        kinds = {line.kind: line for line in statement.lines}
        assert statement.total == Decimal("0.40") and statement.tasks == 1
        assert "reason: ignored the rubric" in kinds["rejected"].description
        assert "it-0" in kinds["rejected"].description
        # a second rejection stored without an audit entry: the count differs, so the
        # week is scanned and both appear
        a3 = answer(s, alice, items[2], MON + timedelta(hours=4), status="rejected", reason="dup")
        assert a3.id
        payouts.draft_week(s, W10, AFTER, UTC_SETTINGS)
        (statement,) = payouts.week_view(s, W10, AFTER, UTC_SETTINGS).statements
        reasons = [line.description for line in statement.lines if line.kind == "rejected"]
        assert len(reasons) == 2 and any("reason: dup" in r for r in reasons)
