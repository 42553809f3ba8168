"""Benchmark: drafting a payout week, against two baselines that say different things.

    python benchmarks/bench_payouts.py [--contractors 1000] [--answers 1000000]
        [--rounds 5] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-sqlite]

Fills a migrated database once per store with one ISO week of work: N
contractors, M answers over 5 projects at different per-task rates (1% rejected
with a reason, each rejection in the audit log as `reject_answer` records it),
check-ins for a third of the contractors and a few adjustments, all with the
bare driver (not timed; PostgreSQL is then VACUUM ANALYZEd). On PostgreSQL the
filled database and every copy are scratch databases on the given server, all
dropped at the end whatever happens. Then, timed:

* **bare GROUP BY** (the first baseline, a floor, not a fair comparison): the one
  aggregate the draft cannot do without, `SELECT person, currency, project,
  rate, status, count(*), sum(seconds) FROM answers WHERE answered_at in the
  week GROUP BY …` on the driver, fetched. It leaves out everything else a draft
  does: the rejected answers with their reasons, check-ins, adjustments,
  pricing, and every write with its triggers and commit.
* **raw writer** (the second baseline, the fair one: benchmarks/raw_payout_writer.py):
  the same job by hand on the bare driver (sqlite3 / psycopg), no SQLAlchemy —
  in one transaction it locks the week, reads the aggregate, the rejected
  answers with reason and item, check-ins and adjustments, prices them in
  `Decimal` with the product's pure rules, and writes the week row, every
  statement and every line (`COPY` on PostgreSQL) into the same schema, ledger
  triggers and foreign keys on, so it pays the same database-side costs. It
  leaves out: redrafting (diffing, disputed lines, keeping line ids),
  corrections for answers rejected after their week was approved, the
  rate-history lookup for a check-in without a rate snapshot, and the ORM
  flush guards. After every round the benchmark checks that the raw writer
  and the draft stored the same statements and lines, or fails.
* **draft_week**: `hdops.services.payouts.draft_week` in one unit of work,
  commit included;
* **redraft**: the same again with nothing new (the Monday job run twice);
* **weekly job**: `run_weekly_payouts` on a fresh copy — draft, the ops summary
  with its chart and one statement DM per contractor queued (reported, no target).

Interleaved, under the same machine load: each round makes two fresh copies
of the filled database (a file copy; `CREATE DATABASE … TEMPLATE`), warms both
with the same untimed read of answers and items, then times the GROUP BY,
the draft and the redraft on one and the raw writer on the other, draft and
raw writer taking turns to go first. Both connect before the clock starts (a
long-running process drafts on a warm engine; SQLAlchemy still compiles each
statement once per engine, inside the clock). Reported: each run, the median
per kind, and the ratios of the medians.

Targets: the draft within 2x of the raw writer on both stores; on SQLite also
within 2x of the GROUP BY and under 5 s. Measured on the shared development
container (2 vCPUs, other engineers' work running; load average 1.5-2.1 during
the run), 1,000 contractors and 1,000,000 answers (9,339 groups, 1,000
statements, 9,773 lines), 5 rounds:

    sqlite      GROUP BY 2.73 s   raw writer 2.90 s   draft 3.28 s   redraft 3.39 s
                draft / raw writer 1.13x   draft / GROUP BY 1.20x   weekly job 6.38 s
    postgresql  GROUP BY 0.33 s   raw writer 0.88 s   draft 1.17 s   redraft 1.23 s
                draft / raw writer 1.33x   draft / GROUP BY 3.48x   weekly job 5.19 s

Before (issue 15 point 7; the same interleaved rounds, 3 of them, load 2-3, and
both connecting inside the clock then, 0.01-0.05 s): on PostgreSQL the
raw writer took 1.11 s and the draft 3.09 s, 2.78x (and the draft 6-10x the
GROUP BY). The draft then flushed a thousand ORM statements and sent its ten
thousand lines as one `executemany` — a bind and execute per row, each row
through a PL/pgSQL row trigger — and found rejected answers with a dozen
900-id `IN` queries. Now new statements and lines go in with `COPY`
(`hdops.store.bulk`), rejected answers with one array query, and the ledger
guards on statements and lines run once per statement (migration 0012).
SQLite was not slowed: the old and new draft, interleaved on copies, took
3.50-3.92 s and 3.15-3.65 s. On PostgreSQL the GROUP BY is a parallel
aggregate, so the draft's remaining multiple of it is its reads of rejected
answers and the writes the raw writer shares.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import raw_payout_writer  # noqa: E402

from hdops.config import Settings  # noqa: E402
from hdops.domain.projects import parse_project_spec  # noqa: E402
from hdops.domain.weeks import IsoWeek  # noqa: E402
from hdops.services import payouts  # noqa: E402
from hdops.services.projects import create_project  # noqa: E402
from hdops.store.db import Store, normalize_url  # noqa: E402
from hdops.store.migrate import upgrade  # noqa: E402

WEEK = IsoWeek(2026, 10)
SETTINGS = Settings(database_url="sqlite://", ops_tz="UTC")
RATES = ("0.40", "0.55", "0.3333", "1.25", "0.07")
OVERLAP = 5
BASELINE_SQL = (
    "SELECT person_id, currency, project_id, pay_rate, status, count(*), sum(seconds_spent) "
    "FROM answers WHERE answered_at >= {p} AND answered_at < {p} "
    "GROUP BY person_id, currency, project_id, pay_rate, status"
)


def _spec(i: int, rate: str) -> dict[str, Any]:
    return {
        "name": f"bench-{i}",
        "title": f"Bench {i}",
        "task": {"type": "pairwise", "fields": ["prompt", "response_a", "response_b"]},
        "instructions": "Pick one.",
        "overlap": OVERLAP,
        "max_overlap": OVERLAP,
        "lease_minutes": 20,
        "pay": {"per_task": rate, "currency": "USD"},
        "researchers": [],
    }


def _ts(when: datetime, sqlite: bool) -> Any:
    """A datetime as the store keeps it (naive UTC text on SQLite)."""
    return when.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else when


def _money(value: Decimal, sqlite: bool) -> Any:
    """Money as the store keeps it (1/10000 units on SQLite, NUMERIC on PostgreSQL)."""
    return int(value * 10_000) if sqlite else value


def fill(url: str, contractors: int, answers: int, seed: int = 11) -> None:
    """Create the week's data: projects through the service, the bulk with the driver."""
    store = Store.from_url(url)
    upgrade(store.engine)
    with store.unit_of_work() as s:
        projects = [create_project(s, parse_project_spec(_spec(i, r))) for i, r in enumerate(RATES)]
        info = [
            (p.id, Decimal(r), p.instruction_versions[0].id)
            for p, r in zip(projects, RATES, strict=True)
        ]
    sqlite = store.dialect == "sqlite"
    store.dispose()
    rng = random.Random(seed)
    start = WEEK.start("UTC")
    now = _ts(start, sqlite)
    people = [(i, f"c{i:05d}", f"Contractor {i}", "UTC", now) for i in range(1, contractors + 1)]
    items: list[tuple[Any, ...]] = []
    assignments: list[tuple[Any, ...]] = []
    rows: list[tuple[Any, ...]] = []
    n_items = -(-answers // OVERLAP)
    for item_id in range(1, n_items + 1):
        project_id, _, version = info[item_id % len(info)]
        items.append((item_id, project_id, f"it-{item_id}", "{}", 0, OVERLAP, OVERLAP, 0, now, now))
    answer_id = 0
    for item_id in range(1, n_items + 1):
        project_id, rate, version = info[item_id % len(info)]
        for person in rng.sample(range(1, contractors + 1), OVERLAP):
            answer_id += 1
            if answer_id > answers:
                break
            at = start + timedelta(seconds=rng.randrange(7 * 24 * 3600))
            rejected = rng.random() < 0.01
            assignments.append(
                (
                    answer_id,
                    item_id,
                    project_id,
                    person,
                    "answered",
                    _ts(at, sqlite),
                    _ts(at, sqlite),
                    _ts(at, sqlite),
                    version,
                    0,
                )
            )
            rows.append(
                (
                    answer_id,
                    answer_id,
                    item_id,
                    project_id,
                    person,
                    '{"choice": "a"}',
                    version,
                    rng.randrange(20, 180),
                    _ts(at, sqlite),
                    f"bench-{answer_id}",
                    "rejected" if rejected else "accepted",
                    "did not follow the rubric" if rejected else None,
                    _ts(at, sqlite) if rejected else None,
                    _money(rate, sqlite),
                    "USD",
                )
            )
    # reject_answer records every rejection in the audit log, as here
    audit = [(r[12], "answer.reject", f"answer:{r[0]}", "{}") for r in rows if r[10] == "rejected"]
    entries = []
    for person in range(1, contractors + 1, 3):
        for day in range(5):
            begin = start + timedelta(days=day, hours=9)
            entries.append(
                (
                    person,
                    _ts(begin, sqlite),
                    _ts(begin + timedelta(hours=4), sqlite),
                    _money(Decimal("15.50"), sqlite),
                    "USD",
                    0,
                )
            )
    adjustments = [
        (person, str(WEEK), _money(Decimal("12.50"), sqlite), "USD", "weekend bonus", now)
        for person in range(1, contractors + 1, 10)
    ]
    sql = {
        "persons": "INSERT INTO persons (id, name, display_name, tz, created_at) VALUES ({})",
        "items": "INSERT INTO items (id, project_id, external_id, data, is_gold, target, "
        "open_slots, answer_count, created_at, updated_at) VALUES ({})",
        "assignments": "INSERT INTO assignments (id, item_id, project_id, person_id, status, "
        "offered_at, leased_until, closed_at, instruction_version_id, paused_seconds) "
        "VALUES ({})",
        "answers": "INSERT INTO answers (id, assignment_id, item_id, project_id, person_id, "
        "answer, instruction_version_id, seconds_spent, answered_at, idempotency_key, status, "
        "rejected_reason, rejected_at, pay_rate, currency) VALUES ({})",
        "time_entries": "INSERT INTO time_entries (person_id, started_at, ended_at, hourly_rate, "
        "currency, auto_closed) VALUES ({})",
        "adjustments": "INSERT INTO adjustments (person_id, week, amount, currency, reason, "
        "created_at) VALUES ({})",
        "audit_log": "INSERT INTO audit_log (at, action, subject, details) VALUES ({})",
    }
    data = {
        "persons": people,
        "items": items,
        "assignments": assignments,
        "answers": rows,
        "time_entries": entries,
        "adjustments": adjustments,
        "audit_log": audit,
    }
    if sqlite:
        conn = sqlite3.connect(make_url(url).database or "")
        for table, statement in sql.items():
            width = len(data[table][0])
            conn.executemany(statement.format(", ".join("?" * width)), data[table])
        conn.commit()
        conn.execute("ANALYZE")
        conn.close()
        return
    import psycopg

    dsn = make_url(normalize_url(url)).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as pg, pg.cursor() as cur:
        for table, statement in sql.items():
            columns = statement.split("(", 1)[1].split(")", 1)[0]
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in data[table]:
                    copy.write_row(row)
        for table in ("persons", "items", "assignments", "answers"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        pg.commit()
        pg.autocommit = True
        cur.execute("VACUUM ANALYZE")  # hint bits set now, not on the first timed read


def _sqlite_path(url: str) -> str:
    return make_url(url).database or ""


def _dsn(url: str) -> str:
    return make_url(normalize_url(url)).set(drivername="postgresql").render_as_string(False)


def _read(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query on the bare driver (`?` placeholders; `%s` on PostgreSQL)."""
    if make_url(url).get_backend_name() == "sqlite":
        conn = sqlite3.connect(_sqlite_path(url))
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(_dsn(url)) as pg:
        return [tuple(r) for r in pg.execute(sql.replace("?", "%s"), params).fetchall()]


def warm(url: str) -> None:
    """Read what every timed run reads, untimed, so a fresh copy starts cached."""
    _read(url, "SELECT count(*), sum(seconds_spent) FROM answers")
    _read(url, "SELECT count(*) FROM items")


def time_baseline(url: str) -> tuple[float, int]:
    """The bare GROUP BY, fetched on the driver: (seconds, groups)."""
    start_at, end_at = WEEK.start("UTC"), WEEK.end("UTC")
    sqlite = make_url(url).get_backend_name() == "sqlite"
    t0 = time.perf_counter()
    rows = _read(url, BASELINE_SQL.format(p="?"), (_ts(start_at, sqlite), _ts(end_at, sqlite)))
    return time.perf_counter() - t0, len(rows)


def time_raw(url: str) -> tuple[float, int]:
    """The raw writer (benchmarks/raw_payout_writer.py): (seconds, statements).
    Connected before the clock starts, as the draft's engine is."""
    start, end = WEEK.start("UTC"), WEEK.end("UTC")
    now = end + timedelta(hours=9)
    if make_url(url).get_backend_name() == "sqlite":
        conn = raw_payout_writer.connect_sqlite(_sqlite_path(url))
        try:
            t0 = time.perf_counter()
            n = raw_payout_writer.write_sqlite(conn, str(WEEK), start, end, now)
            return time.perf_counter() - t0, n
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(_dsn(url)) as pg:
        t0 = time.perf_counter()
        n = raw_payout_writer.write_pg(pg, str(WEEK), start, end, now)
        return time.perf_counter() - t0, n


def _connected(url: str) -> Store:
    """A store whose pool holds one connection already (the dialect set up): a
    long-running process drafts on a warm engine. Statements still compile on
    first use, as they do once per process."""
    store = Store.from_url(url)
    store.engine.connect().close()
    return store


def time_draft(url: str) -> tuple[float, int, int]:
    """`draft_week` in one unit of work, commit included: (seconds, statements, lines)."""
    store = _connected(url)
    now = WEEK.end("UTC") + timedelta(hours=9)
    try:
        t0 = time.perf_counter()
        with store.unit_of_work() as s:
            result = payouts.draft_week(s, WEEK, now, SETTINGS)
        elapsed = time.perf_counter() - t0
        with store.unit_of_work() as s:
            lines = sum(
                len(st.lines) for st in payouts.week_view(s, WEEK, now, SETTINGS).statements
            )
    finally:
        store.dispose()
    return elapsed, len(result.created) + len(result.changed), lines


def time_job(url: str) -> tuple[float, int]:
    store = _connected(url)
    now = WEEK.end("UTC") + timedelta(hours=9)
    try:
        t0 = time.perf_counter()
        with store.unit_of_work() as s:
            run = payouts.run_weekly_payouts(s, now, SETTINGS)
        elapsed = time.perf_counter() - t0
    finally:
        store.dispose()
    return elapsed, run.dms_queued


LEDGER_SQL = (
    "SELECT s.person_id, s.currency, s.week, s.status, s.total, s.tasks, s.seconds_worked, "
    "s.active_seconds, l.position, l.key, l.kind, l.project_id, l.description, l.quantity, "
    "l.unit_amount, l.amount FROM payout_statements s "
    "JOIN payout_lines l ON l.statement_id = s.id ORDER BY s.person_id, s.currency, l.position"
)


def ledger(url: str) -> list[tuple[Any, ...]]:
    """Every statement with its lines as stored (ids aside): what two writers must agree on."""
    return _read(url, LEDGER_SQL)


def totals(url: str) -> dict[tuple[int, str], Any]:
    """The stored total per (contractor, currency)."""
    rows = _read(url, "SELECT person_id, currency, total FROM payout_statements")
    return {(person, currency): total for person, currency, total in rows}


class SqliteCopies:
    """Fresh copies of one filled SQLite file."""

    label = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"
        self.count = 0

    @property
    def template_url(self) -> str:
        return f"sqlite:///{self.template}"

    def fresh(self) -> str:
        self.count += 1
        path = self.directory / f"copy{self.count}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def discard(self, url: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(_sqlite_path(url) + suffix).unlink(missing_ok=True)


class PgCopies:
    """Fresh copies (`CREATE DATABASE … TEMPLATE`) of one filled scratch database;
    every database made here is dropped by `close`, whatever happened."""

    label = "postgresql"

    def __init__(self, base_url: str) -> None:
        self.base = make_url(normalize_url(base_url))
        self.prefix = f"hdops_bench_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []
        self.template_url = self._create(f"{self.prefix}_template", None)

    def _create(self, name: str, template: str | None) -> str:
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.made.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def fresh(self) -> str:
        return self._create(f"{self.prefix}_{len(self.made)}", f"{self.prefix}_template")

    def discard(self, url: str) -> None:
        name = make_url(url).database or ""
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.made.remove(name)

    def close(self) -> None:
        try:
            with self.admin.connect() as conn:
                for name in reversed(self.made):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.made.clear()
        finally:
            self.admin.dispose()


def _median(values: list[float]) -> float:
    return statistics.median(values)


def measure(copies: SqliteCopies | PgCopies, rounds: int, job: bool) -> dict[str, float]:
    """Interleaved runs: per round two fresh copies, warmed alike; the bare GROUP BY
    and `draft_week` (then a redraft) on one, the raw writer on the other, draft and
    raw writer taking turns to go first. Then both copies must hold the same ledger."""
    runs: dict[str, list[float]] = {"baseline": [], "raw": [], "draft": [], "redraft": []}
    groups = statements = lines = changed = 0
    for r in range(rounds):
        a, b = copies.fresh(), copies.fresh()
        try:
            warm(a)
            warm(b)
            elapsed, groups = time_baseline(a)
            runs["baseline"].append(elapsed)
            for kind in ("draft", "raw") if r % 2 == 0 else ("raw", "draft"):
                if kind == "draft":
                    elapsed, statements, lines = time_draft(a)
                else:
                    elapsed, raw_statements = time_raw(b)
                runs[kind].append(elapsed)
            elapsed, changed, _ = time_draft(a)
            runs["redraft"].append(elapsed)
            drafted, written = ledger(a), ledger(b)
            if drafted != written or raw_statements != statements:
                diff = next((x, y) for x, y in zip(drafted, written, strict=False) if x != y)
                raise AssertionError(f"the raw writer and the draft disagree: {diff}")
        finally:
            copies.discard(a)
            copies.discard(b)
    m = {kind: _median(values) for kind, values in runs.items()}
    vs_raw, vs_group = m["draft"] / m["raw"], m["draft"] / m["baseline"]

    def row(label: str, kind: str, note: str) -> None:
        shown = " ".join(f"{v:.2f}" for v in runs[kind])
        print(f"  {label:<36} {m[kind]:6.2f} s   [{shown}]  {note}")

    print(f"{copies.label}: medians of {rounds} interleaved rounds, each on fresh copies [runs]")
    row("bare GROUP BY (reads only)", "baseline", f"{groups:,} groups")
    row("raw writer (driver, same writes)", "raw", f"{statements:,} statements")
    row("draft_week", "draft", f"{statements:,} statements, {lines:,} lines")
    row("redraft, nothing new", "redraft", f"{changed} changed")
    verdict = "ok" if vs_raw <= 2 else "ABOVE TARGET"
    print(f"  draft / raw writer      {vs_raw:5.2f}x  (target: within 2x) {verdict}")
    if copies.label == "sqlite":
        ok = vs_group <= 2 and m["draft"] < 5
        note = f"(SQLite target: within 2x and draft under 5 s) {'ok' if ok else 'ABOVE TARGET'}"
    else:
        note = "(no target: the writes are the draft's work)"
    print(f"  draft / bare GROUP BY   {vs_group:5.2f}x  {note}")
    print(f"  raw writer and draft wrote the same {statements:,} statements and {lines:,} lines")
    if job:
        c = copies.fresh()
        try:
            warm(c)
            m["job"], dms = time_job(c)
        finally:
            copies.discard(c)
        print(f"  weekly job (draft + summary + chart + {dms:,} DMs queued) {m['job']:6.2f} s")
    return m


def run(
    contractors: int,
    answers: int,
    pg: str | None,
    *,
    rounds: int = 5,
    sqlite: bool = True,
    job: bool = True,
) -> dict[str, dict[str, float]]:
    """Fill each store once, then measure on fresh copies; medians per store."""
    print(f"one week: {contractors:,} contractors, {answers:,} answers, {len(RATES)} projects")
    results: dict[str, dict[str, float]] = {}
    if sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            lite = SqliteCopies(Path(tmp))
            t0 = time.perf_counter()
            fill(lite.template_url, contractors, answers)
            print(f"(filled SQLite in {time.perf_counter() - t0:.1f} s)")
            results["sqlite"] = measure(lite, rounds, job)
    if pg:
        server = PgCopies(pg)
        try:
            t0 = time.perf_counter()
            fill(server.template_url, contractors, answers)
            print(f"(filled PostgreSQL in {time.perf_counter() - t0:.1f} s)")
            results["postgresql"] = measure(server, rounds, job)
        finally:
            server.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contractors", type=int, default=1000)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--pg", help="PostgreSQL URL whose server may host scratch databases")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    run(args.contractors, args.answers, args.pg, rounds=args.rounds, sqlite=not args.no_sqlite)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
