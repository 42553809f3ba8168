"""`hdops chat --as PERSON`: the local chat platform in a terminal (SPEC §9).

The terminal is one more front end on the in-process platform
(`bots.local.platform.LocalChat`): what a person types becomes a button press,
a select choice, a form submission, a thread reply or an `/hdops` command on
that platform, which hands it to the real core; whatever the core sends comes
back through the real outbox delivery loop and is printed here. So a session
in the terminal exercises exactly the paths Slack and Discord use.

Input is read line by line. On a terminal a prompt is shown and new messages
(leases running out, escalations, replies from other processes) are printed
while waiting; when stdin is not a terminal the lines are read as a script and
echoed with a `> ` prefix, so the output reads as a transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TextIO

import click
import typer

from bots.local.platform import PLATFORM, LocalChat, LocalMessage
from bots.runtime import bootstrap
from hdops.chat import Actions, Button, Form, FormField, Message, Option, Reply, Select
from hdops.cli.common import handle_errors, open_store, settings
from hdops.clock import Clock
from hdops.config import Settings
from hdops.errors import HdopsError
from hdops.services import audit
from hdops.services import clarifications as clarification_service
from hdops.services import people as people_service
from hdops.services import projects as project_service
from hdops.store import outbox
from hdops.store.db import Store

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30.0  # expire leases, escalate questions, push tasks
TICK_SECONDS = 2.0  # how often a waiting terminal looks for new messages
OPS_CHANNEL = "ops"  # the console ops channel (see hdops.services.delivery.routing.ops_channels)
DEFAULT_CLARIFICATION_CHANNEL = "clarifications"

TERMINAL_COMMANDS = ("/as", "/hdops", "/reply", "/show", "/help")

Reader = Callable[[str], Awaitable[str | None]]
Writer = Callable[[str], None]

HELP = """\
Type:
  N              press button N on the latest message with buttons
  N@m12          press button N on message m12
  N VALUE[,VALUE]  choose from select N (N@m12 VALUE works too)
  /hdops …       run an hdops command (/hdops help lists them)
  /reply m12 TEXT  reply in the thread of message m12 (also from an earlier session)
  /reply #5 TEXT   reply to question 5 (/hdops clarifications lists them)
  /show m12      print message m12 again
  /as PERSON     continue as another person
  /cancel        close the form being filled (while a form is open)
  /help          this help
  /quit          leave (end of input and Ctrl-C too)
