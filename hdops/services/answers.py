"""Recording answers and skips (SPEC §5).

One transaction per answer: check the actor owns the assignment (ids in buttons
are never trusted), validate with the task type, insert the answer under its
idempotency key (a redelivered event or a double click stores nothing twice),
update the item's counts, edit the task message to the recorded answer and
offer the next task — all as outbox intents in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hdops import intents
from hdops.chat import Message, Paragraph
from hdops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hdops.render import tasks as render
from hdops.services import audit, dispatch
from hdops.services.people import require_role
from hdops.store import dispatch as q
from hdops.store.orm import Answer, Assignment, Item, Person, Project

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
        raise PermissionDenied("That task belongs to someone else.")
    return assignment


def submit_answer(
    session: Session,
    person: Person,
    assignment_id: int,
    raw_answer: dict[str, Any],
    idempotency_key: str,
    now: datetime,
) -> AnswerResult:
    existing = session.scalar(select(Answer.id).where(Answer.idempotency_key == idempotency_key))
    if existing is not None:
        return AnswerResult("duplicate", existing)
    assignment = own_assignment(session, person, assignment_id)
    if assignment.status == "answered":
        return AnswerResult("already")
    if assignment.status == "skipped":
        return AnswerResult("skipped")
    project = session.get(Project, assignment.project_id)
    item = session.get(Item, assignment.item_id)
    assert project is not None and item is not None
    settings = dispatch.settings_of(project)
    task_type = dispatch.task_type_of(project)
    answer = task_type.validate_answer(settings, raw_answer)

    if assignment.status == "expired" and not item.is_gold and not q.claim_slot(session, item.id):
        # Late and the item is full: tell them politely and move on.
        dispatch.offer_next(session, person, now)
        return AnswerResult("late_full")

    gold_correct = (
        task_type.is_correct(settings, answer, item.gold) if item.gold is not None else None
    )
    seconds = max(0, int((now - assignment.offered_at).total_seconds()) - assignment.paused_seconds)
    row = Answer(
        assignment_id=assignment.id,
        item_id=item.id,
        project_id=project.id,
        person_id=person.id,
        answer=answer,
        rationale=answer.get("rationale"),
        instruction_version_id=assignment.instruction_version_id,
        seconds_spent=seconds,
        answered_at=now,
        idempotency_key=idempotency_key,
        gold_correct=gold_correct,
        status="accepted",
        pay_rate=project.pay_per_task,
        currency=project.currency,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # A concurrent delivery of the same event won the race.
        return AnswerResult("duplicate")
    view = dispatch.task_view(session, assignment, now, with_counts=False)
    assignment.status = "answered"
    assignment.closed_at = now
    count, target = q.bump_answer_count(session, item.id, 1)
    if gold_correct is False:
        _tell_if_disqualified(session, person, project, now)
    if not item.is_gold and count >= target and target < project.max_overlap:
        _extend_overlap_on_disagreement(session, project, item)
    intents.edit(
        session, f"assignment:{assignment.id}", render.recorded_message(view, answer, seconds), now
    )
    nxt = None
    if person.profile is not None and person.profile.available:
        nxt = dispatch.offer_next(session, person, now)
    return AnswerResult("recorded", row.id, nxt.id if nxt else None)


def _extend_overlap_on_disagreement(session: Session, project: Project, item: Item) -> None:
    """When an item reaches its target without a clear majority, ask one more
    contractor, up to the project's max_overlap (SPEC §2). A clear majority is
    the leading label holding at least AGREEMENT_SHARE of the answers, so 3-of-4
    settles an item while 2-of-3 or 2-2 asks again."""
    settings = dispatch.settings_of(project)
    task_type = dispatch.task_type_of(project)
    votes = Counter(
        label
        for a in session.scalars(
            select(Answer.answer).where(Answer.item_id == item.id, Answer.status == "accepted")
        )
        if (label := task_type.label(settings, a)) is not None
    )
    total = sum(votes.values())
    if total and votes.most_common(1)[0][1] / total < AGREEMENT_SHARE:
        session.execute(
            update(Item)
            .where(Item.id == item.id)
            .values(target=Item.target + 1, open_slots=Item.open_slots + 1)
        )


def _tell_if_disqualified(
    session: Session, person: Person, project: Project, now: datetime
) -> None:
    """A gold answer can drop a contractor below the project's bar: tell them once,
    at the moment it happens, instead of their tasks silently drying up."""
    qual = dispatch.spec_of(project).qualification
    if qual is None or qual.min_gold_answered == 0:
        return
    answered, correct = q.gold_record(session, project.id, person.id)
    if answered < qual.min_gold_answered:
        return
    accuracy = correct / answered
    was = (correct - 1) / (answered - 1) if answered > qual.min_gold_answered else None
    if accuracy >= qual.min_gold_accuracy:
        return
    if was is not None and was < qual.min_gold_accuracy:
        return  # already below the bar before this answer: already told
    text = (
        f"Your accuracy on check items in {project.title} is {accuracy:.0%} "
        f"(needed: {qual.min_gold_accuracy:.0%}), so you won't get more tasks from this "
        "project for now. Ops can tell you more."
    )
    intents.dm(session, person.id, Message(text=text, parts=[Paragraph(text=text)]), now)
    audit.record(
        session,
        "qualification.failed",
        project.name,
        actor_id=person.id,
        at=now,
        accuracy=round(accuracy, 3),
    )


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
    if assignment.status not in ("offered", "waiting", "expired"):
        raise Conflict("This task is already closed.")
    view = dispatch.task_view(session, assignment, now, with_counts=False)
    was_holding = assignment.status in ("offered", "waiting")
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
    return None


def reject_answer(
    session: Session, actor: Person, answer_id: int, reason: str, now: datetime
) -> Answer:
    """Researchers/ops reject an answer: not paid, the item goes back for another
    answer, the contractor is told why (SPEC §5 Review)."""
    require_role(session, actor, "researcher", "ops", action="reject answers")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Give a reason for rejecting the answer.")
    if len(reason) > REJECT_REASON_MAX:
        raise InvalidInput(f"The reason is too long (at most {REJECT_REASON_MAX} characters).")
    answer = session.get(Answer, answer_id)
    if answer is None:
        raise NotFound(f"no answer {answer_id}")
    if answer.status == "rejected":
        raise Conflict(f"answer {answer_id} is already rejected")
    answer.status = "rejected"
    answer.rejected_reason = reason
    answer.rejected_by = actor.id
    answer.rejected_at = now
    item = session.get(Item, answer.item_id)
    assert item is not None
    q.bump_answer_count(session, item.id, -1)
    if not item.is_gold:
        q.release_slot(session, item.id)
    project = session.get(Project, answer.project_id)
    assert project is not None
    text = (
        f"Your answer to item {item.external_id} in {project.title} was rejected: {reason}. "
        "It will not be paid."
    )
    intents.dm(session, answer.person_id, Message(text=text, parts=[Paragraph(text=text)]), now)
    audit.record(
        session, "answer.reject", f"answer:{answer.id}", actor_id=actor.id, reason=reason, at=now
    )
    return answer
