"""The raw writer: benchmarks/bench_payouts.py's second baseline, a week's first
draft written by hand on the bare driver (sqlite3 / psycopg), no SQLAlchemy.

In one transaction, into the same migrated schema (the ledger triggers and
foreign keys on, so it pays every database-side cost the draft pays), it

* locks the week (`FOR UPDATE` on PostgreSQL; `BEGIN IMMEDIATE` on SQLite, as
  the store does) and checks there is no approved earlier week (it books no
  late-rejection corrections) and no statement of the week yet (first draft);
* reads what a draft needs: the per-(person, currency, project, rate, status)
  aggregate, the week's rejected answers with reason and item, the check-ins
  overlapping the week, the week's adjustments and the project names;
* prices them with the product's pure rules (`hdops.domain.payouts.build_statement`,
  exact `Decimal`; pricing is not what is being compared, the plumbing around it
  is), and
* writes the week row, every statement and every line: `COPY` on PostgreSQL,
  `executemany` on SQLite.

What it leaves out, next to `draft_week`: redrafts (no diff against existing
statements, no disputed lines, no line-id keeping), corrections for answers
rejected after their week was approved, and the rate-history lookup for a
check-in without a rate snapshot (the benchmark's check-ins all have one).
The benchmark checks that both write the same statements and lines.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hdops.domain.payouts import (
    AdjustmentEntry,
    HoursGroup,
    RejectedGroup,
    StatementDraft,
    StatementInputs,
    TaskGroup,
    build_statement,
    clipped_seconds,
)

PAID = ("accepted", "flagged")  # as hdops.services.payouts.drafting.PAID_STATUSES
SCALE = Decimal(10_000)  # SQLite keeps money in 1/10000 units (hdops.store.types.Money)

AGGREGATE = (
    "SELECT person_id, currency, project_id, pay_rate, status, count(*), sum(seconds_spent) "
    "FROM answers WHERE answered_at >= {p} AND answered_at < {p} "
    "GROUP BY person_id, currency, project_id, pay_rate, status"
)
REJECTED = (
    "SELECT a.person_id, a.currency, a.project_id, a.pay_rate, coalesce(a.rejected_reason, ''), "
    "i.external_id FROM answers a JOIN items i ON i.id = a.item_id "
    "WHERE a.answered_at >= {p} AND a.answered_at < {p} AND a.status = 'rejected' ORDER BY a.id"
)
SPANS = (
    "SELECT person_id, started_at, ended_at, hourly_rate, currency FROM time_entries "
    "WHERE started_at < {p} AND (ended_at IS NULL OR ended_at > {p})"
)
ADJUSTMENTS = (
    "SELECT id, person_id, currency, amount, reason FROM adjustments WHERE week = {p} ORDER BY id"
)
STATEMENT_COLUMNS = (
    "person_id, week, currency, total, tasks, seconds_worked, active_seconds, status, created_at"
)
LINE_COLUMNS = (
    "statement_id, position, key, kind, project_id, description, quantity, unit_amount, amount"
)


def price(
    start: datetime,
    end: datetime,
    names: dict[int, str],
    groups: Iterable[Sequence[Any]],
    rejected: Iterable[Sequence[Any]],
    spans: Iterable[tuple[int, datetime, datetime | None, Decimal | None, str]],
    adjustments: Iterable[Sequence[Any]],
) -> dict[tuple[int, str], StatementDraft]:
    """Statements per (person, currency) from rows already read (money as Decimal)."""
    inputs: dict[tuple[int, str], StatementInputs] = {}

    def slot(person: int, currency: str) -> StatementInputs:
        found = inputs.get((person, currency))
        if found is None:
            found = inputs[(person, currency)] = StatementInputs(person, currency)
        return found

    paid: dict[tuple[int, str, int, Decimal], int] = defaultdict(int)
    for person, currency, project, rate, status, count, seconds in groups:
        slot(person, currency).task_seconds += int(seconds)
        if status in PAID:  # accepted and flagged answers at one rate make one line
            paid[(person, currency, project, rate)] += int(count)
    for (person, currency, project, rate), count in paid.items():
        group = TaskGroup(project, names.get(project, "?"), rate, count)
        slot(person, currency).tasks.append(group)
    by_reason: dict[tuple[int, str, int, Decimal, str], list[str]] = defaultdict(list)
    for person, currency, project, rate, reason, item in rejected:
        by_reason[(person, currency, project, rate, reason)].append(item)
    for (person, currency, project, rate, reason), items in by_reason.items():
        slot(person, currency).rejected.append(
            RejectedGroup(project, names.get(project, "?"), rate, reason, tuple(items))
        )
    hours: dict[tuple[int, str, Decimal | None], int] = defaultdict(int)
    for person, started, ended, hourly, currency in spans:
        seconds = clipped_seconds(started, ended, start, end)
        if seconds > 0:
            hours[(person, currency, hourly)] += seconds
    for (person, currency, hourly), seconds in hours.items():
        slot(person, currency).hours.append(HoursGroup(hourly, seconds))
    for adj_id, person, currency, amount, reason in adjustments:
        slot(person, currency).adjustments.append(AdjustmentEntry(adj_id, amount, reason))
    return {key: build_statement(inputs[key]) for key in sorted(inputs)}


def _line_rows(
    drafts: dict[tuple[int, str], StatementDraft], ids: dict[tuple[int, str], int]
) -> Iterable[tuple[Any, ...]]:
    for key, draft in drafts.items():
        for position, line in enumerate(draft.lines, start=1):
            yield (
                ids[key],
                position,
                line.key,
                line.kind,
                line.project_id,
                line.description,
                line.quantity,
                line.unit_amount,
                line.amount,
            )


def write_pg(pg: Any, week: str, start: datetime, end: datetime, now: datetime) -> int:
    """Draft `week` on PostgreSQL through an open psycopg connection (no transaction
    open; it commits); the number of statements written."""
    with pg.cursor() as cur:
        cur.execute("SELECT status FROM payout_weeks WHERE week = %s FOR UPDATE", (week,))
        if cur.fetchone() is not None:
            raise RuntimeError(f"{week} is drafted already; the raw writer writes first drafts")
        cur.execute(
            "SELECT count(*) FROM payout_weeks WHERE status = 'approved' AND week < %s", (week,)
        )
        if cur.fetchone() != (0,):
            raise RuntimeError("an approved earlier week: the raw writer books no corrections")
        names = dict(cur.execute("SELECT id, name FROM projects").fetchall())
        groups = cur.execute(AGGREGATE.format(p="%s"), (start, end)).fetchall()
        rejected = cur.execute(REJECTED.format(p="%s"), (start, end)).fetchall()
        spans = cur.execute(SPANS.format(p="%s"), (end, start)).fetchall()
        adjustments = cur.execute(ADJUSTMENTS.format(p="%s"), (week,)).fetchall()
        drafts = price(start, end, names, groups, rejected, spans, adjustments)
        cur.execute(
            "INSERT INTO payout_weeks (week, status, drafted_at, revision, shown_revision) "
            "VALUES (%s, 'draft', %s, 1, 0)",
            (week, now),
        )
        with cur.copy(f"COPY payout_statements ({STATEMENT_COLUMNS}) FROM STDIN") as copy:
            for (person, currency), d in drafts.items():
                figures = (d.total, d.tasks, d.seconds_worked, d.active_seconds)
                copy.write_row((person, week, currency, *figures, "draft", now))
        cur.execute(
            "SELECT person_id, currency, id FROM payout_statements WHERE week = %s", (week,)
        )
        ids = {(person, currency): sid for person, currency, sid in cur.fetchall()}
        with cur.copy(f"COPY payout_lines ({LINE_COLUMNS}) FROM STDIN") as copy:
            for row in _line_rows(drafts, ids):
                copy.write_row(row)
        pg.commit()
    return len(drafts)


def _money(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value) / SCALE


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _text(when: datetime) -> str:
    """A datetime as the store keeps it on SQLite: naive UTC text."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _scaled(value: Decimal) -> int:
    return int(value.quantize(Decimal("0.0001")) * SCALE)


