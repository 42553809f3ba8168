"""The review queue (SPEC §6b): listing a project's flagged answers and deciding
them in bulk — `hdops review PROJECT` and `/hdops review PROJECT`.

What gets flagged, and when, is `hdops.services.quality_watch` (on the answer, and
when a contractor falls under the bar); the rules are `hdops.domain.review`.
Here a reviewer — ops or one of the project's researchers, or the CLI's
operating-system user, who acts as ops as in every other CLI command — decides:

* accept: the answer leaves the queue as `accepted` (and so enters the
  aggregates); the contractor is not told, nothing changes for them;
* reject: the existing reject path (`hdops.services.answers.reject`): not paid,
  the item goes back for another answer, the contractor told the reason (one
  message per contractor, naming their items).

A decision is all or nothing: every id must be a flagged answer of the project,
else nothing changes and every wrong id is listed. An answer decided in review
is never flagged again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hdops.domain.tasks.registry import get_task_type
from hdops.errors import InvalidInput
from hdops.render.review import QueueRow
from hdops.services import answers, audit, scope
from hdops.services.projects import get_project, task_settings
from hdops.store import review as q
from hdops.store.orm import Answer, Person, Project

MAX_IDS = 10_000


@dataclass(frozen=True)
class Reviewer:
    """Who decides: a person (chat, `--as`), or the CLI's operating-system user."""

    person: Person | None

    @property
    def person_id(self) -> int | None:
        return self.person.id if self.person is not None else None

    def audit_details(self) -> dict[str, Any]:
        return audit.cli_details() if self.person is None else {}


def open_queue(session: Session, project_name: str, reviewer: Reviewer) -> Project:
    """The project, if `reviewer` may review it (ops, or one of its researchers)."""
    project = get_project(session, project_name)
    if reviewer.person is not None:
        scope.require_lead(session, reviewer.person, project, "review its answers")
    return project


def queue(session: Session, project: Project) -> list[QueueRow]:
    """The project's flagged answers, oldest first, answers described as the task
    type shows them."""
    task_type = get_task_type(project.task_type)
    settings = task_settings(project)
    return [
        QueueRow(
            id=row.id,
            item=row.item,
            person=row.person,
            answer=task_type.describe(settings, row.answer),
            seconds=row.seconds,
            reasons=row.reasons,
        )
        for row in q.flagged(session, project.id)
    ]


@dataclass(frozen=True)
class Decision:
    verdict: str  # accepted | rejected
    ids: tuple[int, ...]


def decide(
    session: Session,
    project: Project,
    reviewer: Reviewer,
    *,
    accept: bool,
    ids: Sequence[int] | None,
    reason: str | None,
    now: datetime,
) -> Decision:
    """Accept or reject flagged answers of `project` (`ids`, or all of them when
    None) — all or nothing."""
    reason_text = None if accept else answers.check_reject_reason(reason or "")
    if ids is None:
        chosen = [row.id for row in q.flagged(session, project.id)]
    else:
        chosen = sorted(set(ids))
        _check(session, project, chosen)
    verdict = "accepted" if accept else "rejected"
    if not chosen:
        return Decision(verdict, ())
    if accept:
        q.accept(session, chosen, reviewer.person_id, now)
    else:
        assert reason_text is not None
        rows = [session.get(Answer, i) for i in chosen]
        picked = [a for a in rows if a is not None]
        for answer in picked:
            answer.reviewed_by = reviewer.person_id
            answer.reviewed_at = now
        answers.reject(
            session,
            picked,
            reason_text,
            reviewer.person_id,
            now,
            review=True,
            **reviewer.audit_details(),
        )
    audit.record(
        session,
        f"review.{'accept' if accept else 'reject'}",
        project.name,
        actor_id=reviewer.person_id,
        at=now,
        answers=chosen,
        reason=reason_text,
        **reviewer.audit_details(),
    )
    return Decision(verdict, tuple(chosen))


def _check(session: Session, project: Project, ids: list[int]) -> None:
    if not ids:
        raise InvalidInput("give the answer ids to decide, or --all")
    if len(ids) > MAX_IDS:
        raise InvalidInput(f"at most {MAX_IDS} answers at a time")
    found = q.statuses(session, project.id, ids)
    problems = []
    for i in ids:
        status = found.get(i)
        if status is None:
            problems.append(f"{i}: no answer {i} in {project.name}")
        elif status != "flagged":
            problems.append(f"{i}: not flagged for review (it is {status})")
    if problems:
        raise InvalidInput("Nothing was decided:", problems)
