"""Many plain rows into one table at once, inside the caller's unit of work.

For writes of thousands of rows whose ids nobody needs back (a week's statement
lines): on PostgreSQL one `COPY … FROM STDIN` on the session's own connection,
so in its transaction; on SQLite one Core `executemany`. An `executemany` on
PostgreSQL sends each row as its own statement (bind, execute, one row-trigger
round), which made writing ten thousand lines cost more than reading a million
answers; `COPY` streams them in one command.

Values go through each column's SQLAlchemy type first (`Money`, `UTCDateTime`),
so what is stored is exactly what an ORM insert would store. Database triggers
and constraints fire for `COPY` as for `INSERT`; ORM flush events do not run
(callers check what those would, see `hdops.services.payouts.drafting`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same keys, the column names) into `table`."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        connection.execute(table.insert(), list(rows))
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    processors: list[Callable[[Any], Any] | None] = [
        column.type.bind_processor(dialect) for column in columns
    ]
    quote = dialect.identifier_preparer.quote
    command = f"COPY {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None  # an open session connection always has one
    driver_error = dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(command) as copy:
            for row in rows:
                copy.write_row(
                    [
                        value if process is None else process(value)
                        for value, process in zip(
                            (row[name] for name in names), processors, strict=True
                        )
                    ]
                )
    except driver_error as err:
        # As SQLAlchemy's own error (a refused write is an IntegrityError), so
        # callers handle it as they handle any statement's.
        raise DBAPIError.instance(command, None, err, driver_error, dialect=dialect) from err
