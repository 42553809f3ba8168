"""Clarification questions, carried to researchers and back (SPEC §6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hdops import intents
from hdops.chat import Message
from hdops.domain.clarifications import ClarificationSummary
from hdops.domain.relay import SharedFile, relay_text
from hdops.errors import Conflict, InvalidInput, NotFound
from hdops.render import clarifications as render
from hdops.services import audit, dispatch, scope
from hdops.services import projects as project_service
from hdops.services.answers import own_assignment
from hdops.services.relay import relay_to_thread
from hdops.services.shifts import shifts as shift_service
from hdops.store import clarifications as clar_q
from hdops.store.items import LIVE_ASSIGNMENT_STATUSES
from hdops.store.orm import (
    Assignment,
    Clarification,
    ClarificationMessage,
    Item,
    Person,
    Project,
)

MAX_TEXT = 3000  # questions and FAQ entries (they are edited in 3000-character form fields)
RECENT_ACTIVITY = timedelta(days=7)


def _clean(text: str, what: str = "message") -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(f"The {what} is empty.")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"The {what} is too long (at most {MAX_TEXT} characters).")
    return text


def _channels(project: Project) -> dict[str, str]:
    """The channels a question is posted to: the spec's home channel only, when it
    names one (so researchers answer in one place whichever platform the
    contractor is on); else every configured one, for whichever bot serves them."""
    spec = project.spec.get("clarifications") or {}
    mapping = {
        "slack": spec.get("slack_channel"),
        "discord": spec.get("discord_channel"),
        "console": spec.get("console_channel") or "clarifications",
    }
    home = spec.get("home")
    if home is not None and mapping.get(home):
        return {home: str(mapping[home])}
    return {k: v for k, v in mapping.items() if v}


def researchers_of(project: Project) -> list[str]:
    return list(project.spec.get("researchers") or [])


def _post(
    session: Session,
    clar: Clarification,
    project: Project,
    now: datetime,
    resolved_by: str | None = None,
    on_call: list[str] | None = None,
) -> Message:
    item = session.get(Item, clar.item_id) if clar.item_id else None
    asker = session.get(Person, clar.person_id)
    settings = dispatch.settings_of(project)
    fields = [(f, str(item.data.get(f, ""))) for f in settings.fields] if item else []
    return render.question_post(
        clar.id,
        project.title,
        item.external_id if item else "-",
        asker.display_name if asker else "?",
        clar.question,
        fields,
        on_call=on_call or (),
        resolved_by=resolved_by,
    )


def _record_message(
    session: Session,
    clar: Clarification,
    author: Person,
    direction: str,
    text: str,
    now: datetime,
) -> None:
    """Keep every relayed message of a question (to_researchers | to_contractor)."""
    session.add(
        ClarificationMessage(
            clarification_id=clar.id,
            author_id=author.id,
            direction=direction,
            text=text,
            created_at=now,
        )
    )


def open_clarification(
    session: Session, person: Person, assignment_id: int, question: str, now: datetime
) -> Clarification:
    question = _clean(question, "question")
    assignment = own_assignment(session, person, assignment_id)
    if assignment.status not in (*LIVE_ASSIGNMENT_STATUSES, "expired"):
        raise Conflict("This task is closed; ask about your current task instead.")
    project = session.get(Project, assignment.project_id)
    assert project is not None
    clar = Clarification(
        project_id=project.id,
        item_id=assignment.item_id,
        assignment_id=assignment.id,
        person_id=person.id,
        question=question,
        status="open",
        opened_at=now,
        escalations=0,
        refs={},
    )
    session.add(clar)
    session.flush()
    _record_message(session, clar, person, "to_researchers", question, now)
    if assignment.status in ("offered", "ready"):
        # The item waits for them and stops counting against their speed.
        assignment.status = "waiting"
        assignment.leased_until = now + dispatch.WAITING_HOLD
    # The researcher on call (a researcher shift now) is mentioned at once; the
    # others only if it escalates (`due_escalations`).
    on_call = shift_service.on_call(session, researchers_of(project), now)
    intents.to_channels(
        session,
        _channels(project),
        _post(session, clar, project, now, on_call=on_call),
        now,
        ref=f"clar:{clar.id}",
    )
    intents.in_thread(session, f"assignment:{assignment.id}", render.question_sent(clar.id), now)
    audit.record(session, "clarification.open", f"clar:{clar.id}", actor_id=person.id, at=now)
    if person.profile is not None and person.profile.available:
        dispatch.offer_next(session, person, now)
    return clar


def current_or_last_assignment(session: Session, person: Person) -> Assignment:
    """The task `/hdops ask` is about: the open one, else the most recent."""
    assignment = clar_q.current_or_last_assignment(session, person.id)
    if assignment is None:
        raise NotFound("You have no task to ask about yet — use /hdops next to get one.")
    return assignment


def relay_from_researcher(
    session: Session,
    author: Person,
    clar: Clarification,
    text: str,
    now: datetime,
    *,
    files: Sequence[SharedFile] = (),
    edited: bool = False,
) -> None:
    """A reply in the researchers' thread goes to the contractor's task thread
    (split across messages when long; an edit is relayed as a new message)."""
    text = relay_text(text, files)
    require_lead_of(session, author, clar, "answer its questions")
    _record_message(session, clar, author, "to_contractor", text, now)
    if clar.first_answered_at is None:
        clar.first_answered_at = now
    relay_to_thread(
        session,
        f"assignment:{clar.assignment_id}",
        author.display_name,
        "researcher",
        text,
        now,
        edited=edited,
    )


def relay_from_contractor(
    session: Session,
    author: Person,
    clar: Clarification,
    text: str,
    now: datetime,
    *,
    files: Sequence[SharedFile] = (),
    edited: bool = False,
) -> None:
    """A contractor's reply in their task thread goes to the researchers' thread."""
    text = relay_text(text, files)
    if author.id != clar.person_id:
        raise InvalidInput("Only the person who asked can reply in this thread.")
    _record_message(session, clar, author, "to_researchers", text, now)
    relay_to_thread(
        session, f"clar:{clar.id}", author.display_name, "contractor", text, now, edited=edited
    )


def latest_for_assignment(session: Session, assignment_id: int) -> Clarification | None:
    return clar_q.latest_for_assignment(session, assignment_id)


def require_lead_of(session: Session, person: Person, clar: Clarification, action: str) -> Project:
    """The question's project, if `person` is ops or one of its researchers."""
    project = session.get(Project, clar.project_id)
    assert project is not None
    scope.require_lead(session, person, project, action)
    return project


