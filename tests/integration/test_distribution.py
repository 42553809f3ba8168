"""The spread of work on the real store (SQLite, and PostgreSQL with
HDOPS_TEST_DATABASE_URL): answers per contractor, Gini and top-20 % share per
project, all time and per ISO week, worked out by hand from what was built; and
where they are shown (`hdops project show`, `/hdops project status`, the report
figures)."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hdops.cli.main import app
from hdops.domain.distribution import Distribution, gini_fraction
from hdops.services import distribution, reports
from hdops.services.projects import get_project
from hdops.store.db import Store
from hdops.store.orm import Item, Person, Pseudonym
from tests.spread_data import W10, W11
from tests.spread_data import build_spread as _build


def _answers(d: Distribution) -> dict[str, int]:
    return {c.label: c.answers for c in d.contractors}


def test_all_time_and_per_week_by_hand(store: Store) -> None:
    _build(store)
    with store.unit_of_work() as s:
        overall = distribution.project_distribution(s, "helpful-pairs")
        w10 = distribution.project_distribution(s, "helpful-pairs", week=W10)
        w11 = distribution.project_distribution(s, "helpful-pairs", week=W11)
        berlin10 = distribution.project_distribution(
            s, "helpful-pairs", week=W10, tz="Europe/Berlin"
        )

    # Everyone offered a task, most answers first; dave (never offered) is not there,
    # erin (offered, no answer) counts with 0; rejected and other projects' answers don't.
    assert [(c.label, c.answers) for c in overall.contractors] == [
        ("Alice", 5),
        ("Frank", 3),
        ("Bob", 2),
        ("Carol", 1),
        ("Erin", 0),
    ]
    s = overall.spread
    # Sorted ascending 0,1,2,3,5, weights 2i − 6 = −4,−2,0,2,4: −2 + 6 + 20 = 24; 5 · 11.
    assert gini_fraction([5, 3, 2, 1, 0]) == Fraction(24, 55)
    assert s.gini == pytest.approx(24 / 55)
    assert (s.people, s.answers, s.top_count, s.top_answers) == (5, 11, 1, 5)
    assert s.top_share == pytest.approx(5 / 11)
    assert overall.week is None

    assert _answers(w10) == {"Alice": 4, "Bob": 2, "Carol": 1, "Erin": 0}
    # 0,1,2,4 with weights −3,−1,1,3: −1 + 2 + 12 = 13; 4 · 7.
    assert w10.spread.gini == pytest.approx(13 / 28)
    assert (w10.spread.top_count, w10.spread.top_answers, w10.week) == (1, 4, "2026-W10")
    assert _answers(w11) == {"Frank": 3, "Alice": 1}
    assert w11.spread.gini == pytest.approx(1 / 4) and w11.spread.top_share == 0.75
    # Bob's Sunday 23:30 UTC answer is Monday 00:30 in Berlin: next week there.
    assert _answers(berlin10) == {"Alice": 4, "Bob": 1, "Carol": 1, "Erin": 0}


def test_weekly_distributions_cover_every_week_with_work(store: Store) -> None:
    _build(store)
    with store.unit_of_work() as s:
        weeks = distribution.weekly_distributions(s, get_project(s, "helpful-pairs"))
    assert [d.week for d in weeks] == ["2026-W10", "2026-W11"]
    assert sum(d.spread.answers for d in weeks) == 11


def test_pseudonyms_name_nobody_and_stay_put(store: Store) -> None:
    _build(store)
    with store.unit_of_work() as s:
        alice = s.scalars(select(Person).where(Person.name == "alice")).one()
        project_id = s.scalars(select(Item.project_id)).first()
        s.add(Pseudonym(project_id=project_id, person_id=alice.id, alias="rater-001"))
    with store.unit_of_work() as s:
        first = distribution.project_distribution(s, "helpful-pairs", names="pseudonym")
    with store.unit_of_work() as s:
        again = distribution.project_distribution(s, "helpful-pairs", names="pseudonym")
        aliases = s.scalar(select(func.count(Pseudonym.id)))
    labels = [c.label for c in first.contractors]
    assert labels[0] == "rater-001"  # alice kept the alias an export gave her
    assert sorted(labels) == [f"rater-00{i}" for i in range(1, 6)]
    assert not any(name in " ".join(labels).lower() for name in ("alice", "bob", "erin"))
    assert first == again and aliases == 5  # handed out once, for good


def test_report_figures_carry_the_distribution(store: Store) -> None:
    _build(store)
    with store.unit_of_work() as s:
        f = reports.project_figures(s, "helpful-pairs")
        overall = distribution.project_distribution(s, "helpful-pairs")
    assert f.distribution == overall
    assert (f.top_count, f.top_answers) == (1, 5)
    assert [d.week for d in f.weekly] == ["2026-W10", "2026-W11"]


def test_project_show_prints_the_spread(store: Store, db_url: str, monkeypatch: Any) -> None:
    _build(store)
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    runner = CliRunner()
    shown = runner.invoke(app, ["project", "show", "helpful-pairs", "--week", "2026-W10"])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())  # the table wraps long values
    assert "spread 5 contractors · Gini 0.44 · top 20% (1 of 5) gave 45% of 11 answers" in text
    assert "spread 2026-W10 4 contractors · Gini 0.46 · top 20% (1 of 4) gave 57%" in text
    data = json.loads(
        runner.invoke(
            app, ["project", "show", "helpful-pairs", "--json", "--week", "2026-W11"]
        ).stdout
    )
    spread = data["distribution"]
    assert spread["all_time"]["gini"] == round(24 / 55, 4)
    assert spread["all_time"]["answers_per_contractor"][0] == {"name": "Alice", "answers": 5}
    assert spread["week"]["week"] == "2026-W11" and spread["week"]["top_share"] == 0.75
