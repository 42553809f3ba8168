"""Column types that keep the domain's invariants in the database layer.

* `UTCDateTime` only accepts aware datetimes and always returns aware UTC, on
  SQLite (which has no time zones) as on PostgreSQL.
* `Money` is exact on every backend: NUMERIC(18, 4) on PostgreSQL and a scaled
  integer (1/10000 units) on SQLite, whose NUMERIC affinity would otherwise store
  a binary float. Both round-trip `Decimal` and keep SQL `SUM()` exact.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_SCALE = 4
_QUANT = Decimal(1).scaleb(-MONEY_SCALE)
_FACTOR = 10**MONEY_SCALE


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    impl = Numeric(18, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, never float")
        amount = Decimal(value).quantize(_QUANT)
        if dialect.name == "sqlite":
            return int(amount * _FACTOR)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            scaled: Decimal
            if isinstance(value, float):  # e.g. AVG(); never produced by SUM of ints
                scaled = Decimal(repr(value)) / _FACTOR
            else:
                scaled = Decimal(int(value)) / _FACTOR
            return scaled.quantize(_QUANT)
        exact: Decimal = Decimal(value).quantize(_QUANT)
        return exact
