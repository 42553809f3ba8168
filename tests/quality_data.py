"""Small quality scenarios built straight into the store, shared by the quality
report and aggregate export tests: a pairwise project with gold, two batches, two
instruction versions, a rejected, a flagged and a skipped task and two questions;
and a rating project where one rater is lenient and one severe."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hdops.services.items import import_items
from hdops.services.projects import add_instruction_version, current_version, get_project
from hdops.store.orm import Answer, Assignment, Clarification, Item, Person
from tests.helpers import T0, contractor, make_project

_keys = count(1)


@dataclass
class Built:
    """Who was built, by name."""

    people: dict[str, Person] = field(default_factory=dict)


def import_file(
    session: Session, tmp_path: Path, project: str, batch: str, items: list[dict[str, Any]]
) -> None:
    path = tmp_path / f"{project}-{batch}.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    import_items(session, project, path, batch=batch)


def give(
    session: Session,
    person: Person,
    project: str,
    external_id: str,
    value: dict[str, Any],
    *,
    status: str = "accepted",
    seconds: int = 30,
    gold_correct: bool | None = None,
    assignment_status: str = "answered",
) -> None:
    """An answer stored as the answer engine stores it (assignment + answer), under
    the project's current instruction version; `assignment_status="skipped"` makes
    it a skip instead (no answer row)."""
    proj = get_project(session, project)
    item = session.query(Item).filter_by(project_id=proj.id, external_id=external_id).one()
    version = current_version(session, proj.id)
    at = T0 + timedelta(minutes=next(_keys))
    assignment = Assignment(
        item_id=item.id,
        project_id=proj.id,
        person_id=person.id,
        status=assignment_status,
        offered_at=at,
        leased_until=at,
        closed_at=at,
        instruction_version_id=version.id,
    )
    session.add(assignment)
    session.flush()
    if assignment_status != "answered":
        return
    session.add(
        Answer(
            assignment_id=assignment.id,
            item_id=item.id,
            project_id=proj.id,
            person_id=person.id,
            answer=value,
            instruction_version_id=version.id,
            seconds_spent=seconds,
            answered_at=at,
            idempotency_key=f"quality-{next(_keys)}",
            gold_correct=gold_correct,
            status=status,
            pay_rate=proj.pay_per_task,
            currency=proj.currency,
        )
    )
    session.flush()


def pair(external_id: str, gold: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": external_id,
        "data": {"prompt": "p", "response_a": "a", "response_b": "b"},
    }
    if gold is not None:
        record["gold"] = {"choice": gold}
    return record


# The pairwise project, answer by answer: (item, rater, choice, seconds).
# Version 1 answers, then version 2 answers.
V1 = [
    ("p-1", "ann", "a", 20), ("p-1", "bo", "a", 40), ("p-1", "cy", "b", 60),
    ("p-2", "ann", "b", 22), ("p-2", "bo", "b", 44), ("p-2", "cy", "b", 66),
    ("p-3", "ann", "a", 24), ("p-3", "bo", "tie", 48), ("p-3", "cy", "a", 72),
    ("g-1", "ann", "a", 26), ("g-1", "bo", "b", 50), ("g-1", "cy", "a", 80),
    ("g-2", "ann", "b", 28), ("g-2", "cy", "a", 90),
]  # fmt: skip
V2 = [
    ("p-4", "ann", "a", 30), ("p-4", "bo", "a", 52), ("p-4", "cy", "a", 100),
    ("p-5", "ann", "b", 32), ("p-5", "bo", "b", 54),
    ("p-6", "ann", "a", 34), ("p-6", "bo", "a", 56), ("p-6", "cy", "a", 110),
]  # fmt: skip
GOLD = {"g-1": "a", "g-2": "b"}
BATCH = {"p-1": "b1", "p-2": "b1", "p-3": "b1", "g-1": "b1", "g-2": "b1"}  # the rest: b2


def build_pairs(session: Session, tmp_path: Path) -> Built:
    make_project(session, overlap=3)
    import_file(session, tmp_path, "helpful-pairs", "b1", [pair(i, GOLD.get(i)) for i in BATCH])
    import_file(
        session, tmp_path, "helpful-pairs", "b2",
        [pair("p-4"), pair("p-5"), pair("p-6"), pair("p-7")],  # p-7: never answered
    )  # fmt: skip
    built = Built({n: contractor(session, n) for n in ("ann", "bo", "cy", "dee")})
    for item, rater, choice, seconds in V1:
        # g-1 by cy is left unjudged at answer time: the report judges it against gold.
        judged = None
        if item in GOLD and (item, rater) != ("g-1", "cy"):
            judged = choice == GOLD[item]
        give(session, built.people[rater], "helpful-pairs", item, {"choice": choice},
             seconds=seconds, gold_correct=judged)  # fmt: skip
    add_instruction_version(session, get_project(session, "helpful-pairs"), body="v2")
    for item, rater, choice, seconds in V2:
        give(session, built.people[rater], "helpful-pairs", item, {"choice": choice},
             seconds=seconds)  # fmt: skip
    dee = built.people["dee"]
    # Dee's answers count nowhere but in her rejections: one rejected, one held for
    # review (another helper's 'flagged' state: any status but accepted is out).
    give(session, dee, "helpful-pairs", "p-6", {"choice": "b"}, status="rejected", seconds=5)
    give(session, dee, "helpful-pairs", "p-5", {"choice": "a"}, status="flagged", seconds=5)
    give(session, dee, "helpful-pairs", "p-2", {}, assignment_status="skipped")
    project = get_project(session, "helpful-pairs")
    for who in ("cy", "dee"):
        session.add(
            Clarification(
                project_id=project.id,
                person_id=built.people[who].id,
                question="Which one?",
                opened_at=T0,
            )
        )
    session.flush()
    return built


RATINGS = [  # (item, rater, rating): kind rates 2 above, harsh 1 below the gold's scale
    ("r-1", "ann", 8), ("r-1", "bo", 5),
    ("r-2", "ann", 9), ("r-2", "bo", 6),
    ("r-3", "ann", 6), ("r-3", "bo", 3),
    ("rg", "ann", 9), ("rg", "bo", 6),
]  # fmt: skip


def build_ratings(session: Session, tmp_path: Path, people: dict[str, Person]) -> None:
    make_project(
        session,
        name="tone-rating",
        task={"type": "rating", "fields": ["text"], "scale": {"min": 1, "max": 10}},
    )
    records: list[dict[str, Any]] = [
        {"id": i, "data": {"text": "t"}} for i in ("r-1", "r-2", "r-3", "r-4")
    ]
    records.append({"id": "rg", "data": {"text": "t"}, "gold": {"rating": 7}})
    import_file(session, tmp_path, "tone-rating", "tone", records)
    for item, rater, value in RATINGS:
        give(session, people[rater], "tone-rating", item, {"rating": value}, seconds=10)