Enter on an empty line looks for new messages."""


class BadInput(Exception):
    """Something the user typed cannot be acted on; the message says why."""


@dataclass
class Viewer:
    """One person at the terminal and what they have been shown."""

    name: str  # the person's name in hdops
    user: str  # their console identity (console:<user>)
    roles: frozenset[str]
    channels: set[str] = field(default_factory=set)  # channels watched besides the DM
    shown: dict[str, int] = field(default_factory=dict)  # message id -> edits when shown
    order: list[str] = field(default_factory=list)  # message ids in the order printed
    cursor: int = 0  # position in the session's event log already looked at

    @property
    def dm(self) -> str:
        return f"dm-{self.user}"


def console_channels(project_spec: dict[str, object]) -> str:
    """The console clarification channel of a project (as the clarification service
    addresses it)."""
    clar = project_spec.get("clarifications")
    channel = clar.get("console_channel") if isinstance(clar, dict) else None
    return str(channel) if channel else DEFAULT_CLARIFICATION_CHANNEL


def next_message_number(ids: list[str]) -> int:
    """First free local message number after the ids earlier sessions left in the store."""
    numbers = [int(m.group(1)) for i in ids if (m := re.fullmatch(r"m(\d+)", i))]
    return max(numbers, default=0) + 1


def option_matches(option: Option, text: str, *, allow_value: bool = True) -> bool:
    wanted = text.strip().lower()
    label = option.label.strip().lower()
    short, _, note = label.partition(" (")  # "7 (excellent)" -> "7" and "excellent"
    names = {label, short, note.removesuffix(")")} - {""}
    return wanted in names or (allow_value and wanted == option.value.lower())


def pick_options(select: Select, text: str) -> list[str]:
    """The option values meant by `text` (labels, comma-separated for a multi-select)."""
    text = text.strip()
    if not text:
        raise BadInput(f"Say what to choose: {select.placeholder}: {option_list(select.options)}")
    whole = [o for o in select.options if option_matches(o, text, allow_value=False)]
    wanted = [text] if whole else [t for t in text.split(",") if t.strip()]
    values: list[str] = []
    for token in wanted:
        found = next(
            (o for o in select.options if option_matches(o, token, allow_value=False)), None
        )
        if found is None:
            raise BadInput(
                f"No option {token.strip()!r} in {select.placeholder!r}; "
                f"choose from: {option_list(select.options)}"
            )
        if found.value not in values:
            values.append(found.value)
    if len(values) > 1 and not select.multiple:
        raise BadInput(f"{select.placeholder!r} takes one option.")
    return values


def option_list(options: list[Option], limit: int = 30) -> str:
    labels = [o.label for o in options]
    if len(labels) > limit:
        labels = [*labels[: limit - 1], "…", labels[-1]]
    return ", ".join(labels)


def indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


class Terminal:
    """The chat loop: read a line, act on the local platform, deliver, print."""

    def __init__(
        self,
        store: Store,
        cfg: Settings,
        read: Reader,
        write: Writer,
        *,
        clock: Clock | None = None,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.store = store
        self.read = read
        self.write = write
        self.sweep_seconds = sweep_seconds
        self._last_sweep = float("-inf")
        with store.unit_of_work() as session:
            first = next_message_number(outbox.ref_message_ids(session, PLATFORM))
        # Beside a Slack or Discord bot (their tokens are configured), ops notices
        # and project channel posts are theirs to send; alone, the terminal is the
        # only chat there is and shows them in its own channels.
        alone = cfg.slack_bot_token is None and cfg.discord_bot_token is None
        self.runtime = bootstrap(
            cfg,
            store,
            [lambda core: LocalChat(core, _ids=itertools.count(first))],
            clock,
            claims_unaddressed=alone,
        )
        self.core = self.runtime.core
        self.deliverer = self.runtime.deliverer
        chat = self.runtime.port(PLATFORM)
        assert isinstance(chat, LocalChat)
        self.chat = chat
        self.events: list[str] = []  # message ids, once per send or edit, in order
        self.chat.listeners.append(lambda msg, _kind: self.events.append(msg.id))
        self.viewers: dict[str, Viewer] = {}
        self.viewer: Viewer | None = None

    # ------------------------------------------------------------------ people

    def find_viewer(self, ref: str) -> Viewer:
        """The person `ref` (a name or any identity) as a terminal user; HdopsError if
        hdops does not know them.

        The local chat addresses people by their console identity (DMs go to
        `dm-<name>`, replies come from `console:<name>`), so a person who has none
        (say, only a Slack id) is given one on first use — `console:<their name>`,
        or `console:<name>-<id>` if that is taken — audited like any identity added
        (`via: hdops chat`) and said on screen with how to remove it. The rest of
        their record is untouched; Slack and Discord stay preferred for delivery."""
        ref = ref.strip()
        with self.store.unit_of_work() as session:
            person = people_service.find_person(session, ref)
            if person is None:
                name = ref.lstrip("@").split(":")[-1] or "NAME"
                raise HdopsError(
                    f"no person {ref!r}: add one with "
                    f"`hdops person add {name} --console {name} --role contractor`"
                )
            console = next((i for i in person.identities if i.platform == PLATFORM), None)
            if console is None:
                given = people_service.add_console_identity(
                    session, person, details={"via": "hdops chat", "os_user": audit.os_user()}
                )
                self.write(
                    f"-- {person.name} had no console identity; gave them {given} so this "
                    f"chat can reach them (hdops person update {person.name} "
                    f"--remove-identity {given} takes it away) --"
                )
                user = given.partition(":")[2]
            else:
                user = console.external_id
            name = person.name
            roles = frozenset(people_service.roles_of(session, person.id))
        known = self.viewers.get(user)
        if known is not None:
            known.roles = roles
            return known
        viewer = Viewer(name=name, user=user, roles=roles)
        self.viewers[user] = viewer
        return viewer

    def _watch(self, viewer: Viewer) -> None:
        """Researchers and ops watch the projects' clarification channels; ops (and
        admins) the ops channel."""
        channels: set[str] = set()
        if viewer.roles & {"researcher", "ops", "admin"}:
            with self.store.unit_of_work() as session:
                channels |= {
                    console_channels(p.spec) for p in project_service.list_projects(session)
                }
        if viewer.roles & {"ops", "admin"}:
            channels.add(OPS_CHANNEL)
        viewer.channels = channels

    def switch(self, ref: str) -> None:
        viewer = self.find_viewer(ref)
        self.viewer = viewer
        roles = ", ".join(sorted(viewer.roles)) or "no roles"
        self.write(f"-- chatting as {viewer.name} (console:{viewer.user}; {roles}) --")

    # ------------------------------------------------------------------ printing

    def visible(self, viewer: Viewer, msg: LocalMessage) -> bool:
        return msg.channel == viewer.dm or msg.channel in viewer.channels

    def _where(self, viewer: Viewer, msg: LocalMessage) -> str:
        place = "your DM" if msg.channel == viewer.dm else f"#{msg.channel}"
        if msg.thread_of is not None:
            place += f", thread {msg.thread_of}"
        return place

    def render(self, viewer: Viewer, msg: LocalMessage, *, updated: bool = False) -> str:
        author = "hdops" if msg.author == "bot" else msg.author
        tag = f"(updated {msg.id})" if updated else f"[{msg.id}]"
        lines = [f"{tag} {author} in {self._where(viewer, msg)}:"]
        body = msg.message.plain().strip() or msg.message.text
        lines.append(indent(body))
        number = 0
        for part in msg.message.parts:
            if not isinstance(part, Actions):
                continue
            row: list[str] = []
            for control in part.controls:
                number += 1
                if isinstance(control, Button):
                    row.append(f"[{number}] {control.label}")
                else:
                    if row:
                        lines.append("  " + "  ".join(row))
                        row = []
                    many = " (one or more, comma-separated)" if control.multiple else ""
                    lines.append(
                        f"  [{number}] {control.placeholder}{many}: {option_list(control.options)}"
                    )
            if row:
                lines.append("  " + "  ".join(row))
        return "\n".join(lines)

    def show_new(self) -> int:
        """Print what the current person has not seen yet: new messages, and messages
        edited since they were shown. Returns how many were printed."""
        viewer = self.viewer
        if viewer is None:
            return 0
        self._watch(viewer)
        printed = 0
        events = self.events[viewer.cursor :]
        viewer.cursor = len(self.events)
        for message_id in events:
            msg = self.chat.messages.get(message_id)
            if msg is None or not self.visible(viewer, msg):
                continue
            seen = viewer.shown.get(msg.id)
            if seen is not None and seen >= msg.edits:
                continue
            viewer.shown[msg.id] = msg.edits
            if msg.author == viewer.user and msg.edits == 0:
                continue  # what they typed themselves
            self.write(self.render(viewer, msg, updated=seen is not None))
            viewer.order.append(msg.id)
            printed += 1
        return printed

    def say_privately(self, message: Message) -> None:
        body = message.plain().strip() or message.text
        first, _, rest = body.partition("\n")
        self.write(f"(only you) {first}" + (f"\n{indent(rest, '           ')}" if rest else ""))

    # ------------------------------------------------------------------ delivery

    async def refresh(self, *, force_sweep: bool = False) -> int:
        """Deliver due outbox rows, sweep now and then, print what is new."""
        now = time.monotonic()
        if force_sweep or now - self._last_sweep >= self.sweep_seconds:
            self._last_sweep = now
            try:
                self.core.sweep()
            except Exception:
                log.exception("sweep failed")
        try:
            await self.deliverer.deliver_due()
        except Exception:
            log.exception("delivery failed")
        return self.show_new()

    # ------------------------------------------------------------------ acting

    def _event(self) -> str:
        return f"console-{uuid.uuid4().hex}"

    def _message(self, message_id: str) -> LocalMessage:
        viewer = self._require_viewer()
        msg = self.chat.messages.get(message_id)
        if msg is None or not self.visible(viewer, msg):
            raise BadInput(f"There is no message {message_id} here.")
        return msg

    def _require_viewer(self) -> Viewer:
        if self.viewer is None:
            raise BadInput("Say who you are first: /as PERSON")
        return self.viewer

    def _latest_with_controls(self) -> LocalMessage:
        viewer = self._require_viewer()
        for message_id in reversed(viewer.order):
            msg = self.chat.messages.get(message_id)
            if msg is not None and msg.message.controls():
                return msg
        raise BadInput("No message with buttons yet. Try /hdops next.")

    async def press(self, spec: str, rest: str) -> None:
        """`N`, `N@m12`, optionally followed by select values."""
        number_text, _, message_id = spec.partition("@")
        msg = self._message(message_id) if message_id else self._latest_with_controls()
        controls = msg.message.controls()
        number = int(number_text)
        if not 1 <= number <= len(controls):
            if not controls:
                raise BadInput(f"{msg.id} has no buttons any more.")
            raise BadInput(f"{msg.id} has buttons 1 to {len(controls)}; there is no {number}.")
        control = controls[number - 1]
        viewer = self._require_viewer()
        identity = f"{PLATFORM}:{viewer.user}"
        if isinstance(control, Button):
            if rest:
                raise BadInput(f"[{number}] is a button; type just {spec} to press it.")
            reply = self.chat.press(viewer.user, msg.id, number - 1, event_id=self._event())
        else:
            values = pick_options(control, rest)
            self.chat.transcript.append(f"{viewer.user} chooses {values} on {msg.id}")
            reply = self.core.action(identity, control.action_id, values, self._event())
            # LocalChat.choose takes the message's first select; this may be any.
            self.chat._handle(viewer.user, reply)
        await self.answer(reply)

    async def answer(self, reply: Reply) -> None:
        """Show a private reply; fill a form it opens."""
        if reply.message is not None:
            self.say_privately(reply.message)
        if reply.form is not None:
            await self.refresh()
            await self.fill(reply.form)

    # ------------------------------------------------------------------ forms

    async def fill(self, form: Form) -> None:
        viewer = self._require_viewer()
        self.write(f"-- form: {form.title} (/cancel to close it) --")
        if form.intro:
            self.write(indent(form.intro))
        values: dict[str, str] = {}
        todo = list(form.fields)
        while True:
            for form_field in todo:
                value = await self.ask_field(form_field)
                if value is None:
                    self.chat.open_forms.pop(viewer.user, None)
                    self.write("(form closed)")
                    return
                values[form_field.name] = value
            reply = self.chat.submit(viewer.user, dict(values), event_id=self._event())
            if not reply.form_errors:
                await self.answer(reply)
                return
            by_name = {f.name: f for f in form.fields}
            todo = []
            for name, error in reply.form_errors.items():
                target = by_name.get(name)
                self.write(f"  ! {target.label if target else form.title}: {error}")
                if target is not None and target not in todo:
                    todo.append(target)
            if not todo:
                todo = list(form.fields)
            todo.sort(key=form.fields.index)

    async def ask_field(self, form_field: FormField) -> str | None:
        """Ask one field until the answer is acceptable; None if the form is closed."""
        prompt = self._field_prompt(form_field)
        while True:
            self.write(prompt)
            line = await self.read("> ")
            if line is None:
                raise EOFError
            text = line.strip()
            if text == "/cancel":
                return None
            if text in ("/quit", "/exit"):
                raise EOFError
            if text.split(" ", 1)[0].lower() in TERMINAL_COMMANDS:
                self.write("  ! Finish this form first, or /cancel it.")
                continue
            try:
                return self._field_value(form_field, text)
            except BadInput as exc:
                self.write(f"  ! {exc}")

    def _field_prompt(self, form_field: FormField) -> str:
        text = form_field.label
        if form_field.hint:
            text += f" — {form_field.hint}"
        if form_field.kind == "select":
            numbered = "  ".join(f"{i}) {o.label}" for i, o in enumerate(form_field.options, 1))
            text += f"\n  choose one: {numbered}"
        if form_field.initial:
            shown = form_field.initial.replace("\n", " ")
            shown = shown if len(shown) <= 60 else shown[:59] + "…"
            text += f"\n  (empty keeps: {shown})"
        elif not form_field.required:
            text += " [empty to skip]"
        return text + ":"

    def _field_value(self, form_field: FormField, text: str) -> str:
        if not text:
            if form_field.initial:
                return form_field.initial
            if form_field.required:
                raise BadInput("This one is required.")
            return ""
        if form_field.kind == "select":
            options = form_field.options
            found = next((o for o in options if option_matches(o, text)), None)
            if found is None and text.isdigit() and 1 <= int(text) <= len(options):
                found = options[int(text) - 1]
            if found is None:
                raise BadInput(f"Choose one of: {option_list(options)} (or its number).")
            return found.value
        if len(text) < form_field.min_length:
            raise BadInput(f"At least {form_field.min_length} characters, please.")
        if len(text) > form_field.max_length:
            raise BadInput(f"At most {form_field.max_length} characters, please.")
        return text

    # ------------------------------------------------------------------ the loop

    async def handle(self, line: str) -> bool:
        """Act on one input line; False when the session should end."""
        text = line.strip()
        if not text:
            if await self.refresh() == 0:
                self.write("(nothing new)")
            return True
        if text.startswith("#"):
            return True  # a comment in a script
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        command = word.lower()
        try:
            if command in ("/quit", "/exit"):
                return False
            if command == "/help":
                self.write(HELP)
            elif command == "/hdops":
                viewer = self._require_viewer()
                reply = self.chat.command(viewer.user, rest or "help", event_id=self._event())
                await self.answer(reply)
            elif command == "/reply":
                await self.reply(rest)
            elif command == "/as":
                if not rest:
                    raise BadInput("Usage: /as PERSON")
                try:
                    self.switch(rest)
                except HdopsError as exc:
                    raise BadInput(exc.message) from None
            elif command == "/show":
                viewer = self._require_viewer()
                msg = self._message(rest)
                self.write(self.render(viewer, msg))
                viewer.order.append(msg.id)  # its buttons are now the latest shown
            elif command == "/cancel":
                raise BadInput("No form is open.")
            elif re.fullmatch(r"\d{1,4}(@m\d+)?", word):
                await self.press(word, rest)
            elif command.startswith("/"):
                raise BadInput(f"Unknown command {word}; type /help for what works here.")
            else:
                raise BadInput(
                    f"I don't understand {text[:40]!r}: type a button number, "
                    "/hdops help for commands, or /help."
                )
        except BadInput as exc:
            self.write(str(exc))
        except EOFError:
            raise
        except Exception as exc:  # a bug must not end the session
            log.exception("handling %r failed", text)
            self.write(f"Something went wrong: {exc}".splitlines()[0])
        await self.refresh()
        return True

    async def reply(self, rest: str) -> None:
        """`/reply m12 TEXT` replies in the thread of message m12 (shown in this
        session, or recorded by an earlier one); `/reply #5 TEXT` in the thread of
        question 5 — the asker's task thread for the asker, the researchers' thread
        for researchers and ops — in whichever session it was asked."""
        viewer = self._require_viewer()
        target, _, body = rest.partition(" ")
        body = body.strip()
        if not target or not body:
            raise BadInput("Usage: /reply m12 TEXT, or /reply #5 TEXT for question 5")
        if target.startswith("#"):
            channel, parent = self._question_thread(target)
        else:
            channel, parent = self._thread_of(target)
        reply = self.chat.reply_to(viewer.user, channel, parent, body, event_id=self._event())
        await self.answer(reply)

    def _thread_of(self, message_id: str) -> tuple[str, str]:
        """(channel, parent message id) to reply under message `message_id`."""
        viewer = self._require_viewer()
        msg = self.chat.messages.get(message_id)
        if msg is not None:
            if not self.visible(viewer, msg):
                raise BadInput(f"There is no message {message_id} here.")
            return msg.channel, msg.thread_of or msg.id  # a reply continues its thread
        with self.store.read() as session:
            found = outbox.ref_of_message(session, PLATFORM, message_id)
        if found is None or not self._may_see(viewer, found[1]):
            raise BadInput(f"There is no message {message_id} here.")
        return found[1], message_id

    def _question_thread(self, target: str) -> tuple[str, str]:
        """(channel, parent message id) of the thread this person replies to
        question `#N` in."""
        viewer = self._require_viewer()
        try:
            number = int(target[1:])
        except ValueError:
            raise BadInput(f"{target} is not a question id; questions are #1, #2, …") from None
        try:
            with self.store.read() as session:
                person = people_service.find_person(session, f"{PLATFORM}:{viewer.user}")
                if person is None:
                    raise BadInput("You are not known to hdops any more.")
                key = clarification_service.reply_thread(session, person, number)
                found = outbox.refs_for(session, [key]).get((key, PLATFORM))
        except HdopsError as exc:
            raise BadInput(exc.message) from None
        if found is None or not self._may_see(viewer, found[0]):
            raise BadInput(
                f"Question #{number}'s thread is not in the local chat (it was asked on "
                "another platform); reply there."
            )
        return found

    def _may_see(self, viewer: Viewer, channel: str) -> bool:
        self._watch(viewer)
        return channel == viewer.dm or channel in viewer.channels

    async def run(self, person: str) -> None:
        self.switch(person)
        self.write("Type /help for help, /quit to leave.")
        await self.refresh(force_sweep=True)
        while True:
            line = await self.read(self._prompt())
            if line is None:
                return
            try:
                if not await self.handle(line):
                    return
            except EOFError:
                return

    def _prompt(self) -> str:
        return f"{self.viewer.name}> " if self.viewer else "> "


# --------------------------------------------------------------------------- input


class ScriptIO:
    """Lines from a pipe or file, echoed so the output reads as a transcript."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        click.echo(text)

    async def read(self, prompt: str) -> str | None:
        line = self.stream.readline()
        if not line:
            return None
        line = line.rstrip("\r\n")
        self.write(f"> {line}".rstrip())
        return line

    def close(self) -> None:
        pass


