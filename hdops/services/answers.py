"""Recording answers and skips (SPEC §5).

One transaction per answer: check the actor owns the assignment (ids in buttons
are never trusted), validate with the task type, insert the answer under its
idempotency key (a redelivered event or a double click stores nothing twice),
update the item's counts, edit the task message to the recorded answer and
offer the next task — all as outbox intents in the same transaction. An answer
far faster than usual is stored flagged for review, and a gold answer that puts
its contractor under the project's bar is dealt with there and then
(`hdops.services.quality`). Rejecting answers (`reject`) is shared with the
review queue (`hdops.services.review`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hdops import intents
from hdops.domain.review import FAST
from hdops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hdops.render import no_task as no_task_render
from hdops.render import review as review_render
from hdops.render import tasks as render
from hdops.services import audit, dispatch, quality
from hdops.services.people import INACTIVE, require_role
from hdops.store import answers as qa
from hdops.store import dispatch as q
from hdops.store.items import LIVE_ASSIGNMENT_STATUSES
from hdops.store.orm import Answer, Assignment, Item, Person, Project
from hdops.store.prepared import Tx

REJECT_REASON_MAX = 1000
AGREEMENT_SHARE = 0.75


@dataclass(frozen=True)
class AnswerResult:
    """What happened to a submission, for the private reply to the contractor."""

    status: str  # recorded | duplicate | already | late_full | skipped
    answer_id: int | None = None
    next_assignment_id: int | None = None

    @property
    def reply_text(self) -> str | None:
        return {
            "recorded": None,
            "duplicate": None,
            "already": "Your answer to this item was already recorded.",
            "late_full": (
                "Thanks — this item already got all the answers it needed while its time "
                "ran out, so your answer was not recorded. Your next task is on its way."
            ),
            "skipped": "You skipped this item, so it can't be answered any more.",
        }[self.status]


def own_assignment(session: Session, person: Person, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("That task no longer exists.")
    if assignment.person_id != person.id:
        raise not_yours(person.id, assignment_id)
    return assignment


def not_yours(person_id: int, assignment_id: int) -> PermissionDenied:
    """The refusal of an action on someone else's task (audited by the core)."""
    return PermissionDenied(
        "That task belongs to someone else.",
        actor_id=person_id,
        subject=f"assignment:{assignment_id}",
    )


