"""Choosing and offering tasks (SPEC §5).

`assign_next_task` picks the next item for one contractor: active projects by
priority whose skills the contractor has and whose qualification they pass (or
are still being screened for, in which case only gold items are offered), gold
mixed in at exactly `gold_share` of their stream, the `max_share` cap, then one
indexed query for an open item they have not seen, claimed with a conditional
decrement (see `hdops.store.dispatch`).

When nothing can be offered, what kept each project from offering a task is
collected on the way (`hdops.domain.no_task`): `/hdops next` replies with it and a
push tells it once per change (`tell_why`), so nobody is cut off without a word.
An item held for a contractor whose question was resolved (`ready`) is offered to
them again before any new item.

Offering the next task is part of every answer, so this runs on the hot path:
it works on ids and cached project snapshots (`ProjectInfo`) through the
transaction's `Tx`, never loading ORM objects; the `Session` functions at the
bottom wrap it for callers that want ORM objects back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session, object_session

from hdops import intents
from hdops.chat import Message
from hdops.domain.no_task import Blocked, NoTask
from hdops.domain.projects import ProjectSpec, parse_project_spec
from hdops.domain.qualification import Standing, gold_standing, needs_gold_record
from hdops.domain.tasks.base import TaskSettings
from hdops.domain.tasks.registry import get_task_type
from hdops.errors import NotFound
from hdops.render import no_task as no_task_render
from hdops.render import tasks as render
from hdops.store import dispatch as q
from hdops.store.orm import (
    Assignment,
    Item,
    Person,
    Project,
)
from hdops.store.prepared import Tx

log = logging.getLogger(__name__)

# Below this many answers in a project, max_share is not enforced (a cap on the
# first few answers would stall a project that is just starting).
MAX_SHARE_WARMUP = 20
WAITING_HOLD = timedelta(days=7)


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


# --------------------------------------------------------------------------- choosing


def qualification(tx: Tx, project: ProjectInfo, person_id: int) -> Standing:
    """The contractor's standing (the rule is `hdops.domain.qualification`); the gold
    record is read only when the project's rule looks at it."""
    qual = project.spec.qualification
    if not needs_gold_record(qual):
        return Standing("ok")
    answered, correct = q.gold_record(tx, project.id, person_id)
    return gold_standing(qual, answered, correct)


def _under_cap(tx: Tx, project: ProjectInfo, person_id: int) -> bool:
    if project.max_share is None:
        return True
    mine, total = q.share_counts(tx, project.id, person_id)
    if total < MAX_SHARE_WARMUP:
        return True
    return (mine + 1) <= project.max_share * (total + 1)


def _pick_item(
    tx: Tx, project: ProjectInfo, person_id: int, screening: bool
) -> tuple[int, tuple[str, dict[str, Any]] | None] | None:
    """(item id, its external id and data if the claim returned them)."""
    want_gold = screening
    if not screening and project.gold_share > 0:
        seen, gold_seen = q.my_mix(tx, project.id, person_id)
        want_gold = gold_seen < project.gold_share * (seen + 1)
    order = [True] if screening else ([True, False] if want_gold else [False, True])
    for gold in order:
        if gold and project.gold_share == 0 and not screening:
            continue
        for item_id in q.candidate_items(tx, project.id, person_id, gold):
            if gold:
                return item_id, None  # gold has no slots to claim
            claimed = q.claim_item(tx, item_id)
            if claimed is not None:
                return item_id, claimed
    return None


@dataclass(frozen=True)
class Offer:
    """A task for a contractor: a new one (with its project and item) or the one
    they already hold open (`project` None)."""

    assignment_id: int
    project: ProjectInfo | None = None
    item_id: int = 0
    item_view: tuple[str, dict[str, Any]] | None = None  # (external_id, data) if known


