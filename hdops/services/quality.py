"""Evidence about quality as it arrives (SPEC §6b): answers far faster than usual,
and contractors falling under a project's bar (the auto-pause).

An answer to a regular item that took at most a third of both the contractor's
and the project's typical time is stored flagged (`too_fast`, on the answer
path; the rule and its numbers are in `hdops.domain.review`).

The bar is the project's `qualification.min_gold_accuracy`, over the whole gold
record and over the latest gold answers (`hdops.domain.qualification`). The
dispatcher reads the standing afresh for every task, so the pause itself needs
no state: under the bar, a contractor gets only that project's check items.
This module handles the moment of falling under it, which happens once per fall
and is found by comparing the standing before and after the new evidence:

* on a gold answer (`after_gold_answer`, in the answer's transaction), and
* when a project's qualification rule changes (`after_rule_change`).

At that moment, in the same transaction: their unreviewed answers to regular
items are flagged for review (all of them when the whole record is under the
bar — they failed qualification; those since the first of the latest gold
answers when only those are), the fall is audited, and ops are told — once. The
contractor is told by the caller (`hdops.services.answers`: a DM if work goes
on, else the no-task reasons), or here on a rule change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hdops import intents
from hdops.domain import review as rules
from hdops.domain.no_task import Blocked
from hdops.domain.projects import Qualification
from hdops.domain.qualification import Standing, gold_standing, needs_gold_record, window
from hdops.domain.review import FAILED, UNDER_BAR
from hdops.render import no_task as no_task_render
from hdops.render import review as render
from hdops.services import audit, dispatch
from hdops.store import dispatch as q
from hdops.store import review as review_q
from hdops.store.orm import Person
from hdops.store.prepared import Tx


@dataclass(frozen=True)
class Record:
    """A contractor's gold record in a project: all of it, and the latest answers
    (newest first, with when each was given)."""

    answered: int
    correct: int
    latest: tuple[tuple[bool, datetime], ...]

    def standing(self, qual: Qualification | None) -> Standing:
        return gold_standing(qual, self.answered, self.correct, [ok for ok, _ in self.latest])

    def without_newest(self) -> Record:
        """The record before its newest answer."""
        ok = self.latest[0][0]
        return Record(self.answered - 1, self.correct - (1 if ok else 0), self.latest[1:])


def too_fast(tx: Tx, project_id: int, person_id: int, seconds: int) -> bool:
    """Whether an answer to a regular item that took `seconds` is far faster than
    usual. On the answer path: one count over the project's latest answers, from
    an index alone, and the contractor's own only when the answer is far faster
    than the project's typical time (rarely)."""
    project = review_q.project_window(tx, project_id, seconds)
    if not project.far_faster(rules.MIN_PROJECT_ANSWERS):
        return False
    return rules.too_fast(review_q.own_window(tx, project_id, person_id, seconds), project)


def _record(tx: Tx, project_id: int, person_id: int, size: int) -> Record:
    answered, correct = q.gold_record(tx, project_id, person_id)
    latest = q.recent_gold(tx, project_id, person_id, size) if answered > 0 else []
    return Record(answered, correct, tuple(latest))


def after_gold_answer(
    tx: Tx, person_id: int, project: dispatch.ProjectInfo, correct: bool | None, now: datetime
) -> Blocked | None:
    """After an answer to a gold item (`correct` is not None): if it just put the
    contractor under the project's bar — at the end of screening (even on a right
    answer: 3 of 5 is under 80 %), or by falling below it later — flag their
    answers, audit it and tell ops; the reason, for telling the contractor."""
    qual = project.spec.qualification
    if correct is None or not needs_gold_record(qual):
        return None
    # The latest window+1 answers: the window after this answer, and the one before.
    record = _record(tx, project.id, person_id, window(qual) + 1)
    now_standing = record.standing(qual)
    if now_standing.state != "failed":
        return None
    if record.without_newest().standing(qual).state == "failed":
        return None  # already under the bar before this answer: already dealt with
    _fell(tx, project, person_id, record, now_standing, now)
    return dispatch.failed_reason(project, now_standing)


def after_rule_change(
    session: Session, project_id: int, old: Qualification | None, now: datetime
) -> int:
    """The project's qualification rule changed (`hdops project update`): everyone
    the new rule puts under the bar who was not under the old one is dealt with as
    if they had just fallen, and told. How many fell."""
    tx = Tx(session)
    project = dispatch.project_info(tx, project_id)
    new = project.spec.qualification
    if new == old or not needs_gold_record(new):
        return 0
    size = max(window(old), window(new))
    fell = 0
    for person_id in review_q.gold_answerers(session, project_id):
        record = _record(tx, project_id, person_id, size)
        standing = record.standing(new)
        if standing.state != "failed" or record.standing(old).state == "failed":
            continue
        _fell(tx, project, person_id, record, standing, now)
        reason = dispatch.failed_reason(project, standing)
        intents.dm(tx, person_id, no_task_render.disqualified(reason), now)
        fell += 1
    return fell


def _fell(
    tx: Tx,
    project: dispatch.ProjectInfo,
    person_id: int,
    record: Record,
    standing: Standing,
    now: datetime,
) -> None:
    """Flag, audit and tell ops that a contractor just fell under the bar."""
    if standing.recent:
        # The answers given while their latest gold answers were being given.
        since = record.latest[standing.answered - 1][1]
        flagged = review_q.flag_answers(tx, project.id, person_id, UNDER_BAR, now, since)
    else:
        flagged = review_q.flag_answers(tx, project.id, person_id, FAILED, now)
    accuracy = standing.correct / standing.answered if standing.answered else 0.0
    audit.record(
        tx.session,
        "qualification.failed",
        project.name,
        actor_id=person_id,
        at=now,
        accuracy=round(accuracy, 3),
        gold_answered=standing.answered,
        recent=standing.recent,
        flagged=flagged,
    )
    person = tx.session.get(Person, person_id)
    name = person.display_name if person is not None else f"person {person_id}"
    qual = project.spec.qualification
    bar = qual.min_gold_accuracy if qual is not None else 0.0
    intents.to_ops(
        tx,
        render.fell_under_bar(name, project.title, project.name, standing, bar, flagged),
        now,
    )