def submit_answer(
    session: Session,
    person: Person,
    assignment_id: int,
    raw_answer: dict[str, Any],
    idempotency_key: str,
    now: datetime,
) -> AnswerResult:
    """Record an answer and offer the next task, in the caller's unit of work.

    This is the hot path (benchmarks/answer_loop.py): every statement is
    prepared once (`hdops.store.answers`, `hdops.store.dispatch`) and runs on the
    session's transaction without the ORM. There is no savepoint: a duplicate is
    found by the key check, and a concurrent second delivery of the same click
    cannot slip past it (SQLite runs one writer at a time; on PostgreSQL the
    assignment row is locked before anything is written, so the second delivery
    waits, then finds the first one's answer)."""
    tx = Tx(session)
    a = qa.assignment_for_answer(tx, assignment_id, idempotency_key)
    if a is None:
        existing = qa.answer_by_key(tx, idempotency_key)
        if existing is not None:
            return AnswerResult("duplicate", existing)
        raise NotFound("That task no longer exists.")
    if a.duplicate_of is not None:
        return AnswerResult("duplicate", a.duplicate_of)
    if a.person_id != person.id:
        raise not_yours(person.id, assignment_id)
    if a.profile_status == INACTIVE:
        raise PermissionDenied("You're no longer working with hdops, so answers can't be taken.")
    if a.status == "answered":
        # A redelivery that waited on the row lock above: its twin is committed now.
        existing = qa.answer_by_key(tx, idempotency_key)
        return AnswerResult("duplicate", existing) if existing else AnswerResult("already")
    if a.status == "skipped":
        return AnswerResult("skipped")
    project = dispatch.project_info(tx, a.project_id, a.project_updated_at)
    task_type = project.task_type
    answer = task_type.validate_answer(project.settings, raw_answer)

    claimed = False
    version_id = a.instruction_version_id  # what its message (or a later notice) showed
    if a.status == "expired":
        if not a.is_gold and not q.claim_slot(tx, a.item_id):
            # Late and the item is full: tell them politely and move on.
            dispatch.offer_next_id(tx, person.id, a.profile_status, a.skills, now)
            return AnswerResult("late_full")
        claimed = not a.is_gold
        # Since it ran out they may have seen newer instructions on another task.
        version_id = qa.latest_shown_version(tx, project.id, person.id)

    gold_correct = (
        task_type.is_correct(project.settings, answer, a.gold) if a.gold is not None else None
    )
    seconds = max(0, int((now - a.offered_at).total_seconds()) - a.paused_seconds)
    # Far faster than usual: it waits for review (SPEC §6b; gold answers are not flagged).
    fast = not a.is_gold and quality.too_fast(tx, project.id, person.id, seconds)
    try:
        answer_id = qa.insert_answer(
            tx,
            assignment_id=assignment_id,
            item_id=a.item_id,
            project_id=project.id,
            person_id=person.id,
            answer=answer,
            instruction_version_id=version_id,
            seconds_spent=seconds,
            answered_at=now,
            idempotency_key=idempotency_key,
            gold_correct=gold_correct,
            pay_rate=project.pay_per_task,
            currency=project.currency,
            flag=FAST if fast else None,
        )
    except IntegrityError:
        # Not reachable through the locks above, unless one key is reused for
        # another assignment. On PostgreSQL the transaction is now aborted and
        # its commit rolls everything back; on SQLite it goes on, so give back
        # the slot claimed above. Either way nothing is stored twice.
        if claimed and not tx.is_postgresql:
            q.release_slot(tx, a.item_id)
        return AnswerResult("duplicate")
    qa.close_assignment(tx, assignment_id, "answered", now)
    count, target = q.bump_answer_count(tx, a.item_id, 1)
    failed = quality.after_gold_answer(tx, person.id, project, gold_correct, now)
    if not a.is_gold and count >= target and target < project.max_overlap:
        _extend_overlap_on_disagreement(tx, project, a.item_id)
    view = dispatch.build_view(
        tx,
        project,
        dispatch.version_for(tx, project, version_id),
        assignment_id=assignment_id,
        person_id=person.id,
        item_external_id=a.item_external_id,
        item_data=a.item_data,
        now=now,
        with_counts=False,
    )
    intents.edit(
        tx, f"assignment:{assignment_id}", render.recorded_message(view, answer, seconds), now
    )
    nxt = None
    if a.available:
        # Just fallen under the bar: if that leaves them without work, the push says
        # why (this project among the reasons), even if the reasons look unchanged.
        nxt = dispatch.offer_next_id(
            tx, person.id, a.profile_status, a.skills, now, tell_anyway=failed is not None
        )
    elif a.profile_status == "active":
        dispatch.tell_not_taking_tasks(tx, person.id, now)
    if failed is not None and (nxt is not None or not a.available):
        intents.dm(tx, person.id, no_task_render.disqualified(failed), now)
    return AnswerResult("recorded", answer_id, nxt)


def _extend_overlap_on_disagreement(tx: Tx, project: dispatch.ProjectInfo, item_id: int) -> None:
    """When an item reaches its target without a clear majority, ask one more
    contractor, up to the project's max_overlap (SPEC §2). A clear majority is
    the leading label holding at least AGREEMENT_SHARE of the answers, so 3-of-4
    settles an item while 2-of-3 or 2-2 asks again."""
    votes = Counter(
        label
        for a in qa.accepted_answers(tx, item_id)
        if (label := project.task_type.label(project.settings, a)) is not None
    )
    total = sum(votes.values())
    if total and votes.most_common(1)[0][1] / total < AGREEMENT_SHARE:
        qa.extend_target(tx, item_id)


