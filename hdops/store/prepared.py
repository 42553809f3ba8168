"""Hot-path statements: Core statements compiled once per dialect and run on the
driver cursor of the session's own transaction.

Why: SQLAlchemy spends about 40 µs per executed Core statement on this machine
(cache key, execution context, result object) against 2-3 µs for the driver
itself, and the ORM unit of work several times that. The answer transaction has
about a dozen statements, so that overhead alone made it many times slower than
the same SQL through the raw driver (see benchmarks/answer_loop.py).

What is kept from SQLAlchemy:
* the statements are Core constructs over the ORM tables, so a renamed column
  breaks them at compile time, and the dialect in use renders them (paramstyle,
  RETURNING, `FOR UPDATE`, PostgreSQL bind casts);
* the column types' bind and result processors (`UTCDateTime`, `Money`, JSON),
  so values go in and come out exactly as through the ORM;
* the transaction: `Tx(session)` runs on the connection the session already
  holds (on SQLite after its `BEGIN IMMEDIATE`), so everything commits or rolls
  back with the unit of work;
* errors: driver errors are re-raised as SQLAlchemy's (`IntegrityError`, ...);
* the engine's log: with `sqlalchemy.engine` logging at INFO (`echo=True`), each
  statement and its parameters are logged there, marked `[prepared]`.

Only SQLAlchemy's public API is used: `compile()`, the compiled `string`,
`bind_names` and `construct_params` (which gives each parameter's name as the driver wants
it: both stores use a named paramstyle), the types' `bind_processor` and
`result_processor`, and the DBAPI connection a `Connection` exposes.

What is not, so callers must mind it:
* the ORM does not see these writes: `Tx(session)` flushes pending ORM changes
  first, and code that changes rows loaded as ORM objects refreshes them;
* Python-side column defaults are not applied: an INSERT names every column,
  and compiling one that would rely on such a default raises at first use;
* engine and cursor events (`before_cursor_execute`, …) do not see these statements.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import BindParameter, Insert, ReturnsRows
from sqlalchemy.types import TypeDecorator, TypeEngine

Row = tuple[Any, ...]
_Processor = Callable[[Any], Any]
_NO_PARAMS: Mapping[str, Any] = {}
_ENGINE_LOG = logging.getLogger("sqlalchemy.engine.Engine")


class JSONText(TypeDecorator[str]):
    """A JSON column written from text that is already JSON (e.g. pydantic's
    `model_dump_json`), so a payload is serialised once, not dumped to a dict by
    pydantic and then again by `json.dumps`. PostgreSQL still receives it as JSON
    (the dialect renders `::JSON` on the parameter); reading the column back
    through the ORM gives the same dict."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


@dataclass(slots=True)
class _Plan:
    sql: str
    # (key in the driver's parameters, name given by the caller, bind processor).
    # Values the statement carries itself (literals, `bindparam(..., value)`) are
    # in `defaults`, by name.
    binds: tuple[tuple[str, str, _Processor | None], ...]
    defaults: dict[str, Any]
    # Result processors by column index, known after the first execution (they
    # depend on the driver's type codes in `cursor.description`); only the
    # columns that have one.
    results: tuple[tuple[int, _Processor], ...] = ()
    described: bool = False


class Prepared:
    """One statement, compiled once per dialect. Parameters are given by the
    `bindparam` names used in the statement (and, for an INSERT built without
    `.values()`, by the column names listed in `columns`)."""

    __slots__ = ("_columns", "_last", "_plans", "statement")

    def __init__(self, statement: ReturnsRows, *, columns: Sequence[str] = ()) -> None:
        self.statement = statement
        self._columns = list(columns)
        self._plans: WeakKeyDictionary[Dialect, _Plan] = WeakKeyDictionary()
        # The plan used last: one process almost always talks to one database.
        self._last: tuple[Dialect, _Plan] | None = None

    def plan(self, dialect: Dialect) -> _Plan:
        last = self._last
        if last is not None and last[0] is dialect:
            return last[1]
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = self._compile(dialect)
        self._last = (dialect, plan)
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        """Compile with the dialect, through SQLAlchemy's public API only: the SQL
        string, the `binds` table, `construct_params` (which names each parameter
        as the driver wants it) and each type's `bind_processor`."""
        if dialect.positional:
            raise ValueError(
                "prepared statements need a named paramstyle (create_store_engine sets one)"
            )
        kw: dict[str, Any] = {"column_keys": self._columns} if self._columns else {}
        compiled = self.statement.compile(dialect=dialect, **kw)
        assert isinstance(compiled, SQLCompiler)
        binds = compiled.bind_names  # BindParameter -> its name in the SQL
        self._refuse_python_defaults(binds)
        if any(bind.expanding for bind in binds):
            raise ValueError("expanding IN parameters are not supported here")
        dummy = {bind.key: 0 for bind in binds}
        names = list(compiled.construct_params(dummy, escape_names=False))
        escaped = list(compiled.construct_params(dummy, escape_names=True))
        driver_key = dict(zip(names, escaped, strict=True))
        plan_binds: list[tuple[str, str, _Processor | None]] = []
        defaults: dict[str, Any] = {}
        for bind, name in binds.items():
            if not bind.required:
                defaults[bind.key] = bind.effective_value
            impl = bind.type.dialect_impl(dialect)
            processor = _memoized(impl, impl.bind_processor(dialect))
            plan_binds.append((driver_key[name], bind.key, processor))
        return _Plan(compiled.string, tuple(plan_binds), defaults)

    def _refuse_python_defaults(self, binds: Iterable[BindParameter[Any]]) -> None:
        """An INSERT must set every column that has a Python-side default: the driver
        cursor runs no SQLAlchemy execution context to compute it. (The compiler
        renders such a column as an unset, optional parameter named for it.)"""
        if not isinstance(self.statement, Insert):
            return
        table = self.statement.table
        given = set(self._columns)
        missing = [
            bind.key
            for bind in binds
            if not bind.required
            and bind.key in table.c
            and bind.key not in given
            and table.c[bind.key].default is not None
        ]
        if missing:
            raise ValueError(
                f"a prepared statement must set every column itself ({', '.join(missing)})"
            )

    def _describe(self, plan: _Plan, dialect: Dialect, description: Sequence[Any]) -> None:
        columns = list(self.statement.exported_columns)
        processors: list[tuple[int, _Processor]] = []
        for index, (column, described) in enumerate(zip(columns, description, strict=True)):
            impl = column.type.dialect_impl(dialect)
            processor = _memoized(impl, impl.result_processor(dialect, described[1]))
            if processor is not None:
                processors.append((index, processor))
        plan.results = tuple(processors)
        plan.described = True


