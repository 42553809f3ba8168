"""Issue 10, point 10: money in the currency's decimals, and statement lines whose
arithmetic checks out with the numbers printed on them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hdops.domain.money import format_money, format_rate, money_text, rate_text, round_money
from hdops.domain.payouts import (
    HoursGroup,
    IsoWeek,
    LineView,
    StatementInputs,
    StatementView,
    TaskGroup,
    build_statement,
    parse_amount,
    quantity_text,
)
from hdops.errors import InvalidInput
from hdops.render.payouts import statement_message


@pytest.mark.parametrize(
    ("value", "currency", "amount", "rate"),
    [
        (Decimal("0.4"), "USD", "0.40", "0.40"),
        (Decimal("0.4000"), "USD", "0.40", "0.40"),
        (Decimal("0.125"), "USD", "0.13", "0.125"),  # a rate keeps the places it has
        (Decimal("1500"), "JPY", "1,500", "1,500"),
        (Decimal("1234.5"), "EUR", "1,234.50", "1,234.50"),
        (Decimal("0.1235"), "KWD", "0.124", "0.1235"),
        (Decimal("-3.2"), "usd", "-3.20", "-3.20"),
    ],
)
def test_money_has_the_currencys_decimals(
    value: Decimal, currency: str, amount: str, rate: str
) -> None:
    assert format_money(value, currency) == amount
    assert format_rate(value, currency) == rate
    assert money_text(value, currency) == amount.replace(",", "")
    assert rate_text(value, currency) == rate.replace(",", "")


def test_amounts_typed_are_checked_against_the_currency() -> None:
    assert parse_amount("25.5") == Decimal("25.50")
    assert parse_amount("1500", currency="JPY") == Decimal("1500")
    with pytest.raises(InvalidInput, match="no decimal places in JPY"):
        parse_amount("1500.50", currency="JPY")
    assert parse_amount("1.125", currency="KWD") == Decimal("1.125")


def _statement(inputs: StatementInputs) -> StatementView:
    draft = build_statement(inputs)
    return StatementView(
        id=1,
        person_id=1,
        name="alice",
        display_name="alice",
        week=IsoWeek(2026, 10),
        currency=inputs.currency,
        status="draft",
        total=draft.total,
        tasks=draft.tasks,
        seconds_worked=draft.seconds_worked,
        active_seconds=draft.active_seconds,
        lines=tuple(
            LineView(
                i,
                i,
                line.kind,
                line.description,
                line.quantity,
                line.unit_amount,
                line.amount,
            )
            for i, line in enumerate(draft.lines, start=1)
        ),
    )


def test_statement_shows_rates_and_time_so_each_line_adds_up() -> None:
    """The issue's own example: 198 s at 12/h was "0.05 h × 12/h = 0.66"."""
    view = _statement(
        StatementInputs(
            person_id=1,
            currency="USD",
            tasks=[TaskGroup(1, "helpful-pairs", Decimal("0.4000"), 3)],
            hours=[HoursGroup(Decimal("12"), 198)],
        )
    )
    text = statement_message(view).plain()
    assert "helpful-pairs: 3 tasks × 0.40" in text
    assert "0.06 h checked in × 12.00/h" in text
    hours = next(line for line in view.lines if line.kind == "hours")
    assert hours.amount == Decimal("0.72")  # 0.06 × 12.00, what the line shows
    assert "0.4 " not in text and "0.4000" not in text and "× 12/h" not in text
    assert "Total: 1.92 USD" in text


def test_statement_in_yen_has_no_decimals() -> None:
    view = _statement(
        StatementInputs(
            person_id=1,
            currency="JPY",
            tasks=[TaskGroup(1, "p", Decimal("55"), 3)],
            hours=[HoursGroup(Decimal("1500"), 5400)],
        )
    )
    assert [line.amount for line in view.lines] == [Decimal("165"), Decimal("2250")]
    text = statement_message(view).plain()
    assert "1.50 h checked in × 1,500/h" in text and "Total: 2,415 JPY" in text
    assert ".00" not in text.split("Effective")[0]


@given(
    seconds=st.integers(1, 400_000),
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=4),
    count=st.integers(1, 5_000),
    currency=st.sampled_from(["USD", "EUR", "JPY", "KWD"]),
)
def test_every_line_is_its_printed_quantity_times_its_printed_rate(
    seconds: int, rate: Decimal, count: int, currency: str
) -> None:
    """Read back from the printed text, quantity × rate rounded half-up to the
    currency's unit is exactly the printed amount, for hours and tasks alike."""
    draft = build_statement(
        StatementInputs(
            person_id=1,
            currency=currency,
            tasks=[TaskGroup(1, "p", rate, count)],
            hours=[HoursGroup(rate, seconds)],
        )
    )
    for line in draft.lines:
        qty = Decimal(quantity_text(line.kind, line.quantity))
        unit = Decimal(rate_text(line.unit_amount, currency))
        printed = Decimal(money_text(line.amount, currency))
        assert round_money(qty * unit, currency) == printed == line.amount
        exact_hours = (Decimal(seconds) / 3600).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if line.kind == "hours":
            assert qty == exact_hours