def skip_task(
    session: Session,
    person: Person,
    assignment_id: int,
    reason: str,
    note: str | None,
    now: datetime,
) -> Assignment | None:
    """Skip with a reason; the item is never offered to this contractor again."""
    if reason not in render.SKIP_REASONS:
        choices = ", ".join(render.SKIP_REASONS.values())
        raise InvalidInput(f"Choose a reason: {choices}.", [f"reason: choose one of {choices}"])
    assignment = own_assignment(session, person, assignment_id)
    if assignment.status not in (*LIVE_ASSIGNMENT_STATUSES, "expired"):
        raise Conflict("This task is already closed.")
    view = dispatch.task_view(session, assignment, now, with_counts=False)
    was_holding = assignment.status in LIVE_ASSIGNMENT_STATUSES
    assignment.status = "skipped"
    assignment.skip_reason = reason
    assignment.skip_note = (note or "").strip()[:1000] or None
    assignment.closed_at = now
    item = session.get(Item, assignment.item_id)
    if was_holding and item is not None and not item.is_gold:
        q.release_slot(session, assignment.item_id)
    intents.edit(session, f"assignment:{assignment.id}", render.skipped_message(view, reason), now)
    audit.record(
        session,
        "task.skip",
        f"assignment:{assignment.id}",
        actor_id=person.id,
        reason=reason,
        at=now,
    )
    if person.profile is not None and person.profile.available:
        return dispatch.offer_next(session, person, now)
    if person.profile is not None and person.profile.status == "active":
        dispatch.tell_not_taking_tasks(Tx(session), person.id, now)
    return None


def check_reject_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Give a reason for rejecting the answer.")
    if len(reason) > REJECT_REASON_MAX:
        raise InvalidInput(f"The reason is too long (at most {REJECT_REASON_MAX} characters).")
    return reason


def reject_answer(
    session: Session, actor: Person, answer_id: int, reason: str, now: datetime
) -> Answer:
    """Researchers/ops reject an answer: not paid, the item goes back for another
    answer, the contractor is told why (SPEC §5 Review)."""
    require_role(session, actor, "researcher", "ops", action="reject answers")
    reason = check_reject_reason(reason)
    answer = session.get(Answer, answer_id)
    if answer is None:
        raise NotFound(f"no answer {answer_id}")
    if answer.status == "rejected":
        raise Conflict(f"answer {answer_id} is already rejected")
    reject(session, [answer], reason, actor.id, now)
    return answer


def reject(
    session: Session,
    answers: list[Answer],
    reason: str,
    actor_id: int | None,
    now: datetime,
    **details: Any,
) -> None:
    """Reject `answers` (none already rejected) for one checked `reason`: not paid (a
    week already approved is corrected when the next is drafted, found through the
    `answer.reject` audit entries), each item back for another answer, and each
    contractor told once, naming their items. `details` go into the audit log."""
    told: dict[tuple[int, int], list[str]] = {}
    titles: dict[int, str] = {}
    for answer in answers:
        answer.status = "rejected"
        answer.rejected_reason = reason
        answer.rejected_by = actor_id
        answer.rejected_at = now
        item = session.get(Item, answer.item_id)
        assert item is not None
        q.bump_answer_count(session, item.id, -1)
        if not item.is_gold:
            q.release_slot(session, item.id)
        if answer.project_id not in titles:
            project = session.get(Project, answer.project_id)
            assert project is not None
            titles[answer.project_id] = project.title
        told.setdefault((answer.person_id, answer.project_id), []).append(item.external_id)
        audit.record(
            session,
            "answer.reject",
            f"answer:{answer.id}",
            actor_id=actor_id,
            reason=reason,
            at=now,
            **details,
        )
    for (person_id, project_id), items in told.items():
        message = review_render.answers_rejected(titles[project_id], items, reason)
        intents.dm(session, person_id, message, now)
