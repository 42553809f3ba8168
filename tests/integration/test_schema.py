"""The migration head and the ORM models describe the same schema, on this backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hdops.store.db import Store
from hdops.store.migrate import head_revision, is_current
from hdops.store.orm import Adjustment, Base, Person, ProcessedEvent


def test_migrations_match_models(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
    assert is_current(store.engine)
    assert head_revision() == "0001" or head_revision()


def test_money_is_exact_decimal_and_sums_exactly(store: Store) -> None:
    now = datetime.now(UTC)
    with store.unit_of_work() as s:
        p = Person(name="pay", display_name="pay", created_at=now)
        s.add(p)
        s.flush()
        for _ in range(10):
            s.add(
                Adjustment(
                    person_id=p.id,
                    week="2026-W01",
                    amount=Decimal("0.10"),
                    currency="USD",
                    reason="r",
                    created_at=now,
                )
            )
    with store.unit_of_work() as s:
        total = s.scalar(select(func.sum(Adjustment.amount)))
        one = s.scalar(select(Adjustment.amount).limit(1))
    assert total == Decimal("1.00")
    assert isinstance(total, Decimal) and isinstance(one, Decimal)


def test_float_money_is_refused(store: Store) -> None:
    now = datetime.now(UTC)
    with pytest.raises(Exception, match="never float"), store.unit_of_work() as s:
        p = Person(name="f", display_name="f", created_at=now)
        s.add(p)
        s.flush()
        s.add(
            Adjustment(
                person_id=p.id,
                week="2026-W01",
                amount=0.1,  # type: ignore[arg-type]
                currency="USD",
                reason="r",
                created_at=now,
            )
        )


def test_datetimes_come_back_aware_utc(store: Store) -> None:
    local = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    with store.unit_of_work() as s:
        s.add(Person(name="tz", display_name="tz", created_at=local))
    with store.unit_of_work() as s:
        got = s.scalar(select(Person.created_at))
    assert got == local and got.tzinfo is not None and got.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive"), store.unit_of_work() as s:
        s.add(Person(name="n", display_name="n", created_at=datetime(2026, 1, 1)))


def test_processed_event_ids_are_unique(store: Store) -> None:
    now = datetime.now(UTC)
    with store.unit_of_work() as s:
        s.add(ProcessedEvent(event_id="Ev1", received_at=now))
    with pytest.raises(IntegrityError), store.unit_of_work() as s:
        s.add(ProcessedEvent(event_id="Ev1", received_at=now))


def test_sqlite_pragmas(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite only")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
