"""What dispatch and the answer path read about a project: `ProjectInfo`, parsed
once and cached per process, database and project, and the instruction versions
tasks were offered with.

This module owns the cache and the snapshot's shape; it changes when a project
gains a setting that dispatch reads, or when the caching rule changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session, object_session

from hdops.domain.projects import ProjectSpec, parse_project_spec
from hdops.domain.tasks.base import TaskSettings
from hdops.domain.tasks.registry import get_task_type
from hdops.errors import NotFound
from hdops.store import dispatch as q
from hdops.store.orm import Project
from hdops.store.prepared import Tx


@dataclass(frozen=True)
class VersionInfo:
    id: int
    version: int
    body: str


@dataclass(frozen=True)
class ProjectInfo:
    """What dispatch and the answer path read about a project, parsed once.

    Cached per process, per database (engine) and project, and keyed by the
    project's `updated_at`: every change to a project (spec, status, or a new
    instruction version) moves it, so a stale entry is never used. Status and
    priority are not in here: dispatch filters and orders by them in SQL."""

    id: int
    name: str
    title: str
    task_type_name: str
    spec: ProjectSpec
    overlap: int
    max_overlap: int
    gold_share: float
    lease_minutes: int
    max_share: float | None
    pay_per_task: Decimal
    currency: str
    updated_at: datetime
    version: VersionInfo  # the current instruction version
    skills: frozenset[str]
    task_type: Any  # the TaskType implementation

    @property
    def settings(self) -> TaskSettings:
        return self.spec.task


# Keyed by engine (weakly), not by id(engine): tests and the demo open several
# databases in one process, each with its own project 1, and an id can be reused.
_projects: WeakKeyDictionary[Engine, dict[int, ProjectInfo]] = WeakKeyDictionary()


def project_info(tx: Tx, project_id: int, updated_at: datetime | None = None) -> ProjectInfo:
    """The project's snapshot; `updated_at` as just read with the caller's row
    saves the query for it."""
    if updated_at is None:
        updated_at = q.project_updated_at(tx, project_id)
        if updated_at is None:
            raise NotFound(f"no project {project_id}")
    cache = _projects.get(tx.engine)
    if cache is None:
        cache = _projects.setdefault(tx.engine, {})
    info = cache.get(project_id)
    if info is not None and info.updated_at == updated_at:
        return info
    row = q.project_with_version(tx, project_id)
    if row is None:
        raise NotFound(f"no project {project_id}")
    spec = parse_project_spec({**row[4], "instructions": ""})
    info = ProjectInfo(
        id=row[0],
        name=row[1],
        title=row[2],
        task_type_name=row[3],
        spec=spec,
        overlap=row[5],
        max_overlap=row[6],
        gold_share=row[7],
        lease_minutes=row[8],
        max_share=row[9],
        pay_per_task=row[10],
        currency=row[11],
        updated_at=row[12],
        version=VersionInfo(row[13], row[14], row[15]),
        skills=frozenset(spec.skills),
        task_type=get_task_type(row[3]),
    )
    cache[project_id] = info
    return info


def _info_of(project: Project) -> ProjectInfo | None:
    session = object_session(project)
    if session is None:
        return None
    return project_info(Tx(session), project.id, project.updated_at)


def spec_of(project: Project) -> ProjectSpec:
    """The project's parsed spec (cached, see `ProjectInfo`)."""
    info = _info_of(project)
    if info is not None:
        return info.spec
    return parse_project_spec({**project.spec, "instructions": ""})


def current_version_of(session: Session, project: Project) -> VersionInfo:
    """The current instruction version (cached with the project, see `ProjectInfo`)."""
    return project_info(Tx(session), project.id, project.updated_at).version


def settings_of(project: Project) -> TaskSettings:
    return spec_of(project).task


def task_type_of(project: Project) -> Any:
    return get_task_type(project.task_type)


def version_for(tx: Tx, project: ProjectInfo, version_id: int) -> VersionInfo:
    """The instruction version a task was offered with (usually the current one)."""
    if version_id == project.version.id:
        return project.version
    row = q.version(tx, version_id)
    if row is None:
        raise NotFound(f"no instruction version {version_id}")
    return VersionInfo(*row)