def connect_sqlite(path: str) -> sqlite3.Connection:
    """A connection set up as the store sets up its own (`hdops.store.db`)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def write_sqlite(
    conn: sqlite3.Connection, week: str, start: datetime, end: datetime, now: datetime
) -> int:
    """Draft `week` on SQLite through a connection from `connect_sqlite`; the
    number of statements written."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute("SELECT 1 FROM payout_weeks WHERE week = ?", (week,)).fetchone():
            raise RuntimeError(f"{week} is drafted already; the raw writer writes first drafts")
        if conn.execute(
            "SELECT 1 FROM payout_weeks WHERE status = 'approved' AND week < ?", (week,)
        ).fetchone():
            raise RuntimeError("an approved earlier week: the raw writer books no corrections")
        names = dict(conn.execute("SELECT id, name FROM projects").fetchall())
        bounds = (_text(start), _text(end))
        groups = [
            (p, c, j, _money(r), s, n, t)
            for p, c, j, r, s, n, t in conn.execute(AGGREGATE.format(p="?"), bounds)
        ]
        rejected = [
            (p, c, j, _money(r), reason, item)
            for p, c, j, r, reason, item in conn.execute(REJECTED.format(p="?"), bounds)
        ]
        spans = [
            (p, _when(a), _when(b), _money(r), c)
            for p, a, b, r, c in conn.execute(SPANS.format(p="?"), bounds[::-1])
        ]
        adjustments = [
            (i, p, c, _money(a), reason)
            for i, p, c, a, reason in conn.execute(ADJUSTMENTS.format(p="?"), (week,))
        ]
        drafts = price(start, end, names, groups, rejected, spans, adjustments)  # type: ignore[arg-type]
        conn.execute(
            "INSERT INTO payout_weeks (week, status, drafted_at, revision, shown_revision) "
            "VALUES (?, 'draft', ?, 1, 0)",
            (week, _text(now)),
        )
        ids: dict[tuple[int, str], int] = {}
        for (person, currency), d in drafts.items():
            rest = (d.active_seconds, _text(now))
            cur = conn.execute(
                f"INSERT INTO payout_statements ({STATEMENT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?)",
                (person, week, currency, _scaled(d.total), d.tasks, d.seconds_worked, *rest),
            )
            assert cur.lastrowid is not None
            ids[(person, currency)] = cur.lastrowid
        conn.executemany(
            f"INSERT INTO payout_lines ({LINE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (*row[:6], _scaled(row[6]), _scaled(row[7]), _scaled(row[8]))
                for row in _line_rows(drafts, ids)
            ),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(drafts)
