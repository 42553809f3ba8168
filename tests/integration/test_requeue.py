"""Requeue by instruction version (`hdops items requeue PROJECT
--answered-before-version N`), and the review queue's CLI, end to end on the test
database (SQLite or PostgreSQL)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from hdops.cli.main import app
from hdops.domain.projects import parse_project_spec
from hdops.errors import InvalidInput
from hdops.services.projects import add_instruction_version, update_project
from hdops.services.requeue import requeue_by_version
from hdops.store.db import Store
from hdops.store.orm import Answer, Item, Project
from tests.helpers import T0, add_items, contractor, make_project, spec_dict
from tests.payout_data import answer

_people = itertools.count()


@pytest.fixture
def hdops(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
        return result

    yield run


def _targets(store: Store) -> dict[str, tuple[int, int, int]]:
    """external id → (target, answers, open slots)."""
    with store.unit_of_work() as s:
        return {
            i.external_id: (i.target, i.answer_count, i.open_slots)
            for i in s.scalars(select(Item).order_by(Item.id))
        }


def _answered(s: Any, project: Project, item: Item, n: int, *, status: str = "accepted") -> None:
    for k in range(n):
        person = contractor(s, f"c{next(_people)}")
        answer(s, person, item, T0 + timedelta(minutes=k), status=status)
        if status != "rejected":
            item.answer_count += 1
            item.open_slots -= 1


def _world(store: Store) -> None:
    """overlap 2: `old` answered twice under v1; `mixed` once under v1 and (after v2)
    once under v2; `rejected` only by a rejected answer; `fresh` never; `gold`."""
    with store.unit_of_work() as s:
        p = make_project(s, overlap=2)
        old, mixed, rejected, fresh = add_items(s, p, 4)
        old.external_id, mixed.external_id = "old", "mixed"
        rejected.external_id, fresh.external_id = "rejected", "fresh"
        (gold,) = add_items(s, p, 1, gold={"choice": "a"}, prefix="gold")
        _answered(s, p, old, 2)
        _answered(s, p, mixed, 1)
        _answered(s, p, rejected, 1, status="rejected")
        _answered(s, p, gold, 2)
        add_instruction_version(s, p, body="Prefer the shorter answer on ties.", now=T0)
        _answered(s, p, mixed, 1)  # under v2 (the current version now)
        s.flush()
        assert {a.instruction_version_id for a in s.scalars(select(Answer))} == {1, 2}


def test_items_answered_only_under_older_versions_get_fresh_answers(
    store: Store, hdops: Any
) -> None:
    _world(store)
    before = _targets(store)
    out = hdops("items", "requeue", "helpful-pairs", "--answered-before-version", "2").stdout
    assert out.startswith("1 item(s) of helpful-pairs requeued")
    after = _targets(store)
    assert after["old"] == (4, 2, 2)  # two fresh answers wanted: target = 2 answers + overlap
    for unchanged in ("mixed", "rejected", "fresh", "gold-0"):
        assert after[unchanged] == before[unchanged]
    # Idempotent: asked once, not twice.
    again = hdops("items", "requeue", "helpful-pairs", "--answered-before-version", "2", "--json")
    assert json.loads(again.stdout) == {"project": "helpful-pairs", "requeued": 0}
    assert _targets(store) == after


def test_a_fresh_answer_settles_a_requeued_item_and_later_updates_keep_the_request(
    store: Store,
) -> None:
    _world(store)
    with store.unit_of_work() as s:
        assert requeue_by_version(s, "helpful-pairs", 2, T0) == 1
        # A spec update that leaves the overlap alone keeps what was asked for...
        update_project(s, parse_project_spec(spec_dict(title="Renamed", instructions=_v2())))
    assert _targets(store)["old"] == (4, 2, 2)
    with store.unit_of_work() as s:
        old = s.scalars(select(Item).where(Item.external_id == "old")).one()
        _answered(s, s.get_one(Project, old.project_id), old, 1)  # under v2
        # ...an answer under v2 means it no longer qualifies...
        assert requeue_by_version(s, "helpful-pairs", 2, T0) == 0
        # ...and an overlap change moves every target by as much.
        update_project(s, parse_project_spec(spec_dict(overlap=3, instructions=_v2())))
    targets = _targets(store)
    assert targets["old"] == (5, 3, 2) and targets["fresh"] == (3, 0, 3)


def _v2() -> str:
    return "Prefer the shorter answer on ties."


def test_the_version_must_exist(store: Store, hdops: Any) -> None:
    _world(store)
    with store.unit_of_work() as s:
        with pytest.raises(InvalidInput, match="between 1 and 2"):
            requeue_by_version(s, "helpful-pairs", 3, T0)
        assert requeue_by_version(s, "helpful-pairs", 1, T0) == 0  # nothing is older than v1
    bad = hdops("items", "requeue", "helpful-pairs", "--answered-before-version", "9", code=2)
    assert "between 1 and 2" in bad.stderr


# --------------------------------------------------------------------------- hdops review


def _queue(store: Store) -> list[int]:
    with store.unit_of_work() as s:
        p = make_project(s, overlap=1)
        alice = contractor(s, "alice")
        ids = []
        for i, item in enumerate(add_items(s, p, 3)):
            row = answer(s, alice, item, T0 + timedelta(minutes=i), seconds=2)
            row.status, row.flag_reasons = "flagged", ("fast" if i else "failed,fast")
            item.answer_count, item.open_slots = 1, 0
            ids.append(row.id)
        return ids


def test_review_lists_flagged_answers_with_their_reasons(store: Store, hdops: Any) -> None:
    ids = _queue(store)
    table = hdops("review", "helpful-pairs").stdout
    assert "far faster" in table and "alice" in table
    assert "3 flagged; decide with `hdops review helpful-pairs --accept ID...`" in table
    listed = json.loads(hdops("review", "helpful-pairs", "--json").stdout)
    assert [(r["id"], r["reasons"], r["answer"]) for r in listed] == [
        (ids[0], ["failed", "fast"], "A is better"),
        (ids[1], ["fast"], "A is better"),
        (ids[2], ["fast"], "A is better"),
    ]


def test_review_accepts_and_rejects_in_bulk(store: Store, hdops: Any) -> None:
    ids = _queue(store)
    out = hdops("review", "helpful-pairs", "--accept", str(ids[0]), str(ids[1])).stdout
    assert out.strip() == "2 answer(s) accepted"
    again = hdops("review", "helpful-pairs", "--accept", str(ids[0]), code=2)
    assert f"{ids[0]}: not flagged for review (it is accepted)" in again.stderr
    out = hdops("review", "helpful-pairs", "--reject", "--all", "--reason", "Too fast").stdout
    assert out.strip() == "1 answer(s) rejected; contractors told why, items re-queued"
    assert json.loads(hdops("review", "helpful-pairs", "--json").stdout) == []
    with store.unit_of_work() as s:
        statuses = [s.get_one(Answer, i).status for i in ids]
        item = s.get_one(Item, s.get_one(Answer, ids[2]).item_id)
        assert statuses == ["accepted", "accepted", "rejected"]
        assert (item.answer_count, item.open_slots) == (0, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1",), "--accept or --reject"),
        (("--accept", "--reject", "1"), "not both"),
        (("--accept",), "give the answer ids to decide, or --all"),
        (("--reject", "1"), "--reject needs --reason"),
        (("--accept", "1", "--reason", "x"), "--reason goes with --reject"),
    ],
)
def test_review_usage_errors_change_nothing(
    store: Store, hdops: Any, args: tuple[str, ...], message: str
) -> None:
    _queue(store)
    result = hdops("review", "helpful-pairs", *args, code=2)
    assert message in result.stderr
    assert len(json.loads(hdops("review", "helpful-pairs", "--json").stdout)) == 3
