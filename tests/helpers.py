"""Small builders for tests: projects, items and people straight through the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hdops.domain.projects import parse_project_spec
from hdops.services.people import add_person
from hdops.services.projects import create_project
from hdops.store.db import Store
from hdops.store.orm import Base, Item, Person, Project

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def spec_dict(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "helpful-pairs",
        "title": "Helpfulness comparisons",
        "task": {"type": "pairwise", "fields": ["prompt", "response_a", "response_b"]},
        "instructions": "Pick the more helpful response.",
        "overlap": 2,
        "lease_minutes": 20,
        "pay": {"per_task": "0.40", "currency": "USD"},
        "researchers": ["console:rita"],
        "clarifications": {"console_channel": "clarifications"},
        "escalation": {"after_minutes": 30, "repeat_minutes": 60},
    }
    spec.update(overrides)
    return spec


def make_project(session: Session, **overrides: Any) -> Project:
    return create_project(session, parse_project_spec(spec_dict(**overrides)))


def add_items(
    session: Session,
    project: Project,
    n: int,
    *,
    gold: dict[str, Any] | None = None,
    prefix: str = "it",
    start: int = 0,
    fields: list[str] | None = None,
) -> list[Item]:
    now = T0
    names = fields or list(project.spec["task"]["fields"])
    items = []
    for i in range(start, start + n):
        item = Item(
            project_id=project.id,
            external_id=f"{prefix}-{i}",
            data={f: f"{f} text {i}" for f in names},
            gold=gold,
            is_gold=gold is not None,
            target=project.overlap,
            answer_count=0,
            open_slots=project.overlap,
            created_at=now,
            updated_at=now,
        )
        session.add(item)
        items.append(item)
    session.flush()
    return items


def contractor(session: Session, name: str, **kw: Any) -> Person:
    return add_person(session, name, identities=[f"console:{name}"], roles=["contractor"], **kw)


def researcher(session: Session, name: str) -> Person:
    return add_person(session, name, identities=[f"console:{name}"], roles=["researcher"])


def ops(session: Session, name: str) -> Person:
    return add_person(session, name, identities=[f"console:{name}"], roles=["ops"])


def table_rows(store: Store) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, in primary-key order: compared before and after an
    input that must be refused, to show that nothing at all was written."""
    tables: dict[str, list[tuple[str, ...]]] = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [tuple(map(repr, row)) for row in rows]
    return tables
