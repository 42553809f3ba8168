"""`hdops export helpful-pairs --aggregate --format csv` on the database a demo day
leaves behind: one row per item, each answered item with a label and a confidence,
and the labels mostly the simulation's hidden truth."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from demo.simulation import DB_FILE, find_example, run_demo, true_labels

SEED = 3


def _app() -> typer.Typer:
    import bots.cli  # noqa: F401  (the composition root adds every command to the app)
    from hdops.cli.main import app

    return app


@pytest.mark.timeout(300)
def test_aggregate_export_after_a_demo_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_demo(SEED, tmp_path / "demo", hours=1.0)
    monkeypatch.setenv("HDOPS_DATABASE_URL", f"sqlite:///{result.out_dir / DB_FILE}")
    out = tmp_path / "aggregate.csv"
    cli = CliRunner().invoke(
        _app(), ["export", "helpful-pairs", "--aggregate", "--format", "csv", "--out", str(out)]
    )
    assert cli.exit_code == 0, cli.output
    assert "items (dawid-skene) of helpful-pairs" in cli.output

    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    figures = result.figures.project
    assert len(rows) == figures.items == 61
    assert len({r["item_id"] for r in rows}) == len(rows)
    assert sum(int(r["answers"]) for r in rows) == figures.answers
    answered = [r for r in rows if int(r["answers"]) > 0]
    assert len(answered) >= 40
    for row in answered:
        assert row["label"] in {"a", "b", "tie"}
        assert 0.0 < float(row["confidence"]) <= 1.0
    for row in rows:
        if int(row["answers"]) == 0:
            assert row["label"] == row["confidence"] == ""

    example = find_example()
    truth = true_labels(example / "items.jsonl", random.Random(f"hdops-demo:{SEED}:truth"))
    right = sum(row["label"] == truth[row["item_id"]] for row in answered)
    assert right / len(answered) >= 0.8