def assign_next(
    tx: Tx,
    person_id: int,
    profile_status: str | None,
    skills: Sequence[str] | None,
    now: datetime,
    *,
    only_new: bool = False,
) -> Offer | NoTask | None:
    """Offer the contractor their next task, or return their open one (None instead
    with `only_new`). An item held for them whose question was resolved comes
    before any new item. If there is nothing for them, `NoTask` says why, per
    project: the reasons are collected on the way, so they are exactly what kept
    each project from offering a task."""
    if profile_status != "active":
        return NoTask(profile_status=profile_status or "missing")
    q.lock_contractor(tx, person_id)
    held = q.open_or_ready(tx, person_id)
    if held is not None:
        assignment_id, status, project_id, item_id = held
        if status == "offered":
            return None if only_new else Offer(assignment_id)
        return _offer_again(tx, assignment_id, project_id, item_id, now)
    have = frozenset(skills or ())
    blocked: list[Blocked] = []
    for pid, updated_at in q.active_projects(tx):
        project = project_info(tx, pid, updated_at)
        if not project.skills <= have:
            missing = tuple(sorted(project.skills - have))
            blocked.append(Blocked(pid, project.title, "skills", missing_skills=missing))
            continue
        standing = qualification(tx, project, person_id)
        if standing.state == "failed":
            blocked.append(failed_reason(project, standing))
            continue
        if not _under_cap(tx, project, person_id):
            cap = project.max_share or 0.0
            blocked.append(Blocked(pid, project.title, "share", share_cap=cap))
            continue
        screening = standing.state == "screening"
        picked = _pick_item(tx, project, person_id, screening=screening)
        if picked is None:
            blocked.append(_nothing_left(project, standing))
            continue
        item_id, item_view = picked
        assignment_id = q.insert_assignment(
            tx,
            item_id=item_id,
            project_id=project.id,
            person_id=person_id,
            offered_at=now,
            leased_until=now + timedelta(minutes=project.lease_minutes),
            instruction_version_id=project.version.id,
        )
        return Offer(assignment_id, project, item_id, item_view)
    return _no_task(tx, person_id, have, blocked)


def failed_reason(project: ProjectInfo, standing: Standing) -> Blocked:
    """The reason a project gives a contractor under its bar no more tasks."""
    qual = project.spec.qualification
    return Blocked(
        project.id,
        project.title,
        "failed",
        gold_answered=standing.answered,
        gold_correct=standing.correct,
        accuracy_needed=qual.min_gold_accuracy if qual is not None else 0.0,
    )


def _nothing_left(project: ProjectInfo, standing: Standing) -> Blocked:
    if standing.state == "screening":
        qual = project.spec.qualification
        needed = qual.min_gold_answered if qual is not None else 0
        return Blocked(
            project.id,
            project.title,
            "no_gold",
            gold_answered=standing.answered,
            gold_needed=needed,
        )
    return Blocked(project.id, project.title, "no_items")


def _no_task(tx: Tx, person_id: int, have: frozenset[str], blocked: list[Blocked]) -> NoTask:
    """The contractor gets nothing: finish the reasons. Paused projects are listed
    too (those whose skills they have: they may get work when it resumes), and
    "nothing left" becomes `held` (others hold what is left) or `done`. Costs a few
    queries, paid only on this path."""
    reasons: list[Blocked] = []
    for b in blocked:
        if b.kind == "no_items":
            held = q.unfinished_not_mine(tx, b.project_id, person_id) > 0
            b = Blocked(b.project_id, b.project_title, "held" if held else "done")
        reasons.append(b)
    for pid, updated_at in q.paused_projects(tx):
        project = project_info(tx, pid, updated_at)
        if project.skills <= have:
            reasons.append(Blocked(pid, project.title, "paused"))
    return NoTask(tuple(reasons))


def _offer_again(tx: Tx, assignment_id: int, project_id: int, item_id: int, now: datetime) -> Offer:
    """Offer a `ready` item again: a fresh lease, the current instructions (its new
    message shows them), and the time since its question was resolved (spent on
    other work) not counted as time spent on it."""
    project = project_info(tx, project_id)
    resolved = q.last_resolved_at(tx, assignment_id)
    idle = int((now - resolved).total_seconds()) if resolved is not None else 0
    q.offer_again(
        tx,
        assignment_id,
        leased_until=now + timedelta(minutes=project.lease_minutes),
        version_id=project.version.id,
        paused=max(0, idle),
    )
    return Offer(assignment_id, project, item_id)


def offer_next_id(
    tx: Tx,
    person_id: int,
    profile_status: str | None,
    skills: Sequence[str] | None,
    now: datetime,
    *,
    tell_anyway: bool = False,
) -> int | None:
    """A push: assign and show the next task if the person has none open; the new
    task's id. If there is none for them they are told why, once per change of the
    reasons (`tell_why`); `tell_anyway` tells them even if the reasons are unchanged."""
    outcome = _offer(tx, person_id, profile_status, skills, now)
    if isinstance(outcome, NoTask):
        tell_why(tx, person_id, outcome, now, anyway=tell_anyway)
        return None
    return outcome


def tell_why(
    tx: Tx, person_id: int, no_task: NoTask, now: datetime, *, anyway: bool = False
) -> bool:
    """DM the reasons there is no task, unless (and `anyway` is off) they are the ones
    this contractor was last told — by a push or in reply to `/hdops next` — so the
    periodic push does not repeat itself. Getting a task in between does not reset
    it: someone held back by `max_share` after every answer hears it once."""
    key = no_task.key
    if not anyway and q.no_task_told(tx, person_id) == key:
        return False
    intents.dm(tx, person_id, no_task_render.why_no_task(no_task), now)
    q.set_no_task_told(tx, person_id, key)
    return True


