"""Issue 11 point 9: approved payouts hold under plain SQL that skips row triggers.

SQLite's REPLACE conflict resolution deletes the conflicting row without firing
delete triggers, so `INSERT OR REPLACE INTO payout_weeks` flipped an approved
week back to draft; PostgreSQL's TRUNCATE fires no row triggers, so
`TRUNCATE payout_lines CASCADE` removed approved lines. Each statement below is
refused and leaves the ledger exactly as it was.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from hdops.services import payouts
from hdops.services.people import get_person
from hdops.store import payouts as payout_store
from hdops.store.db import Store
from hdops.store.orm import Adjustment, PayoutLine, PayoutStatement, PayoutWeek
from tests.conftest import ON_POSTGRES
from tests.helpers import add_items, contractor, make_project, ops
from tests.integration.test_payouts import AFTER, MON, UTC_SETTINGS, W10
from tests.payout_data import answer


def _approved_week_with_an_adjustment(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s)
        items = add_items(s, p, 3)
        alice = contractor(s, "alice")
        bob = contractor(s, "bob")
        ops(s, "otto")
        answer(s, alice, items[0], MON + timedelta(hours=10))
        answer(s, bob, items[1], MON + timedelta(hours=11))
        s.add(
            Adjustment(
                person_id=alice.id,
                week=str(W10),
                amount=Decimal("5"),
                currency="USD",
                reason="bonus",
                source="test:bonus",
                created_at=MON + timedelta(hours=12),
            )
        )
        payouts.run_weekly_payouts(s, AFTER, UTC_SETTINGS)
    with store.unit_of_work() as s:
        approval = payouts.approve_week(
            s, payouts.Actor(get_person(s, "otto"), "chat"), W10, AFTER, UTC_SETTINGS
        )
        assert approval.status == "approved"


def _ledger(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    with store.unit_of_work() as s:
        return {
            "weeks": [(w.week, w.status) for w in s.scalars(select(PayoutWeek))],
            "statements": [
                (r.id, r.person_id, r.status, r.total)
                for r in s.scalars(select(PayoutStatement).order_by(PayoutStatement.id))
            ],
            "lines": [
                (r.id, r.statement_id, r.amount, r.description)
                for r in s.scalars(select(PayoutLine).order_by(PayoutLine.id))
            ],
            "adjustments": [
                (a.id, a.week, a.amount, a.source)
                for a in s.scalars(select(Adjustment).order_by(Adjustment.id))
            ],
        }


def _refused(store: Store, sql: str) -> None:
    _approved_week_with_an_adjustment(store)
    before = _ledger(store)
    assert before["lines"] and before["adjustments"]
    with (
        pytest.raises(DBAPIError, match="approved payouts never change"),
        store.engine.begin() as conn,
    ):
        conn.execute(text(sql))
    assert _ledger(store) == before


_LINE_COLUMNS = "statement_id, position, key, kind, description, quantity, unit_amount"
SQLITE_REPLACES = [
    "INSERT OR REPLACE INTO payout_weeks (week, status, drafted_at) "
    "SELECT week, 'draft', drafted_at FROM payout_weeks",
    "REPLACE INTO payout_statements (id, person_id, week, currency, total, tasks, "
    "seconds_worked, active_seconds, status, created_at) SELECT id, person_id, week, "
    "currency, 0, 0, 0, 0, 'draft', created_at FROM payout_statements",
    "INSERT OR REPLACE INTO payout_statements (person_id, week, currency, total, tasks, "
    "seconds_worked, active_seconds, status, created_at) SELECT person_id, week, currency, "
    "0, 0, 0, 0, 'draft', created_at FROM payout_statements",
    f"INSERT OR REPLACE INTO payout_lines (id, {_LINE_COLUMNS}, amount) "
    f"SELECT id, {_LINE_COLUMNS}, 0 FROM payout_lines",
    "INSERT OR REPLACE INTO adjustments (person_id, week, amount, currency, reason, source, "
    "created_at) SELECT person_id, '2026-W11', 0, currency, 'x', source, created_at "
    "FROM adjustments",
]


@pytest.mark.skipif(ON_POSTGRES, reason="REPLACE conflict resolution is SQLite's")
@pytest.mark.parametrize("sql", SQLITE_REPLACES)
def test_sqlite_replace_cannot_overwrite_an_approved_row(store: Store, sql: str) -> None:
    _refused(store, sql)


@pytest.mark.skipif(ON_POSTGRES, reason="REPLACE conflict resolution is SQLite's")
@pytest.mark.parametrize(
    ("draft_row", "move"),
    [
        (
            "INSERT INTO payout_weeks (week, status, drafted_at) "
            "SELECT '2026-W11', 'draft', drafted_at FROM payout_weeks",
            "UPDATE OR REPLACE payout_weeks SET week = '2026-W10' WHERE week = '2026-W11'",
        ),
        (
            "INSERT INTO adjustments (person_id, week, amount, currency, reason, created_at) "
            "SELECT person_id, '2026-W11', 1, currency, 'later', created_at FROM adjustments",
            "UPDATE OR REPLACE adjustments SET source = 'test:bonus' WHERE source IS NULL",
        ),
    ],
)
def test_sqlite_update_or_replace_onto_an_approved_key_is_refused(
    store: Store, draft_row: str, move: str
) -> None:
    _approved_week_with_an_adjustment(store)
    with store.engine.begin() as conn:
        conn.execute(text(draft_row))
    before = _ledger(store)
    with (
        pytest.raises(DBAPIError, match="approved payouts never change"),
        store.engine.begin() as conn,
    ):
        conn.execute(text(move))
    assert _ledger(store) == before


@pytest.mark.skipif(not ON_POSTGRES, reason="TRUNCATE is PostgreSQL's")
@pytest.mark.parametrize(
    "table", ["payout_lines", "payout_statements", "payout_weeks", "adjustments", "persons"]
)
def test_postgres_truncate_cannot_remove_approved_rows(store: Store, table: str) -> None:
    _refused(store, f"TRUNCATE {table} CASCADE")


@pytest.mark.skipif(not ON_POSTGRES, reason="TRUNCATE is PostgreSQL's")
def test_postgres_truncate_of_drafts_only_still_works(store: Store) -> None:
    with store.unit_of_work() as s:
        p = make_project(s)
        items = add_items(s, p, 1)
        answer(s, contractor(s, "alice"), items[0], MON + timedelta(hours=10))
        payouts.run_weekly_payouts(s, AFTER, UTC_SETTINGS)
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE payout_lines, payout_statements, payout_weeks CASCADE"))
    assert _ledger(store)["statements"] == []


_DRAFTS_IN_W11 = (
    "INSERT INTO payout_statements (person_id, week, currency, total, tasks, seconds_worked, "
    "active_seconds, status, created_at) SELECT person_id, '2026-W11', currency, 0, 0, 0, 0, "
    "'draft', created_at FROM payout_statements"
)


@pytest.mark.parametrize(
    "sql",
    [
        f"INSERT INTO payout_lines ({_LINE_COLUMNS}, amount) SELECT id, 9, 'x', 'adjustment', "
        "'x', 1, 1, 1 FROM payout_statements",
        "UPDATE payout_lines SET description = description || '.'",
        "DELETE FROM payout_lines",
        "UPDATE payout_statements SET total = total",
    ],
)
def test_one_approved_row_refuses_the_whole_statement(store: Store, sql: str) -> None:
    """A write that touches draft rows (week 11) and approved ones (week 10) at once is
    refused whole: the draft rows are not changed either (PostgreSQL checks once per
    statement, after it, over all the rows it wrote; SQLite per row)."""
    _approved_week_with_an_adjustment(store)
    with store.engine.begin() as conn:
        conn.execute(text(_DRAFTS_IN_W11))
        conn.execute(
            text(
                f"INSERT INTO payout_lines ({_LINE_COLUMNS}, amount) SELECT id, 1, 'k', 'tasks', "
                "'draft line', 1, 1, 1 FROM payout_statements WHERE week = '2026-W11'"
            )
        )
    before = _ledger(store)
    assert {s[2] for s in before["statements"]} == {"approved", "draft"}
    with (
        pytest.raises(DBAPIError, match="approved payouts never change"),
        store.engine.begin() as conn,
    ):
        conn.execute(text(sql))
    assert _ledger(store) == before


def test_bulk_writes_into_an_approved_week_are_refused(store: Store) -> None:
    """The bulk path drafting uses (COPY on PostgreSQL, executemany on SQLite) meets
    the same database guards as any INSERT, refused as an IntegrityError."""
    _approved_week_with_an_adjustment(store)
    before = _ledger(store)
    statement_id = before["statements"][0][0]
    line = {
        "statement_id": statement_id,
        "position": 9,
        "key": "x",
        "kind": "adjustment",
        "project_id": None,
        "description": "smuggled",
        "quantity": Decimal(1),
        "unit_amount": Decimal(1),
        "amount": Decimal(1),
    }
    with (
        pytest.raises(IntegrityError, match="approved payouts never change"),
        store.unit_of_work() as s,
    ):
        payout_store.insert_lines(s, [line])
    statement = {
        "person_id": before["statements"][0][1],
        "week": str(W10),
        "currency": "EUR",
        "total": Decimal(1),
        "tasks": 0,
        "seconds_worked": 0,
        "active_seconds": 0,
        "status": "draft",
        "created_at": AFTER,
    }
    with (
        pytest.raises(IntegrityError, match="approved payouts never change"),
        store.unit_of_work() as s,
    ):
        payout_store.insert_statements(s, str(W10), [statement])
    assert _ledger(store) == before


@pytest.mark.skipif(not ON_POSTGRES, reason="writable CTEs are PostgreSQL's")
def test_postgres_approving_and_adding_a_line_in_one_statement_is_refused(store: Store) -> None:
    """Checked after the statement, the guard sees the statement a CTE approved."""
    _approved_week_with_an_adjustment(store)
    with store.engine.begin() as conn:
        conn.execute(text(_DRAFTS_IN_W11))
    before = _ledger(store)
    with (
        pytest.raises(DBAPIError, match="approved payouts never change"),
        store.engine.begin() as conn,
    ):
        conn.execute(
            text(
                "WITH approved AS (UPDATE payout_statements SET status = 'approved' "
                "WHERE week = '2026-W11' RETURNING id) "
                f"INSERT INTO payout_lines ({_LINE_COLUMNS}, amount) SELECT id, 1, 'x', "
                "'adjustment', 'late', 1, 1, 1 FROM approved"
            )
        )
    assert _ledger(store) == before