class Tx:
    """The session's current transaction, driven through its driver connection.

    Creating one flushes the session's pending ORM changes, so the statements run
    here see them, and begins the session's transaction if needed."""

    __slots__ = ("_dbapi", "_echo", "_error", "dialect", "engine", "is_postgresql", "session")

    def __init__(self, session: Session) -> None:
        session.flush()
        connection = session.connection()
        self.session = session
        self.engine = connection.engine
        self.dialect = connection.dialect
        self.is_postgresql = self.dialect.name == "postgresql"
        self._dbapi: Any = connection.connection.dbapi_connection
        self._error: type[Exception] = self.dialect.loaded_dbapi.Error
        self._echo = _ENGINE_LOG.isEnabledFor(logging.INFO)

    def expire_if_loaded(self, entity: type[Any], key: Any, attributes: Sequence[str]) -> None:
        """A statement here changed a row behind the ORM's back: if the session holds
        that row as an object, expire the changed attributes so its next read loads
        them (public `Session.expire`; nothing is written into the identity map)."""
        loaded = self.session.identity_map.get(Session.identity_key(entity, key))
        if loaded is not None:
            self.session.expire(loaded, list(attributes))

    def rows(self, stmt: Prepared, params: Mapping[str, Any] = _NO_PARAMS) -> list[Row]:
        """Run `stmt`; every row it returns (none for a write without RETURNING)."""
        plan = stmt.plan(self.dialect)
        args = _arguments(plan, params)
        if self._echo:
            _ENGINE_LOG.info("[prepared] %s %r", plan.sql, args)
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(plan.sql, args)
            if cursor.description is None:
                return []
            rows: list[Row] = cursor.fetchall()
            if not plan.described:
                stmt._describe(plan, self.dialect, cursor.description)
        except self._error as err:
            raise DBAPIError.instance(
                plan.sql, args, err, self._error, dialect=self.dialect
            ) from err
        finally:
            cursor.close()
        results = plan.results
        if not results:
            return rows
        processed = []
        for row in rows:
            values = list(row)
            for index, processor in results:
                values[index] = processor(values[index])
            processed.append(tuple(values))
        return processed

    def first(self, stmt: Prepared, params: Mapping[str, Any] = _NO_PARAMS) -> Row | None:
        rows = self.rows(stmt, params)
        return rows[0] if rows else None

    def scalar(self, stmt: Prepared, params: Mapping[str, Any] = _NO_PARAMS) -> Any:
        rows = self.rows(stmt, params)
        return rows[0][0] if rows else None

    def scalars(self, stmt: Prepared, params: Mapping[str, Any] = _NO_PARAMS) -> list[Any]:
        return [r[0] for r in self.rows(stmt, params)]

    def execute(self, stmt: Prepared, params: Mapping[str, Any] = _NO_PARAMS) -> int:
        """Run a write without RETURNING; returns the number of rows it matched."""
        plan = stmt.plan(self.dialect)
        args = _arguments(plan, params)
        if self._echo:
            _ENGINE_LOG.info("[prepared] %s %r", plan.sql, args)
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(plan.sql, args)
            count: int = cursor.rowcount
        except self._error as err:
            raise DBAPIError.instance(
                plan.sql, args, err, self._error, dialect=self.dialect
            ) from err
        finally:
            cursor.close()
        return count


def as_tx(db: Session | Tx) -> Tx:
    return db if isinstance(db, Tx) else Tx(db)


def _arguments(plan: _Plan, params: Mapping[str, Any]) -> dict[str, Any]:
    if plan.defaults:
        params = {**plan.defaults, **params}
    try:
        return {k: params[n] if f is None else f(params[n]) for k, n, f in plan.binds}
    except KeyError as missing:
        raise KeyError(f"missing parameter {missing} for: {plan.sql}") from None


def _memoized(impl: TypeEngine[Any], processor: _Processor | None) -> _Processor | None:
    """Date-times are converted with a one-entry memo: one answer writes and reads
    the same `now` several times, and SQLite's conversion to and from text costs
    a few microseconds each time. (Only for immutable values; a JSON dict could
    change between calls.)"""
    if processor is None or not _is_datetime(impl):
        return processor
    convert = processor
    memo: tuple[Any, Any] = (_UNSET, None)

    def memoized(value: Any) -> Any:
        nonlocal memo
        seen, result = memo  # one tuple, replaced whole: safe across threads
        if value is seen or (type(value) is type(seen) and value == seen):
            return result
        result = convert(value)
        memo = (value, result)
        return result

    return memoized


def _is_datetime(impl: TypeEngine[Any]) -> bool:
    inner = impl.impl if isinstance(impl, TypeDecorator) else impl
    return isinstance(inner, DateTime)


_UNSET = object()
