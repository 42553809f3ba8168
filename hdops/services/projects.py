"""Projects and their instruction versions (SPEC §2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hdops.clock import utcnow
from hdops.domain.instructions import summarize_change
from hdops.domain.money import rate_text
from hdops.domain.projects import ProjectSpec, parse_project_spec
from hdops.domain.tasks.base import TaskSettings
from hdops.domain.tasks.registry import get_task_type
from hdops.errors import Conflict, InvalidInput, NotFound
from hdops.services import audit, quality_watch
from hdops.store import projects as projects_q
from hdops.store.orm import (
    FaqEntry,
    InstructionVersion,
    Project,
)

PROJECT_STATUSES = ("active", "paused")


@dataclass(frozen=True)
class InstructionChange:
    """A new instruction version and what changed, for notifying contractors."""

    project_id: int
    version: int
    summary: str
    version_id: int


def get_project(session: Session, name: str) -> Project:
    project = projects_q.by_name(session, name)
    if project is None:
        raise NotFound(f"no project named {name!r}")
    return project


def project_spec(project: Project) -> ProjectSpec:
    """The stored spec as a model (instructions are in versions, not the spec)."""
    return parse_project_spec({**project.spec, "instructions": ""})


def task_settings(project: Project) -> TaskSettings:
    settings: TaskSettings = get_task_type(project.task_type).parse_settings(project.spec["task"])
    return settings


def current_version(session: Session, project_id: int) -> InstructionVersion:
    version = projects_q.latest_version(session, project_id)
    if version is None:  # every project is created with version 1
        raise NotFound("project has no instructions")
    return version


def _apply(project: Project, spec: ProjectSpec) -> None:
    project.title = spec.title
    project.task_type = spec.task.type
    project.spec = spec.to_json()
    project.priority = spec.priority
    project.overlap = spec.overlap
    project.max_overlap = spec.effective_max_overlap
    project.gold_share = spec.gold_share
    project.lease_minutes = spec.lease_minutes
    project.max_share = spec.max_share
    project.pay_per_task = spec.pay.per_task
    project.currency = spec.pay.currency


def create_project(session: Session, spec: ProjectSpec, actor_id: int | None = None) -> Project:
    if projects_q.name_taken(session, spec.name):
        raise Conflict(f"project {spec.name!r} already exists (use `hdops project update`)")
    now = utcnow()
    project = Project(name=spec.name, status="active", created_at=now, updated_at=now)
    _apply(project, spec)
    session.add(project)
    session.flush()
    session.add(
        InstructionVersion(
            project_id=project.id,
            version=1,
            body=spec.instructions,
            change_summary="First version.",
            created_at=now,
            created_by=actor_id,
        )
    )
    audit.record(session, "project.create", spec.name, actor_id=actor_id)
    session.flush()
    return project


def add_instruction_version(
    session: Session,
    project: Project,
    *,
    body: str | None = None,
    faq_add: tuple[str, str, int | None] | None = None,
    actor_id: int | None = None,
    summary: str | None = None,
    now: datetime | None = None,
) -> InstructionChange:
    """Write a new version: new body and/or one more FAQ entry, carrying the old FAQ."""
    old = current_version(session, project.id)
    new = InstructionVersion(
        project_id=project.id,
        version=old.version + 1,
        body=old.body if body is None else body,
        created_at=now or utcnow(),
        created_by=actor_id,
    )
    if summary is None:
        summary = summarize_change(old.body, new.body) if body is not None else ""
    if faq_add is not None:
        q, a, _ = faq_add
        faq_line = f"New FAQ entry — Q: {q.strip()} A: {a.strip()}"
        summary = f"{summary}\n{faq_line}".strip()
    new.change_summary = summary
    session.add(new)
    session.flush()
    position = 0
    for position, entry in enumerate(old.faq, start=1):
        session.add(
            FaqEntry(
                instruction_version_id=new.id,
                position=position,
                question=entry.question,
                answer=entry.answer,
                clarification_id=entry.clarification_id,
            )
        )
    if faq_add is not None:
        q, a, clarification_id = faq_add
        session.add(
            FaqEntry(
                instruction_version_id=new.id,
                position=position + 1,
                question=q,
                answer=a,
                clarification_id=clarification_id,
            )
        )
    project.updated_at = new.created_at
    audit.record(
        session, "instructions.version", project.name, actor_id=actor_id, version=new.version
    )
    session.flush()
    return InstructionChange(project.id, new.version, summary, new.id)


def update_project(
    session: Session,
    spec: ProjectSpec,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Project, InstructionChange | None]:
    """Apply a changed spec. New instructions text makes a new instruction version."""
    project = get_project(session, spec.name)
    answers = projects_q.answer_count(session, project.id)
    if spec.task.type != project.task_type and answers:
        raise InvalidInput(
            f"task.type: cannot change from {project.task_type} to {spec.task.type} "
            f"after {answers} answers; create a new project"
        )
    now = now or utcnow()
    old_overlap = project.overlap
    old_qual = project_spec(project).qualification
    _apply(project, spec)
    project.updated_at = now
    change = None
    if spec.instructions != current_version(session, project.id).body:
        change = add_instruction_version(
            session, project, body=spec.instructions, actor_id=actor_id, now=now
        )
        notify_instruction_change(session, change, now)
    if project.overlap != old_overlap:
        _sync_item_targets(session, project, old_overlap)
    if spec.qualification != old_qual:
        session.flush()
        quality_watch.after_rule_change(session, project.id, old_qual, now)
    audit.record(session, "project.update", project.name, actor_id=actor_id)
    return project, change


def notify_instruction_change(session: Session, change: InstructionChange, now: datetime) -> int:
    """Tell contractors with open tasks in the project what changed. Returns how many."""
    from hdops import intents
    from hdops.render.tasks import instructions_changed_message

    project = session.get(Project, change.project_id)
    assert project is not None
    people = projects_q.holders_of_live_tasks(session, project.id)
    message = instructions_changed_message(project.title, change.version, change.summary)
    for person_id in people:
        intents.dm(session, person_id, message, now)
    shown_to(session, change, people)
    return len(people)


def shown_to(session: Session, change: InstructionChange, person_ids: Sequence[int]) -> None:
    """`person_ids` are being shown the new version (a notice in the same transaction):
    from now on their answers in the project record it, including answers to tasks
    they hold or that ran out under an older version (SPEC §2: an answer records the
    latest version its contractor had been shown when answering)."""
    from hdops.store import dispatch as dispatch_store

    dispatch_store.show_version(session, change.project_id, person_ids, change.version_id)


def _sync_item_targets(session: Session, project: Project, old_overlap: int) -> None:
    """After an overlap change, keep each item's target and open slots consistent."""
    from hdops.store import items as item_store

    item_store.retarget(session, project.id, old_overlap, project.overlap)


def set_status(session: Session, project: Project, status: str, actor_id: int | None) -> bool:
    if status not in PROJECT_STATUSES:
        raise InvalidInput(f"unknown project status {status!r}")
    if project.status == status:
        return False
    project.status = status
    project.updated_at = utcnow()
    audit.record(session, f"project.{status}", project.name, actor_id=actor_id)
    return True


def list_projects(session: Session) -> list[Project]:
    return projects_q.ordered(session)


def project_summary(session: Session, project: Project) -> dict[str, Any]:
    """What `hdops project show --json` prints: stable keys for scripts."""
    counts = projects_q.counts(session, project.id)
    version = current_version(session, project.id)
    return {
        "name": project.name,
        "title": project.title,
        "status": project.status,
        "task_type": project.task_type,
        "items": counts.items,
        "gold_items": counts.gold_items,
        "items_done": counts.items_done,
        "answers": counts.answers,
        "flagged": counts.flagged,
        "open_clarifications": counts.open_clarifications,
        "instruction_version": version.version,
        "overlap": project.overlap,
        "priority": project.priority,
        "pay": {
            "per_task": rate_text(project.pay_per_task, project.currency),
            "currency": project.currency,
        },
    }
