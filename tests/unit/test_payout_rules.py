"""Payout rules without a database: weeks, amounts, rounding, statement lines."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hdops.domain.money import round_money
from hdops.domain.payouts import (
    AdjustmentEntry,
    HoursGroup,
    IsoWeek,
    RejectedGroup,
    StatementInputs,
    TaskGroup,
    build_statement,
    clipped_seconds,
    effective_hourly,
    paid_hours,
    parse_amount,
)
from hdops.domain.weeks import parse_week
from hdops.errors import InvalidInput

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # Wednesday of 2026-W10


@pytest.mark.parametrize(
    ("text", "week"),
    [
        ("this", "2026-W10"),
        ("next", "2026-W11"),
        ("last", "2026-W09"),
        ("prev", "2026-W09"),
        (None, "2026-W09"),
        ("2026-w01", "2026-W01"),
        ("2020-W53", "2020-W53"),
    ],
)
def test_week_words(text: str | None, week: str) -> None:
    assert str(parse_week(text, NOW, "UTC", default="last")) == week


@pytest.mark.parametrize("text", ["2026-W54", "2025-W53", "W10", "yesterday", "2026-10"])
def test_bad_weeks_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_week(text, NOW, "UTC")


def test_week_boundaries_are_monday_midnight_in_the_zone() -> None:
    w = IsoWeek(2026, 10)
    assert w.start("UTC") == datetime(2026, 3, 2, tzinfo=UTC)
    assert w.start("Europe/Berlin") == datetime(2026, 3, 1, 23, tzinfo=UTC)
    # US daylight saving time starts on Sunday 8 March: the week is 167 hours long
    assert w.end("America/New_York") - w.start("America/New_York") == (
        datetime(2026, 3, 9, 4, tzinfo=UTC) - datetime(2026, 3, 2, 5, tzinfo=UTC)
    )
    assert w.end("Asia/Tokyo") == w.shift(1).start("Asia/Tokyo")
    # Sunday 23:30 in New York is already Monday in UTC, and still W10 there
    sunday_night = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)
    assert IsoWeek.containing(sunday_night, "America/New_York") == w
    assert IsoWeek.containing(sunday_night, "UTC") == w.shift(1)
    assert IsoWeek.from_code(w.code) == w and w.code == 202610
    assert IsoWeek(2026, 1).shift(-1) == IsoWeek(2025, 1).shift(51)


@pytest.mark.parametrize("text", ["1.005", "abc", "0", "0.00", "NaN", "Infinity", "2000000"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_amount(text)


def test_amounts_keep_cents() -> None:
    assert parse_amount("-10") == Decimal("-10.00")
    assert parse_amount(" 25.5 ") == Decimal("25.50")


def test_line_rounding_is_half_up_once_per_line() -> None:
    inputs = StatementInputs(
        person_id=1,
        currency="USD",
        tasks=[
            TaskGroup(1, "p", Decimal("0.4050"), 3),  # 1.215 -> 1.22
            TaskGroup(2, "q", Decimal("0.0049"), 1),  # 0.0049 -> 0.00
            TaskGroup(2, "q", Decimal("0.0050"), 1),  # 0.005 -> 0.01
        ],
        rejected=[RejectedGroup(1, "p", Decimal("0.4050"), "copied", ("it-1", "it-2"))],
        # 1 s is 0.00 h (paid in hundredths of an hour), so 0.00; 600 s is 0.17 h
        hours=[HoursGroup(Decimal("18.50"), 1), HoursGroup(None, 600)],
        adjustments=[AdjustmentEntry(7, Decimal("-2.50"), "duplicate")],
        task_seconds=120,
    )
    s = build_statement(inputs)
    assert [line.amount for line in s.lines] == [
        Decimal("1.22"),
        Decimal("0.00"),
        Decimal("0.01"),
        Decimal("0.00"),  # rejected: shown, not paid
        Decimal("0.00"),
        Decimal("0.00"),  # checked in without an hourly rate
        Decimal("-2.50"),
    ]
    assert [line.quantity for line in s.lines if line.kind == "hours"] == [
        Decimal("0.00"),
        Decimal("0.17"),
    ]
    assert s.total == Decimal("-1.27")
    assert s.tasks == 5 and s.seconds_worked == 601 and s.active_seconds == 601
    rejected = s.lines[3]
    assert rejected.kind == "rejected" and "reason: copied" in rejected.description
    assert "items it-1, it-2" in rejected.description
    assert len({line.key for line in s.lines}) == len(s.lines)


def test_effective_hourly_and_clipping() -> None:
    assert effective_hourly(Decimal("10.00"), 1800) == Decimal("20.00")
    assert effective_hourly(Decimal("10.00"), 0) is None
    start, end = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
    before = datetime(2026, 3, 1, 23, tzinfo=UTC)
    assert clipped_seconds(before, datetime(2026, 3, 2, 1, tzinfo=UTC), start, end) == 3600
    late = datetime(2026, 3, 8, 23, tzinfo=UTC)
    assert clipped_seconds(late, datetime(2026, 3, 9, 1, tzinfo=UTC), start, end) == 3600
    # a check-in still open counts nothing (issue 10, point 1)
    assert clipped_seconds(late, None, start, end) == 0


@given(
    tasks=st.lists(
        st.tuples(
            st.integers(1, 5),
            st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=4),
            st.integers(1, 10_000),
        ),
        max_size=8,
    ),
    hours=st.lists(
        st.tuples(
            st.integers(1, 200_000),
            st.decimals(min_value=Decimal("0"), max_value=Decimal("200"), places=4),
        ),
        max_size=4,
    ),
    adjustments=st.lists(
        st.decimals(min_value=Decimal("-999"), max_value=Decimal("999"), places=2), max_size=5
    ),
)
def test_total_is_exactly_the_sum_of_rounded_lines(
    tasks: list[tuple[int, Decimal, int]],
    hours: list[tuple[int, Decimal]],
    adjustments: list[Decimal],
) -> None:
    merged: dict[tuple[int, Decimal], int] = {}
    for project, rate, count in tasks:
        merged[(project, rate)] = merged.get((project, rate), 0) + count
    rates: dict[Decimal, int] = {}
    for seconds, rate in hours:
        rates[rate] = rates.get(rate, 0) + seconds
    inputs = StatementInputs(
        person_id=1,
        currency="EUR",
        tasks=[TaskGroup(p, f"p{p}", r, n) for (p, r), n in merged.items()],
        hours=[HoursGroup(r, s) for r, s in rates.items()],
        adjustments=[AdjustmentEntry(i, a, "r") for i, a in enumerate(adjustments)],
    )
    s = build_statement(inputs)
    assert s.total == sum((line.amount for line in s.lines), Decimal(0))
    for line in s.lines:
        assert type(line.amount) is Decimal and type(line.quantity) is Decimal
        assert line.amount == round_money(line.amount)
    expected = sum((round_money(r * n) for (_, r), n in merged.items()), Decimal(0))
    expected += sum((round_money(r * paid_hours(s)) for r, s in rates.items()), Decimal(0))
    expected += sum(adjustments, Decimal(0))
    assert s.total == expected
