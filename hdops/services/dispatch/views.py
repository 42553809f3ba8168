"""What a task message shows (`build_view`), and queueing it as a DM
(`show_task`). The project's progress figures in the footer are cached for a
minute, so the hot path does not count a large project on every task.

This module changes when the task message gains or loses something it shows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hdops import intents
from hdops.render import tasks as render
from hdops.services.dispatch.projects import ProjectInfo, VersionInfo, project_info, version_for
from hdops.store import dispatch as q
from hdops.store.orm import Assignment
from hdops.store.prepared import Tx


def build_view(
    tx: Tx,
    project: ProjectInfo,
    version: VersionInfo,
    *,
    assignment_id: int,
    person_id: int,
    item_external_id: str,
    item_data: dict[str, Any],
    now: datetime,
    with_counts: bool = True,
    leased_until: datetime | None = None,
) -> render.TaskView:
    """What a task message shows. `with_counts=False` skips the progress figures
    (closed-task messages do not show them). `leased_until`: the lease of a task
    shown again, so the message says the time really left."""
    settings = project.settings
    fields = [(name, str(item_data.get(name, ""))) for name in settings.fields]
    done_today, total, done = 0, 0, 0
    if with_counts:
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        done_today = q.done_since(tx, person_id, day_start)
        total, done = _project_progress(tx, project.id, now)
    return render.TaskView(
        assignment_id=assignment_id,
        project_title=project.title,
        project_name=project.name,
        task_type=project.task_type_name,
        settings=settings,
        item_external_id=item_external_id,
        fields=fields,
        instruction_version=version.version,
        instruction_version_id=version.id,
        instructions_preview=version.body,
        done_today=done_today,
        project_done=done,
        project_total=total,
        lease_minutes=project.lease_minutes,
        seconds_left=None if leased_until is None else int((leased_until - now).total_seconds()),
    )


_PROGRESS_TTL = timedelta(seconds=60)
_progress: WeakKeyDictionary[Engine, dict[int, tuple[datetime, int, int]]] = WeakKeyDictionary()


def _project_progress(tx: Tx, project_id: int, now: datetime) -> tuple[int, int]:
    """(items, items done) for the task footer. Counting a large project on every
    task would put a scan on the hot path, so the figure is cached for a minute."""
    cache = _progress.get(tx.engine)
    if cache is None:
        cache = _progress.setdefault(tx.engine, {})
    cached = cache.get(project_id)
    if cached is not None and abs(now - cached[0]) < _PROGRESS_TTL:
        return cached[1], cached[2]
    total, done = q.project_progress(tx, project_id)
    cache[project_id] = (now, total, done)
    return total, done


def task_view(
    session: Session, assignment: Assignment, now: datetime, *, with_counts: bool = True
) -> render.TaskView:
    """The task message's content for an assignment loaded as an ORM object."""
    tx = Tx(session)
    project = project_info(tx, assignment.project_id)
    external_id, data = q.item_view(tx, assignment.item_id)
    return build_view(
        tx,
        project,
        version_for(tx, project, assignment.instruction_version_id),
        assignment_id=assignment.id,
        person_id=assignment.person_id,
        item_external_id=external_id,
        item_data=data,
        now=now,
        with_counts=with_counts,
        leased_until=assignment.leased_until,
    )


def show_task(session: Session, assignment: Assignment, now: datetime) -> None:
    """Queue the task DM; its location is recorded under `assignment:<id>`."""
    message = render.task_message(task_view(session, assignment, now))
    intents.dm(session, assignment.person_id, message, now, ref=f"assignment:{assignment.id}")