class TtyIO:
    """Lines from a terminal, after a prompt. While it waits, new messages are
    delivered and printed (`on_idle`), then the prompt is shown again."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.on_idle: Callable[[], Awaitable[int]] | None = None
        self._at_prompt = False

    def write(self, text: str) -> None:
        if self._at_prompt:
            click.echo("")
            self._at_prompt = False
        click.echo(text)

    def _prompt(self, prompt: str) -> None:
        click.echo(prompt, nl=False)
        self._at_prompt = True

    async def read(self, prompt: str) -> str | None:
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        self._prompt(prompt)
        try:
            loop.add_reader(self.stream.fileno(), ready.set)
        except (NotImplementedError, ValueError, OSError):  # no selectable stdin
            line = await loop.run_in_executor(None, self.stream.readline)
        else:
            try:
                while not ready.is_set():
                    try:
                        await asyncio.wait_for(ready.wait(), TICK_SECONDS)
                    except TimeoutError:
                        if self.on_idle is not None and await self.on_idle():
                            self._prompt(prompt)
            finally:
                loop.remove_reader(self.stream.fileno())
            line = self.stream.readline()
        self._at_prompt = False
        return line.rstrip("\r\n") if line else None

    def close(self) -> None:
        if self._at_prompt:  # Ctrl-C or Ctrl-D at the prompt
            click.echo("")


# --------------------------------------------------------------------------- command


def chat_cmd(
    person: str = typer.Option(
        ...,
        "--as",
        metavar="PERSON",
        help="Who you are: a name or any identity (slack:U0123ABC, console:alice).",
        show_default=False,
    ),
) -> None:
    """Chat with hdops in this terminal, as PERSON, on the local chat platform.

    Bot messages are printed with their id (m12) and numbered buttons: type the
    number to press a button on the latest message (N@m12 for an older one;
    `N VALUE` picks from a select). Forms ask their fields one by one. Also:
    `/hdops …` runs a command, `/reply m12 TEXT` replies in a thread, `/reply #5
    TEXT` replies to question 5 (also one asked in an earlier session), `/as PERSON`
    switches person, `/help`, `/quit`.

    When stdin is not a terminal, lines are read from it as a script and echoed,
    so a transcript can be piped in. The chat's messages live in memory: messages
    from an earlier `hdops chat` session are not shown again (`/hdops next`
    re-sends an open task). A person without a console identity is given one
    (console:NAME, audited; the line printed says how to remove it).
    """
    run_chat(person, sys.stdin)


@handle_errors
def run_chat(person: str, stream: TextIO) -> None:
    cfg = settings()
    store = open_store()
    io: TtyIO | ScriptIO = TtyIO(stream) if stream.isatty() else ScriptIO(stream)
    try:
        terminal = Terminal(store, cfg, io.read, io.write)
        if isinstance(io, TtyIO):
            io.on_idle = terminal.refresh
        terminal.find_viewer(person)  # unknown person: one line and a non-zero exit
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(terminal.run(person))
        io.close()
    finally:
        store.dispose()


def register(app: typer.Typer) -> None:
    app.command("chat")(chat_cmd)
