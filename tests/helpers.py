"""Small builders for tests: projects, items and people straight through the services."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
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


def table_rows(store: Store) -> dict[str, Any]:
    """Every row of every table, in primary-key order: compared before and after an
    input that must be refused, to show that nothing at all was written. (On
    PostgreSQL in one round trip: each table as JSON.)"""
    tables: dict[str, Any] = {}
    with store.engine.connect() as conn:
        if store.dialect == "postgresql":
            parts = []
            for table in Base.metadata.sorted_tables:
                order = ", ".join(f't."{c.name}"' for c in table.primary_key.columns)
                parts.append(f'(SELECT json_agg(t ORDER BY {order})::text FROM "{table.name}" t)')
            row = conn.execute(text("SELECT " + ", ".join(parts))).one()
            return {
                t.name: json.loads(v) if v else []
                for t, v in zip(Base.metadata.sorted_tables, row, strict=True)
            }
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [tuple(map(repr, row)) for row in rows]
    return tables
