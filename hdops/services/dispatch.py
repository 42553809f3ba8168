"""Choosing and offering tasks (SPEC §5).

`assign_next_task` picks the next item for one contractor: active projects by
priority whose skills the contractor has and whose qualification they pass (or
are still being screened for, in which case only gold items are offered), gold
mixed in at exactly `gold_share` of their stream, the `max_share` cap, then one
indexed query for an open item they have not seen, claimed with a conditional
decrement (see `hdops.store.dispatch`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, object_session

from hdops import intents
from hdops.chat import Message
from hdops.domain.projects import ProjectSpec, parse_project_spec
from hdops.domain.tasks.base import TaskSettings
from hdops.domain.tasks.registry import get_task_type
from hdops.render import tasks as render
from hdops.services import projects as project_service
from hdops.store import dispatch as q
from hdops.store.orm import (
    Answer,
    Assignment,
    ContractorProfile,
    InstructionVersion,
    Item,
    Person,
    Project,
)

log = logging.getLogger(__name__)

# Below this many answers in a project, max_share is not enforced (a cap on the
# first few answers would stall a project that is just starting).
MAX_SHARE_WARMUP = 20
WAITING_HOLD = timedelta(days=7)


def _cache_key(project: Project) -> tuple[int, int]:
    """Per-process caches are keyed by database too: tests and the demo may open
    several databases in one process, each with its own project 1."""
    session = object_session(project)
    bind = session.get_bind() if session is not None else None
    return (id(bind.engine) if bind is not None else 0, project.id)


_specs: dict[tuple[int, int], tuple[datetime, ProjectSpec]] = {}


def spec_of(project: Project) -> ProjectSpec:
    """The project's parsed spec, cached per (project, last update): every change to a
    project (spec or instructions) moves `updated_at`, so a stale entry is never used."""
    key = _cache_key(project)
    cached = _specs.get(key)
    if cached is not None and cached[0] == project.updated_at:
        return cached[1]
    spec = parse_project_spec({**project.spec, "instructions": ""})
    _specs[key] = (project.updated_at, spec)
    return spec


@dataclass(frozen=True)
class VersionInfo:
    id: int
    version: int
    body: str


_versions: dict[tuple[int, int], tuple[datetime, VersionInfo]] = {}


def current_version_of(session: Session, project: Project) -> VersionInfo:
    """The current instruction version, cached like `spec_of` (a new version always
    moves the project's `updated_at`)."""
    key = _cache_key(project)
    cached = _versions.get(key)
    if cached is not None and cached[0] == project.updated_at:
        return cached[1]
    row = project_service.current_version(session, project.id)
    info = VersionInfo(row.id, row.version, row.body)
    _versions[key] = (project.updated_at, info)
    return info


def settings_of(project: Project) -> TaskSettings:
    return spec_of(project).task


def _qualification_state(session: Session, project: Project, person_id: int) -> str:
    """'ok', 'screening' (only gold until enough answered) or 'failed'."""
    qual = spec_of(project).qualification
    if qual is None or (qual.min_gold_answered == 0 and qual.min_gold_accuracy == 0):
        return "ok"
    answered, correct = q.gold_record(session, project.id, person_id)
    if answered < qual.min_gold_answered:
        return "screening"
    accuracy = correct / answered if answered else 0.0
    return "ok" if accuracy >= qual.min_gold_accuracy else "failed"


def _eligible_projects(session: Session, profile: ContractorProfile) -> list[Project]:
    projects = session.scalars(
        select(Project)
        .where(Project.status == "active")
        .order_by(Project.priority.desc(), Project.id)
    )
    skills = set(profile.skills or [])
    return [p for p in projects if set(p.spec.get("skills") or []) <= skills]


def _under_cap(session: Session, project: Project, person_id: int) -> bool:
    if project.max_share is None:
        return True
    mine, total = q.share_counts(session, project.id, person_id)
    if total < MAX_SHARE_WARMUP:
        return True
    return (mine + 1) <= project.max_share * (total + 1)


def _pick_item(session: Session, project: Project, person_id: int, screening: bool) -> int | None:
    want_gold = screening
    if not screening and project.gold_share > 0:
        seen, gold_seen = q.my_mix(session, project.id, person_id)
        want_gold = gold_seen < project.gold_share * (seen + 1)
    order = [True] if screening else ([True, False] if want_gold else [False, True])
    for gold in order:
        if gold and project.gold_share == 0 and not screening:
            continue
        for item_id in q.candidate_items(session, project.id, person_id, gold):
            if gold or q.claim_slot(session, item_id):
                return item_id
    return None


def assign_next_task(
    session: Session, person: Person, now: datetime, *, only_new: bool = False
) -> Assignment | None:
    """Offer the contractor their next task, or return their open one (None instead
    with `only_new`). None if there is nothing for them."""
    profile = person.profile
    if profile is None or profile.status != "active":
        return None
    q.lock_contractor(session, person.id)
    current = q.open_task(session, person.id)
    if current is not None:
        return None if only_new else current
    for project in _eligible_projects(session, profile):
        state = _qualification_state(session, project, person.id)
        if state == "failed" or not _under_cap(session, project, person.id):
            continue
        item_id = _pick_item(session, project, person.id, screening=state == "screening")
        if item_id is None:
            continue
        version = current_version_of(session, project)
        assignment = Assignment(
            item_id=item_id,
            project_id=project.id,
            person_id=person.id,
            status="offered",
            offered_at=now,
            leased_until=now + timedelta(minutes=project.lease_minutes),
            instruction_version_id=version.id,
            paused_seconds=0,
        )
        session.add(assignment)
        session.flush()
        return assignment
    return None


def task_view(
    session: Session, assignment: Assignment, now: datetime, *, with_counts: bool = True
) -> render.TaskView:
    """What a task message shows. `with_counts=False` skips the progress figures
    (closed-task messages do not show them)."""
    project = session.get(Project, assignment.project_id)
    item = session.get(Item, assignment.item_id)
    assert project is not None and item is not None
    version = current_version_of(session, project)
    if version.id != assignment.instruction_version_id:
        row = session.get(InstructionVersion, assignment.instruction_version_id)
        assert row is not None
        version = VersionInfo(row.id, row.version, row.body)
    settings = settings_of(project)
    fields = [(name, str(item.data.get(name, ""))) for name in settings.fields]
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    done_today, total, done = 0, 0, 0
    if with_counts:
        done_today = (
            session.scalar(
                select(func.count(Answer.id)).where(
                    Answer.person_id == assignment.person_id, Answer.answered_at >= day_start
                )
            )
            or 0
        )
        total, done = _project_progress(session, project.id, now)
    return render.TaskView(
        assignment_id=assignment.id,
        project_title=project.title,
        project_name=project.name,
        task_type=project.task_type,
        settings=settings,
        item_external_id=item.external_id,
        fields=fields,
        instruction_version=version.version,
        instruction_version_id=version.id,
        instructions_preview=version.body,
        done_today=int(done_today),
        project_done=done,
        project_total=total,
        lease_minutes=project.lease_minutes,
    )


_PROGRESS_TTL = timedelta(seconds=60)
_progress: dict[tuple[int, int], tuple[datetime, int, int]] = {}


def _project_progress(session: Session, project_id: int, now: datetime) -> tuple[int, int]:
    """(items, items done) for the task footer. Counting a large project on every
    task would put a scan on the hot path, so the figure is cached for a minute."""
    key = (id(session.get_bind().engine), project_id)
    cached = _progress.get(key)
    if cached is not None and abs(now - cached[0]) < _PROGRESS_TTL:
        return cached[1], cached[2]
    total, done = session.execute(
        select(
            func.count(Item.id),
            func.coalesce(func.sum(case((Item.answer_count >= Item.target, 1), else_=0)), 0),
        ).where(Item.project_id == project_id)
    ).one()
    _progress[key] = (now, int(total), int(done))
    return int(total), int(done)


def show_task(session: Session, assignment: Assignment, now: datetime) -> None:
    """Queue the task DM; its location is recorded under `assignment:<id>`."""
    message = render.task_message(task_view(session, assignment, now))
    intents.dm(session, assignment.person_id, message, now, ref=f"assignment:{assignment.id}")


def offer_next(session: Session, person: Person, now: datetime) -> Assignment | None:
    """Assign and show the next task if the person has none open; returns the new one."""
    assignment = assign_next_task(session, person, now, only_new=True)
    if assignment is not None:
        show_task(session, assignment, now)
    return assignment


def expire_leases(session: Session, now: datetime) -> int:
    """Return expired offers to the pool; tell each contractor. Returns how many."""
    expired = q.expired_assignments(session, now)
    for assignment in expired:
        _expire(session, assignment, now)
    # Tasks held for a question: once the question is resolved the lease runs again.
    for assignment in q.expired_waiting(session, now):
        _expire(session, assignment, now)
        expired.append(assignment)
    return len(expired)


def _expire(session: Session, assignment: Assignment, now: datetime) -> None:
    view = task_view(session, assignment, now, with_counts=False)
    assignment.status = "expired"
    assignment.closed_at = now
    item = session.get(Item, assignment.item_id)
    if item is not None and not item.is_gold:
        q.release_slot(session, assignment.item_id)
    intents.edit(session, f"assignment:{assignment.id}", render.expired_message(view), now)
    person = session.get(Person, assignment.person_id)
    if person is not None and person.profile is not None and person.profile.available:
        offer_next(session, person, now)


def push_tasks(session: Session, now: datetime) -> int:
    """Offer tasks to every available contractor without one, fewest answers this
    week first, so scarce work is spread evenly. Returns how many were offered."""
    week_start = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    answers_this_week = (
        select(Answer.person_id, func.count(Answer.id).label("n"))
        .where(Answer.answered_at >= week_start)
        .group_by(Answer.person_id)
        .subquery()
    )
    people = session.scalars(
        select(Person)
        .join(ContractorProfile, ContractorProfile.person_id == Person.id)
        .outerjoin(answers_this_week, answers_this_week.c.person_id == Person.id)
        .where(ContractorProfile.available.is_(True), ContractorProfile.status == "active")
        .order_by(func.coalesce(answers_this_week.c.n, 0), Person.id)
    ).all()
    offered = 0
    for person in people:
        if offer_next(session, person, now) is not None:
            offered += 1
    return offered


def no_task_text() -> Message:
    return render.no_task_message(
        "No task for you right now — you'll get one as soon as there is work."
    )


def task_type_of(project: Project) -> Any:
    return get_task_type(project.task_type)
