"""Projects and instruction versions on the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hdops.domain.projects import load_project_spec, parse_project_spec
from hdops.errors import Conflict, InvalidInput, NotFound
from hdops.services.projects import (
    create_project,
    current_version,
    get_project,
    list_projects,
    project_summary,
    set_status,
    update_project,
)
from hdops.store.db import Store
from hdops.store.orm import Answer, Assignment, InstructionVersion, Item, Person, Project

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

INSTRUCTIONS_V1 = "# Guide\nPick the more helpful response.\nTies are rare.\n"
INSTRUCTIONS_V2 = (
    "# Guide\nPick the more helpful response.\nTies are rare.\n"
    "A response that complies with a dangerous request always loses.\n"
)


def spec(**changes: Any) -> Any:
    raw: dict[str, Any] = {
        "name": "helpful-pairs",
        "title": "Helpfulness comparisons",
        "task": {"type": "pairwise", "fields": ["prompt", "response_a", "response_b"]},
        "instructions": INSTRUCTIONS_V1,
        "overlap": 3,
        "pay": {"per_task": "0.40", "currency": "USD"},
        "researchers": ["slack:U0RES1"],
    }
    raw.update(changes)
    return parse_project_spec(raw)


def add_answer(store: Store, project_name: str) -> None:
    """One contractor answers one item (rows written directly: this is about projects)."""
    with store.unit_of_work() as s:
        project = get_project(s, project_name)
        person = Person(name="alice", display_name="Alice", created_at=NOW)
        item = Item(
            project_id=project.id,
            external_id="ext-1",
            data={"prompt": "p"},
            gold=None,
            is_gold=False,
            target=3,
            answer_count=1,
            open_slots=2,
            created_at=NOW,
            updated_at=NOW,
        )
        s.add_all([person, item])
        s.flush()
        version = current_version(s, project.id)
        assignment = Assignment(
            item_id=item.id,
            project_id=project.id,
            person_id=person.id,
            status="answered",
            offered_at=NOW,
            leased_until=NOW + timedelta(minutes=20),
            closed_at=NOW,
            instruction_version_id=version.id,
        )
        s.add(assignment)
        s.flush()
        s.add(
            Answer(
                assignment_id=assignment.id,
                item_id=item.id,
                project_id=project.id,
                person_id=person.id,
                answer={"choice": "a"},
                instruction_version_id=version.id,
                seconds_spent=42,
                answered_at=NOW,
                idempotency_key="ev-1",
                pay_rate=Decimal("0.40"),
                currency="USD",
            )
        )


def test_create_project_writes_version_one(store: Store) -> None:
    with store.unit_of_work() as s:
        project = create_project(s, spec())
        assert project.id is not None
    with store.unit_of_work() as s:
        project = get_project(s, "helpful-pairs")
        assert project.title == "Helpfulness comparisons"
        assert project.task_type == "pairwise"
        assert project.status == "active"
        assert project.overlap == 3 and project.max_overlap == 3
        assert project.pay_per_task == Decimal("0.40") and project.currency == "USD"
        assert project.spec["researchers"] == ["slack:U0RES1"]
        assert "instructions" not in project.spec  # the text lives in versions
        version = current_version(s, project.id)
        assert version.version == 1
        assert version.body == INSTRUCTIONS_V1
        summary = project_summary(s, project)
    assert {"name", "items", "answers", "instruction_version", "status"} <= set(summary)
    assert summary["name"] == "helpful-pairs"
    assert summary["items"] == 0 and summary["answers"] == 0
    assert summary["instruction_version"] == 1 and summary["status"] == "active"


def test_every_example_project_can_be_created(store: Store) -> None:
    paths = sorted(EXAMPLES.glob("*/spec.yaml"))
    assert len(paths) >= 4
    with store.unit_of_work() as s:
        for path in paths:
            create_project(s, load_project_spec(path))
    with store.unit_of_work() as s:
        names = [p.name for p in list_projects(s)]
    assert sorted(names) == sorted(p.parent.name for p in paths)
    assert names[0] == "helpful-pairs"  # highest priority first


def test_duplicate_name_is_refused(store: Store) -> None:
    with store.unit_of_work() as s:
        create_project(s, spec())
    with pytest.raises(Conflict, match="already exists"), store.unit_of_work() as s:
        create_project(s, spec(title="Another title"))
    with store.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Project)) == 1
        assert get_project(s, "helpful-pairs").title == "Helpfulness comparisons"


def test_update_with_new_instructions_makes_version_two_with_a_summary(store: Store) -> None:
    with store.unit_of_work() as s:
        create_project(s, spec())
    with store.unit_of_work() as s:
        project, change = update_project(s, spec(instructions=INSTRUCTIONS_V2))
    assert change is not None
    assert change.version == 2
    assert "1 line(s) added" in change.summary
    assert "dangerous request always loses" in change.summary
    with store.unit_of_work() as s:
        project = get_project(s, "helpful-pairs")
        versions = s.scalars(
            select(InstructionVersion)
            .where(InstructionVersion.project_id == project.id)
            .order_by(InstructionVersion.version)
        ).all()
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].body == INSTRUCTIONS_V1  # the old version is kept as it was
        assert versions[1].body == INSTRUCTIONS_V2
        assert versions[1].change_summary == change.summary
        assert project_summary(s, project)["instruction_version"] == 2


def test_update_without_instruction_change_makes_no_version(store: Store) -> None:
    with store.unit_of_work() as s:
        create_project(s, spec())
    with store.unit_of_work() as s:
        _, change = update_project(s, spec(title="Helpfulness, round 2", overlap=5, priority=3))
    assert change is None
    with store.unit_of_work() as s:
        project = get_project(s, "helpful-pairs")
        assert project.title == "Helpfulness, round 2"
        assert project.overlap == 5 and project.priority == 3
        assert current_version(s, project.id).version == 1
        count = s.scalar(select(func.count()).where(InstructionVersion.project_id == project.id))
        assert count == 1


def test_update_of_an_unknown_project(store: Store) -> None:
    with pytest.raises(NotFound), store.unit_of_work() as s:
        update_project(s, spec(name="nobody-made-me"))


def test_task_type_change_without_answers_is_allowed(store: Store) -> None:
    with store.unit_of_work() as s:
        create_project(s, spec())
    rating = {"type": "rating", "fields": ["prompt"], "scale": {"min": 1, "max": 7}}
    with store.unit_of_work() as s:
        project, _ = update_project(s, spec(task=rating))
        assert project.task_type == "rating"


def test_task_type_change_with_answers_is_refused(store: Store) -> None:
    with store.unit_of_work() as s:
        create_project(s, spec())
    add_answer(store, "helpful-pairs")
    rating = {"type": "rating", "fields": ["prompt"], "scale": {"min": 1, "max": 7}}
    with pytest.raises(InvalidInput, match=r"task\.type: cannot change"), store.unit_of_work() as s:
        update_project(s, spec(task=rating, instructions=INSTRUCTIONS_V2))
    with store.unit_of_work() as s:  # nothing was written, not even the new version
        project = get_project(s, "helpful-pairs")
        assert project.task_type == "pairwise"
        assert current_version(s, project.id).version == 1
        assert project_summary(s, project)["answers"] == 1


def test_pause_and_resume(store: Store) -> None:
    with store.unit_of_work() as s:
        create_project(s, spec())
    with store.unit_of_work() as s:
        project = get_project(s, "helpful-pairs")
        assert set_status(s, project, "paused", None) is True
        assert set_status(s, project, "paused", None) is False
    with store.unit_of_work() as s:
        project = get_project(s, "helpful-pairs")
        assert project.status == "paused"
        assert set_status(s, project, "active", None) is True
        with pytest.raises(InvalidInput):
            set_status(s, project, "archived", None)