def get_clarification(session: Session, clarification_id: int) -> Clarification:
    clar = session.get(Clarification, clarification_id)
    if clar is None:
        raise NotFound(f"no question #{clarification_id}")
    return clar


def resolve(session: Session, actor: Person, clarification_id: int, now: datetime) -> bool:
    """Close a question; the contractor is told. The item held for them is theirs
    again (`_ready_again`). Returns False if it was already resolved (a double click
    changes nothing)."""
    clar = get_clarification(session, clarification_id)
    project = require_lead_of(session, actor, clar, "resolve its questions")
    if clar.status == "resolved":
        return False
    assignment = session.get(Assignment, clar.assignment_id) if clar.assignment_id else None
    if assignment is not None and assignment.status == "waiting":
        _ready_again(session, assignment, clar, project, now)
    clar.status = "resolved"
    clar.resolved_at = now
    clar.resolved_by = actor.id
    intents.edit(
        session,
        f"clar:{clar.id}",
        _post(session, clar, project, now, resolved_by=actor.display_name),
        now,
    )
    if assignment is not None:
        intents.in_thread(
            session,
            f"assignment:{assignment.id}",
            render.resolved_for_contractor(clar.id, actor.display_name),
            now,
        )
    audit.record(session, "clarification.resolve", f"clar:{clar.id}", actor_id=actor.id, at=now)
    asker = session.get(Person, clar.person_id)
    if (
        assignment is not None
        and assignment.status == "ready"
        and asker is not None
        and asker.profile is not None
        and asker.profile.available
    ):
        dispatch.offer_next(session, asker, now)  # free now: it is their next task at once
    return True


