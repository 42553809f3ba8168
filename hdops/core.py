"""The core's front door: what every adapter calls with a decoded event.

Each entry point runs one unit of work: dedupe the platform event id, resolve
the platform identity to a person (unknown people get one clear message), do
the use case, and map domain errors to a private reply. State changes and the
messages they cause commit together; `on_commit` then wakes the delivery loop
so the messages go out at once (and the loop finds them after a crash anyway).

Nothing escapes an entry point: every interaction ends in a stored result or a
reply saying it did not work. Any other exception (a bug, a database that
stayed locked past its busy timeout) rolls the unit of work back, is logged,
counted through `on_failure(platform, kind)` and answered privately — "busy,
try again in a minute" when the database was only busy (`is_busy`), "did not
work, try again or tell ops" otherwise; a form gets it as a form error. This
lives here rather than in each adapter so that no front end (Slack, the local
chat, a future one) can forget it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hdops import actions, intents
from hdops.chat import Reply
from hdops.clock import Clock, SystemClock
from hdops.commands import payouts as payout_commands
from hdops.commands import run_command
from hdops.config import Settings
from hdops.domain.people import parse_identity
from hdops.domain.relay import SharedFile
from hdops.errors import HdopsError, InvalidInput, NotFound, PermissionDenied
from hdops.intents import HandoffTarget
from hdops.render import problems
from hdops.render import relay as relay_render
from hdops.render import shifts as shift_render
from hdops.render import tasks as task_render
from hdops.render.clarifications import faq_form
from hdops.services import answers, audit, checkins, clarifications, dispatch, disputes, scope
from hdops.services import people as people_service
from hdops.services import projects as project_service
from hdops.services import shifts as shift_service
from hdops.services import sweep as periodic
from hdops.store import outbox
from hdops.store.db import Store, is_busy
from hdops.store.orm import InstructionVersion, Person, Project

log = logging.getLogger(__name__)


# What a person is told they sent, by entry point (`kind`).
_WHAT = {"command": "command", "action": "button press", "form": "form", "thread_reply": "message"}

OnFailure = Callable[[str, str], None]  # (platform, kind): an interaction failed


def _unknown(identity: str) -> Reply:
    return Reply.say(
        f"You're not registered with hdops yet. Ask ops to add you (your id: {identity})."
    )


class Core:
    """Platform-neutral entry points. Thread-safe: every call has its own session."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock | None = None,
        on_commit: Callable[[], None] | None = None,
        handoff: HandoffTarget | None = None,
        on_failure: OnFailure | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock or SystemClock()
        self.on_commit = on_commit or (lambda: None)
        # The running delivery loop: what an interaction enqueues is handed to it
        # after commit, skipping its claim round trip (`Deliverer.accept`).
        self.handoff = handoff
        # Counts failed interactions (the runtime wires it to its metrics).
        self.on_failure = on_failure or (lambda platform, kind: None)

    # ------------------------------------------------------------------ plumbing

    def _run(
        self,
        identity: str,
        event_id: str | None,
        fn: Callable[[Session, Person], Reply],
        *,
        kind: str,
        form: bool = False,
        if_unknown: Reply | None = None,
    ) -> Reply:
        """`fn` in one unit of work; whatever it raises becomes a reply (see the
        module docstring). `kind`: which entry point, for the log, the count and
        the words of a failure reply."""
        try:
            return self._unit(identity, event_id, fn, form=form, if_unknown=if_unknown)
        except Exception as exc:
            return self._failed(identity, kind, exc, form=form)

    def _failed(self, identity: str, kind: str, exc: Exception, *, form: bool) -> Reply:
        """The unit of work was rolled back: log, count and tell the person."""
        platform = identity.partition(":")[0][:16] or "unknown"
        what = _WHAT[kind]
        if is_busy(exc):
            reason = getattr(exc, "orig", None) or exc  # the driver's words, not the SQL
            log.warning("%s from %s not done, the database is busy: %s", kind, platform, reason)
            message = problems.busy(what)
        else:
            log.error("%s from %s failed", kind, platform, exc_info=exc)
            message = problems.failed(what)
        try:
            self.on_failure(platform, kind)
        except Exception:
            log.exception("could not count a failed %s", kind)
        if form:
            return Reply(form_errors={"_": message.text})
        return Reply(message=message)

    def _unit(
        self,
        identity: str,
        event_id: str | None,
        fn: Callable[[Session, Person], Reply],
        *,
        form: bool,
        if_unknown: Reply | None,
    ) -> Reply:
        """`if_unknown`: the reply for an identity hdops does not know (default: how
        to get registered)."""
        now = self.clock.now()
        handoff = self.handoff if self.handoff is not None and self.handoff.ready() else None
        handed: list[intents.Handed] = []
        try:
            with self.store.unit_of_work() as session:
                if handoff is not None:
                    handed = intents.collect_handoff(session, handoff)
                if event_id is not None and not outbox.first_delivery(session, event_id, now):
                    log.info("duplicate event %s ignored", event_id)
                    return Reply.nothing()
                try:
                    key = parse_identity(identity)
                except InvalidInput:
                    return _unknown(identity) if if_unknown is None else if_unknown
                person = people_service.person_by_identity(session, key.platform, key.external_id)
                if person is None:
                    return _unknown(identity) if if_unknown is None else if_unknown
                if person.last_platform != key.platform:
                    person.last_platform = key.platform  # their messages now go here
                # Anything a person does keeps their check-in from closing as idle.
                checkins.note_activity(session, person.id, now)
                reply = fn(session, person)
        except InvalidInput as exc:
            if form:
                # "_" means "the form as a whole": adapters show it on the first field.
                errors = _field_errors(exc.problems) if exc.problems else {"_": exc.message}
                return Reply(form_errors=errors)
            return Reply.say(exc.message)
        except PermissionDenied as exc:
            self._audit_refusal(exc)
            return Reply.say(exc.message)
        except HdopsError as exc:
            return Reply.say(exc.message)
        if handoff is not None:
            # Everything this unit of work enqueued is in `handed`: nothing for the
            # loop to claim, so no need to wake it.
            handoff.accept(handed)
        else:
            self.on_commit()
        return reply

    def _audit_refusal(self, exc: PermissionDenied) -> None:
        """Keep a refused action (a role it needs, or someone else's task, shift or
        statement: a forged or misrouted button) in the audit log. Written in its own
        transaction: the refused one was rolled back, so nothing else changed."""
        if exc.actor_id is None:
            return
        with self.store.unit_of_work() as session:
            audit.record(
                session,
                "access.denied",
                exc.subject,
                actor_id=exc.actor_id,
                at=self.clock.now(),
                reason=exc.message,
            )

    # ------------------------------------------------------------------ entry points

    def command(
        self, identity: str, text: str, event_id: str | None = None, platform: str = "console"
    ) -> Reply:
        """`/hdops …` from any front end."""

        def run(session: Session, person: Person) -> Reply:
            return run_command(session, person, text, self.clock.now(), self.settings, platform)

        return self._run(identity, event_id, run, kind="command")

    def action(
        self,
        identity: str,
        action_id: str,
        values: list[str] | None = None,
        event_id: str | None = None,
    ) -> Reply:
        """A button press or select choice carrying an `hd:` action id."""
        key = event_id or f"local:{uuid.uuid4().hex}"

        def run(session: Session, person: Person) -> Reply:
            act = actions.decode(action_id)
            return self._do_action(session, person, act, list(values or []), key)

        return self._run(identity, event_id, run, kind="action")

    def form(
        self, identity: str, form_id: str, fields: dict[str, str], event_id: str | None = None
    ) -> Reply:
        """A submitted form. Invalid input comes back as per-field errors."""
        key = event_id or f"local:{uuid.uuid4().hex}"

        def run(session: Session, person: Person) -> Reply:
            act = actions.decode(form_id)
            return self._do_form(session, person, act, fields, key)

        return self._run(identity, event_id, run, kind="form", form=True)

    def thread_reply(
        self,
        identity: str,
        platform: str,
        channel: str,
        parent_message_id: str,
        text: str,
        event_id: str | None = None,
        *,
        files: Sequence[SharedFile] = (),
        edited: bool = False,
    ) -> Reply:
        """A message in a thread under one of our messages: relay it if it belongs to a
        clarification or dispute; otherwise ignore it (people talk in threads too).

        `text` is neutral (platform markup already made readable by the adapter);
        `files` are the files it carried; `edited` says it is the new version of a
        message already posted (it is relayed again, marked as edited)."""
        relay = _Relay(text, tuple(files), edited)

        def run(session: Session, person: Person) -> Reply:
            keys = outbox.keys_for_message(session, platform, channel, parent_message_id)
            for key in keys:
                kind, _, ident = key.partition(":")
                if kind in _RELAY_THREADS:
                    return self._relay(session, person, kind, int(ident), relay)
            return Reply.nothing()

        return self._run(identity, event_id, run, kind="thread_reply")

    def thread_deleted(
        self,
        identity: str,
        platform: str,
        channel: str,
        parent_message_id: str,
        event_id: str | None = None,
    ) -> Reply:
        """A person deleted their message in a thread under one of ours. In a relay
        thread they are told that the copy already relayed stays (chat platforms
        cannot unsend it, and a silent delete would leave two sides disagreeing);
        anywhere else, and for people hdops does not know, nothing happens."""

        def run(session: Session, person: Person) -> Reply:
            keys = outbox.keys_for_message(session, platform, channel, parent_message_id)
            if any(key.partition(":")[0] in _RELAY_THREADS for key in keys):
                return Reply(message=relay_render.deletion_not_relayed())
            return Reply.nothing()

        return self._run(identity, event_id, run, kind="thread_reply", if_unknown=Reply.nothing())

    def display_names(self, platform: str, external_ids: Sequence[str]) -> dict[str, str]:
        """How hdops names the people behind these platform user ids (those it knows),
        so adapters show mentions as names."""
        with self.store.unit_of_work() as session:
            return people_service.display_names(session, platform, external_ids)

    def _relay(
        self, session: Session, person: Person, kind: str, ident: int, relay: _Relay
    ) -> Reply:
        now = self.clock.now()
        text, files, edited = relay.text, relay.files, relay.edited
        if kind == "clar":
            clar = clarifications.get_clarification(session, ident)
            clarifications.relay_from_researcher(
                session, person, clar, text, now, files=files, edited=edited
            )
        elif kind == "assignment":
            latest = clarifications.latest_for_assignment(session, ident)
            if latest is None:
                return Reply.say("To ask about this task, press “Ask a question” on it.")
            clarifications.relay_from_contractor(
                session, person, latest, text, now, files=files, edited=edited
            )
        elif kind == "dispute":  # the ops thread of a payout dispute
            disputes.relay_from_ops(session, person, ident, text, now, files=files, edited=edited)
        else:  # "dispute-dm": the contractor's thread of that dispute
            disputes.relay_from_contractor(
                session, person, ident, text, now, files=files, edited=edited
            )
        return Reply.nothing()

    # ------------------------------------------------------------------ actions

    def _do_action(
        self, session: Session, person: Person, act: actions.Action, values: list[str], key: str
    ) -> Reply:
        now = self.clock.now()
        if act.verb == actions.ANSWER:
            assignment = answers.own_assignment(session, person, act.id)
            project = session.get(Project, assignment.project_id)
            assert project is not None
            settings = dispatch.settings_of(project)
            task_type = dispatch.task_type_of(project)
            raw = task_type.answer_from_action(settings, act.arg, values)
            if settings.rationale != "none" and assignment.status != "answered":
                # Check the choice now; the rationale comes in the form.
                task_type.validate_answer(settings, {**raw, "rationale": "-"})
                value = act.arg if act.arg is not None else "|".join(values)
                return Reply(
                    form=task_render.rationale_form(
                        assignment.id, settings, value, task_type.describe(settings, raw)
                    )
                )
            return self._answered(session, person, assignment.id, raw, key)
        if act.verb == actions.TEXT:
            assignment = answers.own_assignment(session, person, act.id)
            project = session.get(Project, assignment.project_id)
            assert project is not None
            if assignment.status in ("answered", "skipped"):
                return Reply.say("This task is already closed.")
            return Reply(
                form=task_render.text_answer_form(
                    assignment.id, dispatch.settings_of(project), project.task_type
                )
            )
        if act.verb == actions.SKIP:
            assignment = answers.own_assignment(session, person, act.id)
            if assignment.status in ("answered", "skipped"):
                return Reply.say("This task is already closed.")
            return Reply(form=task_render.skip_form(assignment.id))
        if act.verb == actions.ASK:
            assignment = answers.own_assignment(session, person, act.id)
            return Reply(form=task_render.ask_form(assignment.id))
        if act.verb == actions.FULL:
            assignment = answers.own_assignment(session, person, act.id)
            view = dispatch.task_view(session, assignment, now)
            index = int(act.arg or 0)
            if not 0 <= index < len(view.fields):
                raise NotFound("That field does not exist.")
            return Reply(message=task_render.full_text_message(view, index))
        if act.verb == actions.INSTRUCTIONS:
            version = session.get(InstructionVersion, act.id)
            if version is None:
                raise NotFound("Those instructions no longer exist.")
            project = session.get(Project, version.project_id)
            assert project is not None
            scope.require_see(session, person, project, "those instructions")
            current = project_service.current_version(session, project.id)
            return Reply(
                message=task_render.instructions_message(
                    project.title,
                    current.version,
                    current.body,
                    [(f.question, f.answer) for f in current.faq],
                )
            )
        if act.verb == actions.RESOLVE:
            done = clarifications.resolve(session, person, act.id, now)
            return Reply.say("Resolved." if done else "That question was already resolved.")
        if act.verb == actions.FAQ:
            clar = clarifications.get_clarification(session, act.id)
            clarifications.require_lead_of(session, person, clar, "edit the FAQ")
            return Reply(
                form=faq_form(
                    clar.id, clar.question, clarifications.last_researcher_reply(session, clar.id)
                )
            )
        if act.verb in (actions.SWAP_OK, actions.SWAP_NO):
            text = shift_service.answer_swap(
                session,
                person,
                act.id,
                act.arg,
                act.verb == actions.SWAP_OK,
                settings=self.settings,
                now=now,
            )
            return Reply.say(text)
        if act.verb in (actions.APPROVE, actions.DISPUTE):
            return payout_commands.handle_action(session, person, act, now, self.settings)
        if act.verb == actions.CHECKIN_FIX:
            entry = checkins.check_in_to_fix(session, person, act.id)
            assert entry.ended_at is not None
            zone = shift_service.zone_of(person, self.settings)
            return Reply(
                form=shift_render.check_in_fix_form(
                    entry.id, entry.started_at, entry.ended_at, zone
                )
            )
        raise InvalidInput("That button is not recognised (it may be from an old version).")

    def _answered(
        self, session: Session, person: Person, assignment_id: int, raw: dict[str, Any], key: str
    ) -> Reply:
        result = answers.submit_answer(session, person, assignment_id, raw, key, self.clock.now())
        text = result.reply_text
        return Reply.say(text) if text else Reply.nothing()

    # ------------------------------------------------------------------ forms

    def _do_form(
        self,
        session: Session,
        person: Person,
        act: actions.Action,
        fields: dict[str, str],
        key: str,
    ) -> Reply:
        now = self.clock.now()
        if act.verb == actions.F_TEXT:
            assignment = answers.own_assignment(session, person, act.id)
            project = session.get(Project, assignment.project_id)
            assert project is not None
            settings = dispatch.settings_of(project)
            raw = dispatch.task_type_of(project).answer_from_form(settings, fields)
            if fields.get("rationale"):
                raw["rationale"] = fields["rationale"]
            return self._answered(session, person, assignment.id, raw, key)
        if act.verb == actions.F_RATIONALE:
            assignment = answers.own_assignment(session, person, act.id)
            project = session.get(Project, assignment.project_id)
            assert project is not None
            settings = dispatch.settings_of(project)
            values = (act.arg or "").split("|") if act.arg else []
            raw = dispatch.task_type_of(project).answer_from_action(settings, None, values)
            if fields.get("rationale", "").strip():
                raw["rationale"] = fields["rationale"]
            return self._answered(session, person, assignment.id, raw, key)
        if act.verb == actions.F_SKIP:
            answers.skip_task(
                session, person, act.id, fields.get("reason", ""), fields.get("note"), now
            )
            return Reply.nothing()
        if act.verb == actions.F_ASK:
            try:
                clar = clarifications.open_clarification(
                    session, person, act.id, fields.get("question", ""), now
                )
            except InvalidInput as exc:
                raise InvalidInput(exc.message, [f"question: {exc.message}"]) from None
            return Reply.say(f"Question #{clar.id} sent. Replies appear in the task's thread.")
        if act.verb == actions.F_FAQ:
            version = clarifications.add_to_faq(
                session, person, act.id, fields.get("question", ""), fields.get("answer", ""), now
            )
            return Reply.say(f"Added to the FAQ (instructions v{version}).")
        if act.verb == actions.F_DISPUTE:
            return payout_commands.handle_form(session, person, act, fields, now, self.settings)
        if act.verb == actions.F_CHECKIN_FIX:
            try:
                fixed = checkins.fix_check_in(
                    session,
                    person,
                    fields.get("until", ""),
                    fields.get("reason", ""),
                    settings=self.settings,
                    now=now,
                    entry_id=act.id,
                )
            except InvalidInput as exc:
                field = "reason" if "reason" in exc.message.lower() else "until"
                raise InvalidInput(exc.message, [f"{field}: {exc.message}"]) from None
            assert fixed.entry.ended_at is not None
            return shift_render.check_in_fixed_reply(
                fixed.entry.started_at, fixed.entry.ended_at, fixed.zone
            )
        raise InvalidInput("That form is not recognised (it may be from an old version).")

    # ------------------------------------------------------------------ periodic work

    def sweep(self) -> dict[str, int]:
        """Periodic work the scheduler drives: expire leases, escalate questions,
        close check-ins without activity, push tasks to idle available contractors."""
        with self.store.unit_of_work() as session:
            done = periodic.sweep(session, self.settings, self.clock.now())
        self.on_commit()
        return done


# Threads whose replies are relayed: the researchers' thread of a question (`clar`),
# the contractor's task thread (`assignment`), and both threads of a payout dispute.
_RELAY_THREADS = frozenset({"clar", "assignment", "dispute", "dispute-dm"})


@dataclass(frozen=True)
class _Relay:
    text: str
    files: tuple[SharedFile, ...]
    edited: bool


def _field_errors(problems: list[str]) -> dict[str, str]:
    """`answer.text: at least 20 characters` → {"text": "at least 20 characters"}."""
    errors: dict[str, str] = {}
    for problem in problems:
        path, _, reason = problem.partition(": ")
        name = path.split(".")[-1] if path else "form"
        errors.setdefault(name, reason or problem)
    return errors


__all__ = ["Core", "PermissionDenied"]
