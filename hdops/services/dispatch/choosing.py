"""Choosing the next task for one contractor (SPEC §5): which projects may offer
them one (skills, the `max_share` cap), which item (gold mixed in at
`gold_share`; only gold while they are screened or under the qualification bar;
an open item they have not seen, claimed with a conditional
decrement, see `hdops.store.dispatch`), and, when there is none, why — per
project, collected on the way (`hdops.domain.no_task`). An item held for them
whose question was resolved (`ready`) is offered again before any new item.

This module owns the choice; it changes when the rules for who gets which item
change. Showing the task and telling why there is none are in `offers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hdops.domain import distribution
from hdops.domain.no_task import Blocked, NoTask
from hdops.domain.qualification import Standing, gold_standing, needs_gold_record, window
from hdops.domain.weeks import IsoWeek
from hdops.services.dispatch.projects import ProjectInfo, project_info
from hdops.store import dispatch as q
from hdops.store.orm import Assignment, Person
from hdops.store.prepared import Tx

# Below this many answers in a project, max_share is not enforced (a cap on the
# first few answers would stall a project that is just starting).
MAX_SHARE_WARMUP = 20


def qualification(tx: Tx, project: ProjectInfo, person_id: int) -> Standing:
    """The contractor's standing (the rule is `hdops.domain.qualification`); the gold
    record is read only when the project's rule looks at it, and their latest gold
    answers only when the record is longer than the rule's window."""
    qual = project.spec.qualification
    if not needs_gold_record(qual):
        return Standing("ok")
    answered, correct = q.gold_record(tx, project.id, person_id)
    size = window(qual)
    recent = []
    if answered > size:
        recent = [ok for ok, _ in q.recent_gold(tx, project.id, person_id, size)]
    return gold_standing(qual, answered, correct, recent)


def _under_cap(tx: Tx, project: ProjectInfo, person_id: int) -> bool:
    if project.max_share is None:
        return True
    mine, total = q.share_counts(tx, project.id, person_id)
    if total < MAX_SHARE_WARMUP:
        return True
    return (mine + 1) <= project.max_share * (total + 1)


def dispatch_week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of `now`'s week: "this week" for the dispatcher (the push
    order and the even-share rule)."""
    return IsoWeek.containing(now, "UTC").start("UTC")


def _kept_for_others(tx: Tx, project: ProjectInfo, person_id: int, now: datetime) -> bool:
    """The even-share rule (SPEC §5: when tasks are scarce, whoever has fewer answers
    in the project this week is served first; `distribution.hold_back`). The others
    are whoever holds a live task in the project now (those on shift working on
    it: someone on a break, paused or blocked holds none); the project's open work
    is kept for them while it is no more than they need to draw level with this
    contractor. Someone held back gets work again when the others have caught up,
    or leave: the periodic push offers it, fewest answers first.

    Cheapest test first: the team (a few rows by the status index), this
    contractor's week (their own index), the open slots against the most the
    others could need (a scan that stops there, at most `MOST_KEPT` entries, so a
    big project costs little), and only then everyone's week in the project."""
    others = [p for p in q.team(tx, project.id) if p != person_id]
    if not others:
        return False
    since = dispatch_week_start(now)
    mine = q.my_week_answers(tx, project.id, person_id, since)
    most = min(mine * len(others), distribution.MOST_KEPT)
    if most == 0 or not q.fewer_open_slots_than(tx, project.id, most + 1):
        return False
    counts = q.week_answers(tx, project.id, since)
    kept = distribution.kept_back(mine, [counts.get(p, 0) for p in others])
    return kept > 0 and q.fewer_open_slots_than(tx, project.id, kept + 1)


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
        if not _under_cap(tx, project, person_id):
            cap = project.max_share or 0.0
            blocked.append(Blocked(pid, project.title, "share", share_cap=cap))
            continue
        if _kept_for_others(tx, project, person_id, now):
            blocked.append(Blocked(pid, project.title, "even"))
            continue
        # Screening, or under the bar: gold only, until their record says otherwise.
        gold_only = standing.state != "ok"
        picked = _pick_item(tx, project, person_id, screening=gold_only)
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
    """The reason a project gives a contractor under its bar no regular task (and,
    once its check items are used up, no task at all)."""
    qual = project.spec.qualification
    return Blocked(
        project.id,
        project.title,
        "failed",
        gold_answered=standing.answered,
        gold_correct=standing.correct,
        accuracy_needed=qual.min_gold_accuracy if qual is not None else 0.0,
        gold_recent=standing.recent,
    )


def _nothing_left(project: ProjectInfo, standing: Standing) -> Blocked:
    if standing.state == "failed":
        return failed_reason(project, standing)
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
