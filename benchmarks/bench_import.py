"""Benchmark: `hdops items import` against a raw driver `executemany` baseline.

    python benchmarks/bench_import.py [--n 100000] [--pg postgresql+psycopg://…/db]

Generates N pairwise-like items (prompt ~200 chars, two responses ~400 chars,
every 10th item gold) as a JSONL file, then on fresh, migrated databases:

* service: `hdops.services.items.import_items` in one unit of work, exactly what
  the CLI does: read the file, decode and check every line, look ids up, insert
  in chunks. Timed end to end, including the commit.
* raw: the same rows, already in memory as Python dicts, JSON-serialised and
  inserted with the bare driver (`sqlite3` / psycopg) `executemany` in one
  transaction into the same table with the same indexes. This is the floor:
  no file, no validation, no SQLAlchemy.

The ratio service/raw is the price of reading, validating and SQLAlchemy;
the target is within 3x. Measured on the shared development container
(2 vCPUs, Python 3.11, SQLite in WAL mode with synchronous=NORMAL, PostgreSQL
on localhost via psycopg 3), n = 100,000 (109 MB of JSONL), three runs:

    sqlite      service 3.1-3.6 s (28-32k items/s)  raw 1.5-1.8 s (56-67k/s)  1.8-2.4x
    postgresql  service 5.5-5.9 s (17-18k items/s)  raw 2.2-3.4 s (30-46k/s)  1.6-2.7x

Other work ran on the same machine, hence the spread.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hdops.domain.projects import parse_project_spec  # noqa: E402
from hdops.services.items import import_items  # noqa: E402
from hdops.services.projects import create_project  # noqa: E402
from hdops.store.db import Store, normalize_url  # noqa: E402
from hdops.store.imports import find_batch_id  # noqa: E402
from hdops.store.migrate import upgrade  # noqa: E402
from hdops.store.orm import Batch  # noqa: E402

PROJECT = "bench-pairs"
# A small vocabulary; the benchmark measures volume, not language.
VOCABULARY = (
    "the model answer explains why a careful reviewer prefers this response "
    "because it is accurate concise polite grounded and complete"
)
WORDS = tuple(VOCABULARY.split())


def sentence(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    length = 0
    while length < chars:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def make_records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        record: dict[str, Any] = {
            "id": f"ext-{i}",
            "data": {
                "prompt": sentence(rng, 200),
                "response_a": sentence(rng, 400),
                "response_b": sentence(rng, 400),
            },
        }
        if i % 10 == 0:
            record["gold"] = {"choice": rng.choice(("a", "b", "tie"))}
        records.append(record)
    return records


def write_jsonl(records: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")


def prepare(url: str) -> Store:
    """A migrated database with the benchmark project and its batch."""
    store = Store.from_url(url)
    upgrade(store.engine)
    spec = parse_project_spec(
        {
            "name": PROJECT,
            "title": "Benchmark pairs",
            "task": {"type": "pairwise", "fields": ["prompt", "response_a", "response_b"]},
            "overlap": 3,
        }
    )
    with store.unit_of_work() as session:
        project = create_project(session, spec)
        session.add(Batch(project_id=project.id, name="items", created_at=datetime.now(UTC)))
    return store


def time_service(url: str, path: Path) -> tuple[float, int]:
    store = prepare(url)
    try:
        start = time.perf_counter()
        with store.unit_of_work() as session:
            report = import_items(session, PROJECT, path, batch="items")
        elapsed = time.perf_counter() - start
    finally:
        store.dispose()
    return elapsed, report.added


def raw_rows(
    records: list[dict[str, Any]], project_id: int, batch_id: int, now: Any
) -> Iterator[tuple[Any, ...]]:
    for r in records:
        gold = r.get("gold")
        yield (
            project_id,
            batch_id,
            r["id"],
            json.dumps(r["data"]),
            json.dumps(gold) if gold is not None else None,
            gold is not None,
            3,
            0,
            3,
            now,
            now,
        )


INSERT_COLUMNS = (
    "project_id, batch_id, external_id, data, gold, is_gold, target, answer_count, "
    "open_slots, created_at, updated_at"
)


def ids_of(store: Store) -> tuple[int, int]:
    with store.unit_of_work() as session:
        from hdops.services.projects import get_project

        project_id = get_project(session, PROJECT).id
        batch_id = find_batch_id(session, project_id, "items")
    assert batch_id is not None
    return project_id, batch_id


def time_raw_sqlite(url: str, records: list[dict[str, Any]]) -> float:
    store = prepare(url)
    project_id, batch_id = ids_of(store)
    store.dispose()
    path = make_url(url).database
    assert path
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    sql = f"INSERT INTO items ({INSERT_COLUMNS}) VALUES ({', '.join('?' * 11)})"
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.executemany(sql, raw_rows(records, project_id, batch_id, now))
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def time_raw_postgres(url: str, records: list[dict[str, Any]]) -> float:
    import psycopg

    store = prepare(url)
    project_id, batch_id = ids_of(store)
    store.dispose()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    sql = f"INSERT INTO items ({INSERT_COLUMNS}) VALUES ({', '.join(['%s'] * 11)})"
    with psycopg.connect(dsn) as conn:
        start = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(sql, raw_rows(records, project_id, batch_id, datetime.now(UTC)))
        conn.commit()
        elapsed = time.perf_counter() - start
    return elapsed


@contextmanager
def pg_database(base_url: str) -> Iterator[str]:
    """A private, empty database on the server of `base_url`, dropped afterwards."""
    base = make_url(normalize_url(base_url))
    name = f"hdops_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(label: str, n: int, service: float, raw: float) -> None:
    print(
        f"{label:<10} service {service:6.2f} s {n / service:>9,.0f} items/s | "
        f"raw {raw:6.2f} s {n / raw:>9,.0f} items/s | {service / raw:.2f}x"
        f"{'' if service / raw <= 3 else '  (above the 3x target)'}"
    )


def run(n: int, pg: str | None) -> None:
    records = make_records(n)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "items.jsonl"
        write_jsonl(records, path)
        mb = path.stat().st_size / 1e6
        print(f"{n:,} items, {mb:.1f} MB of JSONL")

        service, added = time_service(f"sqlite:///{work / 'service.db'}", path)
        assert added == n, f"imported {added} of {n}"
        raw = time_raw_sqlite(f"sqlite:///{work / 'raw.db'}", records)
        report("sqlite", n, service, raw)

        if pg:
            timings: list[float] = []
            runners: list[Callable[[str], float]] = [
                lambda url: time_service(url, path)[0],
                lambda url: time_raw_postgres(url, records),
            ]
            for runner in runners:
                with pg_database(pg) as url:
                    timings.append(runner(url))
            report("postgresql", n, timings[0], timings[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="number of items")
    parser.add_argument("--pg", help="PostgreSQL URL whose server may host two scratch databases")
    args = parser.parse_args()
    run(args.n, args.pg)


if __name__ == "__main__":
    main()
