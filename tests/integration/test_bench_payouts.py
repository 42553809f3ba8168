"""The payout benchmark still runs (at a tiny scale) and its draft matches the baseline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_payouts.py"


def test_payout_benchmark_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_payouts", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.run(20, 2_000, None)
    out = capsys.readouterr().out
    assert "baseline GROUP BY" in out and "20 statements" in out
    assert "redraft" in out and "(0 changed)" in out and "20 DMs queued" in out
