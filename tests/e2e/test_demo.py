"""`hdops demo`: a simulated day through the real engine, reported from the database.

The runs use a shorter simulated day than the default so the module stays fast;
they are shared between the tests of this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from demo.simulation import DemoResult, run_demo
from hdops.store.db import Store
from hdops.store.orm import Answer, Clarification

HOURS = 1.0  # of simulated time: enough for answers, questions and replies


@dataclass
class Runs:
    first: DemoResult
    again: DemoResult  # same seed
    other: DemoResult  # another seed


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("demo")
    return Runs(
        run_demo(3, base / "seed3", hours=HOURS),
        run_demo(3, base / "seed3-again", hours=HOURS),
        run_demo(4, base / "seed4", hours=HOURS),
    )


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_the_demo_writes_its_files(runs: Runs) -> None:
    out = runs.first.out_dir
    for name in ("answers.jsonl", "answers.csv", "transcript.txt", "report.txt", "hdops-demo.db"):
        assert (out / name).is_file(), name
    assert (out / "report.txt").read_text(encoding="utf-8") == runs.first.report_text


def test_report_figures_agree_with_the_database_and_exports(runs: Runs) -> None:
    result = runs.first
    fig = result.figures.project
    rows = _jsonl(result.out_dir / "answers.jsonl")
    csv_lines = (result.out_dir / "answers.csv").read_text(encoding="utf-8").splitlines()
    assert fig.answers > 0
    assert fig.answers == len(rows) == len(csv_lines) - 1
    assert sum(c.answers for c in fig.contractors) == fig.answers
    assert len(fig.contractors) == 8
    assert 0 <= fig.items_completed <= fig.items == 61
    for c in fig.contractors:
        assert c.gold_correct <= c.gold_answered
        if c.gold_accuracy is not None:
            assert 0.0 <= c.gold_accuracy <= 1.0
    gold_rows = [r for r in rows if r["gold_correct"] is not None]
    assert len(gold_rows) == sum(c.gold_answered for c in fig.contractors)
    assert sum(1 for r in gold_rows if r["gold_correct"]) == sum(
        c.gold_correct for c in fig.contractors
    )
    top = sorted((c.answers for c in fig.contractors), reverse=True)[: fig.top_count]
    assert fig.top_count == 2 and fig.top_answers == sum(top)
    assert 0 < fig.top_share <= 1

    clar = fig.clarifications
    assert clar.asked >= 1 and clar.answered >= 1
    assert clar.answered <= clar.asked
    assert len(clar.first_answer_seconds) == clar.answered
    assert all(s >= 0 for s in clar.first_answer_seconds)

    store = Store.from_url(f"sqlite:///{result.out_dir / 'hdops-demo.db'}")
    try:
        with store.unit_of_work() as s:
            assert s.scalar(select(func.count(Answer.id))) == fig.answers
            assert s.scalar(select(func.count(Clarification.id))) == clar.asked
            answered = s.scalar(
                select(func.count(Clarification.id)).where(
                    Clarification.first_answered_at.is_not(None)
                )
            )
            assert answered == clar.answered
    finally:
        store.dispose()

    text = result.report_text
    assert f"{fig.items_completed} / 61" in text
    assert f"{fig.answers} accepted" in text
    assert "Share of answers from the top 20% of contractors (2 of 8)" in text
    assert "Time to first answer" in text
    # quality, from the product's quality service: alpha and each contractor's record
    quality = result.figures.quality
    assert quality is not None and quality.agreement.primary is not None
    flat = " ".join(text.split())
    assert f"Krippendorff's alpha {quality.agreement.primary:.3f}" in flat
    assert "labels by dawid-skene" in flat
    assert all(r.display_name in text for r in quality.raters)


def test_same_seed_same_report_and_transcript(runs: Runs) -> None:
    assert runs.first.report_text == runs.again.report_text
    first = (runs.first.out_dir / "transcript.txt").read_text(encoding="utf-8")
    again = (runs.again.out_dir / "transcript.txt").read_text(encoding="utf-8")
    assert first == again
    assert _jsonl(runs.first.out_dir / "answers.jsonl") == _jsonl(
        runs.again.out_dir / "answers.jsonl"
    )


def test_another_seed_gives_other_numbers(runs: Runs) -> None:
    assert runs.other.report_text != runs.first.report_text
    a, b = runs.first.figures.project, runs.other.figures.project
    assert (
        [c.answers for c in a.contractors],
        a.answers,
        a.clarifications.first_answer_seconds,
    ) != ([c.answers for c in b.contractors], b.answers, b.clarifications.first_answer_seconds)


def test_the_transcript_shows_questions_going_both_ways(runs: Runs) -> None:
    transcript = (runs.first.out_dir / "transcript.txt").read_text(encoding="utf-8")
    lines = transcript.splitlines()
    # A researcher replies in the clarification thread ...
    assert any(
        "→ clarifications (thread" in line and (" rita →" in line or " sam →" in line)
        for line in lines
    )
    # ... and the bot relays it into the contractor's task thread.
    relayed = [
        line
        for line in lines
        if "bot → dm-" in line and "(thread" in line and "(researcher):" in line
    ]
    assert relayed
    assert "presses [Ask a question]" in transcript
    assert "Question #1 — Helpfulness comparisons" in transcript


def _app() -> typer.Typer:
    import bots.cli  # noqa: F401  (the composition root adds `demo` to the app)
    from hdops.cli.main import app

    return app


def test_cli_demo_prints_the_report(tmp_path: Path) -> None:
    app = _app()
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["demo", "--seed", "5", "--out", str(out), "--hours", "0.5"])
    assert result.exit_code == 0, result.output
    assert "hdops demo — seed 5" in result.output
    assert "Share of answers from the top 20% of contractors" in result.output
    assert (out / "report.txt").is_file() and (out / "transcript.txt").is_file()


def test_cli_demo_help() -> None:
    app = _app()
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0
    assert "--seed" in result.output and "--out" in result.output