def tell_not_taking_tasks(tx: Tx, person_id: int, now: datetime) -> None:
    """A contractor who is not taking tasks (paused, or off shift) just closed their
    task and gets no next one: say why, once (`tell_why`), unless they still have a
    task open."""
    if q.open_or_ready(tx, person_id) is None:
        tell_why(tx, person_id, NoTask(unavailable=True), now)


def _offer(
    tx: Tx, person_id: int, profile_status: str | None, skills: Sequence[str] | None, now: datetime
) -> int | NoTask | None:
    """Assign and show the next task if the person has none open: its id, why there is
    none, or None if they have one open."""
    offer = assign_next(tx, person_id, profile_status, skills, now, only_new=True)
    if offer is None or isinstance(offer, NoTask):
        return offer
    if offer.project is None:
        return None
    external_id, data = offer.item_view or q.item_view(tx, offer.item_id)
    view = build_view(
        tx,
        offer.project,
        offer.project.version,
        assignment_id=offer.assignment_id,
        person_id=person_id,
        item_external_id=external_id,
        item_data=data,
        now=now,
    )
    ref = f"assignment:{offer.assignment_id}"
    intents.dm(tx, person_id, render.task_message(view), now, ref=ref)
    return offer.assignment_id


# --------------------------------------------------------------------------- task messages


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


# --------------------------------------------------------------------------- ORM callers


def assign_next_task(
    session: Session, person: Person, now: datetime, *, only_new: bool = False
) -> Assignment | None:
    """`assign_next` for a loaded person, returning the assignment as an ORM object
    (None if there is none for them: nobody is told why here)."""
    profile = person.profile
    if profile is None:
        return None
    offer = assign_next(
        Tx(session), person.id, profile.status, profile.skills, now, only_new=only_new
    )
    if offer is None or isinstance(offer, NoTask):
        return None
    return session.get(Assignment, offer.assignment_id)


def offer_next(session: Session, person: Person, now: datetime) -> Assignment | None:
    """A push (see `offer_next_id`) for a loaded person; returns the new task."""
    profile = person.profile
    if profile is None:
        return None
    new_id = offer_next_id(Tx(session), person.id, profile.status, profile.skills, now)
    return session.get(Assignment, new_id) if new_id is not None else None


def offer_or_explain(session: Session, person: Person, now: datetime) -> Assignment | NoTask | None:
    """`/hdops next` and `resume`: assign and show the next task (None if they have
    one open), or return why there is none for the reply — which counts as telling
    them, so the next push does not say it again."""
    profile = person.profile
    if profile is None:
        return NoTask(profile_status="missing")
    tx = Tx(session)
    outcome = _offer(tx, person.id, profile.status, profile.skills, now)
    if isinstance(outcome, NoTask):
        q.set_no_task_told(tx, person.id, outcome.key)
        return outcome
    return session.get(Assignment, outcome) if outcome is not None else None


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


def withdraw_tasks(session: Session, person_id: int, now: datetime) -> int:
    """Take back the tasks a person holds (offered, or waiting on their question):
    the items go back to the pool and each task message says so. For a person who
    can no longer work (deactivated); returns how many."""
    held = q.held_tasks(session, person_id)
    for assignment in held:
        _expire(session, assignment, now, closed=render.withdrawn_message)
    return len(held)


def _expire(
    session: Session,
    assignment: Assignment,
    now: datetime,
    *,
    closed: Callable[[render.TaskView], Message] = render.expired_message,
) -> None:
    view = task_view(session, assignment, now, with_counts=False)
    assignment.status = "expired"
    assignment.closed_at = now
    item = session.get(Item, assignment.item_id)
    if item is not None and not item.is_gold:
        q.release_slot(session, assignment.item_id)
    intents.edit(session, f"assignment:{assignment.id}", closed(view), now)
    person = session.get(Person, assignment.person_id)
    if person is not None and person.profile is not None and person.profile.available:
        offer_next(session, person, now)


def push_tasks(session: Session, now: datetime) -> int:
    """Offer tasks to every available contractor without one, fewest answers this
    week first, so scarce work is spread evenly. Returns how many were offered."""
    week_start = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    people = q.available_by_fewest_answers(session, week_start)
    offered = 0
    for person in people:
        if offer_next(session, person, now) is not None:
            offered += 1
    return offered
