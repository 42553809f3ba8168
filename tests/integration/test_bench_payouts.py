"""The payout benchmark still runs (at a tiny scale, on the store under test), and
its raw-writer baseline is honest: it writes the same statements and lines as
`draft_week` from the same data."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ON_POSTGRES, TEST_URL

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_payouts.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_payouts", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def copies(bench: ModuleType) -> Iterator[object]:
    """Fresh copies of one filled week (20 contractors, 2,000 answers)."""
    if ON_POSTGRES:
        server = bench.PgCopies(TEST_URL)
        try:
            bench.fill(server.template_url, 20, 2_000)
            yield server
        finally:
            server.close()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            lite = bench.SqliteCopies(Path(tmp))
            bench.fill(lite.template_url, 20, 2_000)
            yield lite


def test_raw_writer_writes_what_the_draft_writes(bench: ModuleType, copies: object) -> None:
    drafted, written = copies.fresh(), copies.fresh()  # type: ignore[attr-defined]
    _, statements, lines = bench.time_draft(drafted)
    _, raw_statements = bench.time_raw(written)
    assert statements == raw_statements == 20
    totals = bench.totals(drafted)
    assert len(totals) == 20 and all(total > 0 for total in totals.values())
    assert bench.totals(written) == totals
    ledger = bench.ledger(drafted)
    assert len(ledger) == lines
    kinds = {row[10] for row in ledger}
    assert kinds == {"tasks", "rejected", "hours", "adjustment"}  # every kind of line compared
    assert bench.ledger(written) == ledger


def test_payout_benchmark_runs_small(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    if ON_POSTGRES:
        bench.run(20, 2_000, TEST_URL, rounds=1, sqlite=False)
    else:
        bench.run(20, 2_000, None, rounds=1)
    out = capsys.readouterr().out
    assert "bare GROUP BY (reads only)" in out and "raw writer (driver, same writes)" in out
    assert "draft / raw writer" in out and "draft / bare GROUP BY" in out
    assert "20 statements" in out and "0 changed" in out and "20 DMs queued" in out
    assert "raw writer and draft wrote the same 20 statements" in out
