"""Fixtures shared by the end-to-end demo tests."""

from __future__ import annotations

import pytest

from demo.simulation import DemoResult, run_demo

DEMO_SEEDS = (1, 2, 3, 4, 5)


@pytest.fixture(scope="session")
def demo_days(tmp_path_factory: pytest.TempPathFactory) -> dict[int, DemoResult]:
    """`hdops demo --seed N` for seeds 1-5 as the CLI runs it (the default 8-hour
    day, ending once all work is done): about twenty seconds each, run once for
    every test that reads a whole day (tests/e2e/test_demo_hours.py, test_demo_spread.py)."""
    base = tmp_path_factory.mktemp("demo-days")
    return {seed: run_demo(seed, base / f"seed{seed}") for seed in DEMO_SEEDS}