def _ready_again(
    session: Session, assignment: Assignment, clar: Clarification, project: Project, now: datetime
) -> None:
    """`clar` about this held item is being resolved. The time it was open is not
    time spent on the item (counted from when it opened, or from when an earlier
    question about the item was resolved if that came later, so overlapping
    questions are not counted twice). Once no question about it is open it is
    `ready`: offered to its contractor again before any new item (see
    `dispatch.assign_next`), held until they have finished the task they have open
    (if any) plus a lease, then back to the pool."""
    others = clar_q.others_about(session, assignment.id, clar.id)
    resolved = [o.resolved_at for o in others if o.resolved_at is not None]
    since = max([clar.opened_at, *resolved])
    assignment.paused_seconds += max(0, int((now - since).total_seconds()))
    if any(o.status == "open" for o in others):
        return
    assignment.status = "ready"
    busy_until = clar_q.open_task_lease(session, assignment.person_id)
    start = max(now, busy_until) if busy_until is not None else now
    assignment.leased_until = start + timedelta(minutes=project.lease_minutes)


def last_researcher_reply(session: Session, clarification_id: int) -> str:
    return clar_q.last_message(session, clarification_id, "to_contractor") or ""


def add_to_faq(
    session: Session,
    actor: Person,
    clarification_id: int,
    question: str,
    answer: str,
    now: datetime,
) -> int:
    """Append the Q&A to the project's FAQ as a new instruction version, tell the
    contractors active on the project, and resolve the question. Returns the version."""
    clar = get_clarification(session, clarification_id)
    project = require_lead_of(session, actor, clar, "edit its FAQ")
    question, answer = _clean(question, "question"), _clean(answer, "answer")
    change = project_service.add_instruction_version(
        session, project, faq_add=(question, answer, clar.id), actor_id=actor.id, now=now
    )
    if clar.status == "open":
        resolve(session, actor, clar.id, now)
    message = render.faq_added(project.title, change.version, question, answer)
    told = active_contractors(session, project.id, now)
    for person_id in told:
        intents.dm(session, person_id, message, now)
    project_service.shown_to(session, change, told)
    return change.version


def active_contractors(session: Session, project_id: int, now: datetime) -> list[int]:
    """Contractors with an open task in the project or one offered in the last week."""
    return clar_q.recent_workers(session, project_id, now - RECENT_ACTIVITY)


@dataclass(frozen=True)
class Escalation:
    clarification_id: int
    level: str  # researchers | ops


def due_escalations(session: Session, now: datetime) -> list[Escalation]:
    """Escalate unanswered questions: after `escalation.after_minutes` the project's
    researchers are mentioned in the thread; then every `repeat_minutes` the ops
    channel is told too. Idempotent for a given `now`: the scheduler calls it often."""
    done: list[Escalation] = []
    for clar in clar_q.unanswered(session):
        project = session.get(Project, clar.project_id)
        assert project is not None
        esc = project.spec.get("escalation") or {}
        after = timedelta(minutes=int(esc.get("after_minutes", 30)))
        repeat = timedelta(minutes=int(esc.get("repeat_minutes", 60)))
        waited = int((now - clar.opened_at).total_seconds() // 60)
        if clar.escalations == 0:
            if now - clar.opened_at < after:
                continue
            intents.in_thread(
                session,
                f"clar:{clar.id}",
                render.escalation(researchers_of(project), waited, clar.id),
                now,
            )
            done.append(Escalation(clar.id, "researchers"))
        else:
            assert clar.last_escalated_at is not None
            if now - clar.last_escalated_at < repeat:
                continue
            intents.in_thread(
                session,
                f"clar:{clar.id}",
                render.escalation(researchers_of(project), waited, clar.id),
                now,
            )
            intents.to_ops(session, render.escalation_to_ops(project.title, clar.id, waited), now)
            done.append(Escalation(clar.id, "ops"))
        clar.escalations += 1
        clar.last_escalated_at = now
    return done


def summaries(
    session: Session,
    project: Project | None = None,
    only_open: bool = False,
    within: Sequence[int] | None = None,
) -> list[ClarificationSummary]:
    """Questions with their time to first answer (`hdops clarifications`); `within`
    limits them to those projects (a researcher's own), None to none."""
    return clar_q.summaries(session, project.id if project else None, only_open, within)


def reply_thread(session: Session, person: Person, clarification_id: int) -> str:
    """The ref key of the thread in which `person` replies to question #N: the one
    who asked replies in their task's thread (relayed to the researchers), a
    researcher or ops in the researchers' thread (relayed to the asker)."""
    clar = get_clarification(session, clarification_id)
    if clar.person_id == person.id and clar.assignment_id is not None:
        return f"assignment:{clar.assignment_id}"
    require_lead_of(session, person, clar, "answer its questions")
    return f"clar:{clar.id}"
