"""The project snapshot dispatch caches per process: active projects in offer
order, the cache key (`updated_at`), and a project with its current (or a given)
instruction version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from hdops.store.orm import InstructionVersion, Project
from hdops.store.prepared import Prepared, Tx

# Projects open for dispatch, in the order they are offered. Only the key of the
# per-process project cache is read (see `hdops.services.dispatch.project_info`).
ACTIVE_PROJECTS = Prepared(
    select(Project.id, Project.updated_at)
    .where(Project.status == "active")
    .order_by(Project.priority.desc(), Project.id)
)

PROJECT_UPDATED_AT = Prepared(
    select(Project.updated_at).where(Project.id == bindparam("project_id"))
)

# A project with its current instruction version, read in one statement so the
# pair is consistent (a new version moves `updated_at` in the same transaction).
PROJECT_WITH_VERSION = Prepared(
    select(
        Project.id,
        Project.name,
        Project.title,
        Project.task_type,
        Project.spec,
        Project.overlap,
        Project.max_overlap,
        Project.gold_share,
        Project.lease_minutes,
        Project.max_share,
        Project.pay_per_task,
        Project.currency,
        Project.updated_at,
        InstructionVersion.id,
        InstructionVersion.version,
        InstructionVersion.body,
    )
    .join(InstructionVersion, InstructionVersion.project_id == Project.id)
    .where(Project.id == bindparam("project_id"))
    .order_by(InstructionVersion.version.desc())
    .limit(1)
)

VERSION = Prepared(
    select(InstructionVersion.id, InstructionVersion.version, InstructionVersion.body).where(
        InstructionVersion.id == bindparam("version_id")
    )
)


def active_projects(tx: Tx) -> list[tuple[int, datetime]]:
    """(id, updated_at) of the active projects, highest priority first."""
    return [(r[0], r[1]) for r in tx.rows(ACTIVE_PROJECTS)]


def project_updated_at(tx: Tx, project_id: int) -> datetime | None:
    found: datetime | None = tx.scalar(PROJECT_UPDATED_AT, {"project_id": project_id})
    return found


def project_with_version(tx: Tx, project_id: int) -> tuple[Any, ...] | None:
    """The row of `PROJECT_WITH_VERSION`: the project's columns, then its current
    instruction version's id, number and body."""
    return tx.first(PROJECT_WITH_VERSION, {"project_id": project_id})


def version(tx: Tx, version_id: int) -> tuple[int, int, str] | None:
    row = tx.first(VERSION, {"version_id": version_id})
    return (row[0], row[1], row[2]) if row is not None else None
