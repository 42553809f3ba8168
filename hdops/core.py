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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hdops import actions, intents, interactions
from hdops.chat import Reply
from hdops.clock import Clock, SystemClock
from hdops.commands import command_spec, run_command
from hdops.config import Settings
from hdops.domain.people import parse_identity
from hdops.domain.relay import SharedFile
from hdops.errors import HdopsError, InvalidInput, NotFound, PermissionDenied, UnknownControl
from hdops.intents import HandoffTarget
from hdops.render import problems
from hdops.render import relay as relay_render
from hdops.services import audit, checkins, clarifications, disputes, suggestions
from hdops.services import people as people_service
from hdops.services import sweep as periodic
from hdops.store import outbox
from hdops.store.db import Store, is_busy
from hdops.store.orm import Person

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
            with _forgeries_refused(person, "button", action_id):
                _check_size(person, "button", action_id, values or [], {})
                ctx = self._context(session, person, actions.decode(action_id), key)
                ctx.values = list(values or [])
                return interactions.run_button(ctx)

        return self._run(identity, event_id, run, kind="action")

    def form(
        self, identity: str, form_id: str, fields: dict[str, str], event_id: str | None = None
    ) -> Reply:
        """A submitted form. Invalid input comes back as per-field errors."""
        key = event_id or f"local:{uuid.uuid4().hex}"

        def run(session: Session, person: Person) -> Reply:
            with _forgeries_refused(person, "form", form_id):
                _check_size(person, "form", form_id, [], fields)
                ctx = self._context(session, person, actions.decode(form_id), key)
                ctx.fields = fields
                return interactions.run_form(ctx)

        return self._run(identity, event_id, run, kind="form", form=True)

    def _context(
        self, session: Session, person: Person, act: actions.Action, key: str
    ) -> interactions.Context:
        return interactions.Context(session, person, act, self.clock.now(), self.settings, key)

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

    def suggest(self, identity: str, words: str, param: str, typed: str) -> list[str]:
        """Values to offer while `identity` types parameter `param` of `/hdops words`
        (Discord's autocomplete). Read-only and never an error: a stranger, an unknown
        command or parameter, or a failure suggests nothing."""
        try:
            spec = command_spec(words)
            found = next((p for p in spec.params if p.name == param), None) if spec else None
            key = parse_identity(identity)
            if spec is None or found is None:
                return []
            with self.store.read() as session:
                person = people_service.person_by_identity(session, key.platform, key.external_id)
                if person is None:
                    return []
                return suggestions.suggest(
                    session,
                    person,
                    needs=spec.roles,
                    kind=found.kind,
                    choices=found.choices,
                    typed=typed,
                    now=self.clock.now(),
                    ops_tz=self.settings.ops_tz,
                )
        except Exception:
            log.exception("suggestions failed")
            return []

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


# No control hdops sends lets a platform deliver more than this: a form field allows
# at most 4000 characters (`FormField.max_length`), a modal has a handful of inputs,
# a select at most 25 options whose values are short. More is a forged payload.
MAX_FORM_FIELDS = 10
MAX_FIELD_CHARS = 4000
MAX_SELECTED = 25
MAX_VALUE_CHARS = 150


def _subject(kind: str, control_id: str) -> str:
    return f"{kind}:{control_id[:80]}"


@contextmanager
def _forgeries_refused(person: Person, kind: str, control_id: str) -> Iterator[None]:
    """Refuse a button or form that hdops could not have sent as a `PermissionDenied`,
    so that `_unit` keeps it in the audit log with the person who sent it.

    Why: buttons and forms carry ids, and anyone can send a platform any id. Someone
    else's task is refused where ownership is checked (`answers.own_assignment` and
    the like). What is caught here is the rest of forging: an id not in hdops' format
    or with a verb nobody registered (`UnknownControl`), and an id naming a task,
    question, check-in or statement line that is not there (`NotFound`: never given,
    or a draft line replaced since — a stale click is rare and harmless to log). Ops
    reviewing the log then see every probe, not only the ones that guessed a real id."""
    try:
        yield
    except (UnknownControl, NotFound) as exc:
        raise PermissionDenied(
            exc.message, actor_id=person.id, subject=_subject(kind, control_id)
        ) from None


def _check_size(
    person: Person, kind: str, control_id: str, values: list[str], fields: dict[str, str]
) -> None:
    """Refuse (and so audit) a payload larger than any control hdops sends allows."""
    if (
        len(fields) > MAX_FORM_FIELDS
        or any(len(str(v)) > MAX_FIELD_CHARS or len(str(k)) > 100 for k, v in fields.items())
        or len(values) > MAX_SELECTED
        or any(len(str(v)) > MAX_VALUE_CHARS for v in values)
    ):
        raise PermissionDenied(
            f"That {kind} carries more than any hdops {kind} allows.",
            actor_id=person.id,
            subject=_subject(kind, control_id),
        )


def _field_errors(problems: list[str]) -> dict[str, str]:
    """`answer.text: at least 20 characters` → {"text": "at least 20 characters"}."""
    errors: dict[str, str] = {}
    for problem in problems:
        path, _, reason = problem.partition(": ")
        name = path.split(".")[-1] if path else "form"
        errors.setdefault(name, reason or problem)
    return errors


__all__ = ["Core", "PermissionDenied"]
