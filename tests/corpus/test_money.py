"""Hostile amounts wherever money is typed: `hdops payouts adjust`, `--hourly-rate`
on `person add` / `person update`, `payouts resolve --accept`, and `/hdops payouts
adjust` in chat. Money is Decimal: NaN, infinities, exponents, overflow, other
scripts' digits and more places than the currency has are refused, nothing booked."""

from __future__ import annotations

import pytest

from tests.corpus.conftest import Cli, HostileCase
from tests.flows.conftest import Harness
from tests.helpers import contractor, ops, table_rows

# The CLI cases share one seeded database of the store under test (conftest).
pytestmark = pytest.mark.store

# (what it attacks, the amount, what the error must name)
AMOUNTS = [
    ("NaN", "NaN", "NaN"),
    ("negative NaN", "-nan", "nan"),
    ("infinity", "-Infinity", "Infinity"),
    ("1e309 (beyond a double)", "1e309", "1e309"),
    ("an exponent", "1e3", "1e3"),
    ("beyond NUMERIC(18, 4)", "100000000000000", "less than"),
    ("sub-cent (0.001)", "0.001", "decimal"),
    ("negative sub-cent", "-0.001", "decimal"),
    ("Arabic-Indic digits", "١٢.٥٠", "١٢.٥٠"),
    ("full-width digits", "１２", "１２"),
    ("a decimal comma", "12,50", "12,50"),
    ("SQL", "5;DROP_TABLE_adjustments", "decimal amount"),
    ("hex", "0x10", "0x10"),
]
RATES = [a for a in AMOUNTS if a[0] not in ("sub-cent (0.001)", "negative sub-cent")] + [
    ("a negative rate", "-5", "zero or more"),
    ("a rate finer than 4 decimals", "0.00005", "0.00005"),
]


@pytest.mark.parametrize(("attack", "amount", "names"), AMOUNTS, ids=[a[0] for a in AMOUNTS])
def test_an_adjustment_of_hostile_money_is_refused(
    cli: Cli, hostile: HostileCase, attack: str, amount: str, names: str
) -> None:
    cli.refuses("payouts", "adjust", "alice", amount, "--reason", "x", names=names)
    hostile.refused()


@pytest.mark.parametrize(("attack", "rate", "names"), RATES, ids=[r[0] for r in RATES])
@pytest.mark.parametrize("command", ["add", "update"])
def test_an_hourly_rate_of_hostile_money_is_refused(
    cli: Cli, hostile: HostileCase, command: str, attack: str, rate: str, names: str
) -> None:
    who = "zed" if command == "add" else "alice"
    cli.refuses("person", command, who, "--hourly-rate", rate, names=names)
    hostile.refused()


@pytest.mark.parametrize(("attack", "amount", "names"), AMOUNTS, ids=[a[0] for a in AMOUNTS])
def test_a_chat_adjustment_of_hostile_money_is_refused(
    harness: Harness, hostile: HostileCase, attack: str, amount: str, names: str
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        contractor(s, "alice")
        ops(s, "olga")
    before = table_rows(h.store)
    reply = h.chat.command("olga", f"/hdops payouts adjust @alice {amount} --reason x")
    assert reply.message is not None
    said = reply.message.plain()
    assert names in said and "did not work" not in said, (attack, said)
    assert table_rows(h.store) == before, attack
    hostile.refused()
