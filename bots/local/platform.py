"""An in-process chat platform implementing the core's chat port.

It keeps channels, direct messages, threads, edits and open forms in memory and
lets a test, the demo or the terminal act as any person: press a button, pick
from a select, fill a form, reply in a thread, run `/hdops …`. Every action goes
through the real core (`hdops.core.Core`) and every message the core sends
arrives through the real outbox delivery loop, exactly as with Slack.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hdops.chat import Button, Form, Message, Reply, Select
from hdops.core import Core
from hdops.pacing import Limit
from hdops.ports import DeliveryError, Send, SentRef

PLATFORM = "console"


@dataclass
class LocalMessage:
    id: str
    channel: str
    author: str  # "bot" or a console user name
    message: Message
    thread_of: str | None = None
    edits: int = 0
    key: str = ""  # the outbox message it was sent for

    @property
    def text(self) -> str:
        return self.message.plain()


@dataclass
class Notice:
    """A private (ephemeral) reply to one user."""

    user: str
    message: Message


@dataclass
class LocalChat:
    """The platform plus a user-side API. Users are console names (`console:alice`)."""

    core: Core | None = None
    messages: dict[str, LocalMessage] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    open_forms: dict[str, Form] = field(default_factory=dict)
    form_errors: dict[str, dict[str, str]] = field(default_factory=dict)
    transcript: list[str] = field(default_factory=list)
    listeners: list[Callable[[LocalMessage, str], None]] = field(default_factory=list)
    gone_users: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _events: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    platform: str = PLATFORM

    # ------------------------------------------------------------------ port

    def rates(self, send: Send) -> Sequence[Limit]:
        """An in-process platform has no rate limits."""
        return ()

    def _store(
        self,
        channel: str,
        message: Message,
        author: str = "bot",
        thread_of: str | None = None,
        key: str = "",
    ) -> LocalMessage:
        msg = LocalMessage(f"m{next(self._ids)}", channel, author, message, thread_of, key=key)
        self.messages[msg.id] = msg
        where = f"{channel}" + (f" (thread {thread_of})" if thread_of else "")
        self.transcript.append(f"[{msg.id}] {author} → {where}: {message.plain()}")
        for listener in self.listeners:
            listener(msg, "new")
        return msg

    async def send_dm(
        self, user_id: str, message: Message, *, dm_channel: str | None = None, key: str = ""
    ) -> SentRef:
        if user_id in self.gone_users:
            raise DeliveryError(f"user {user_id} has left", permanent=True)
        msg = self._store(dm_channel or f"dm-{user_id}", message, key=key)
        return SentRef(msg.channel, msg.id)

    async def post_channel(self, channel: str, message: Message, *, key: str = "") -> SentRef:
        msg = self._store(channel, message, key=key)
        return SentRef(msg.channel, msg.id)

    async def post_thread(self, parent: SentRef, message: Message, *, key: str = "") -> SentRef:
        msg = self._store(parent.channel, message, thread_of=parent.message_id, key=key)
        return SentRef(msg.channel, msg.id)

    async def find_sent(self, send: Send, key: str) -> SentRef | None:
        """What this platform holds in memory (a new process starts empty)."""
        for msg in self.messages.values():
            if key and msg.key == key and msg.author == "bot":
                return SentRef(msg.channel, msg.id)
        return None

    async def edit(self, ref: SentRef, message: Message) -> None:
        msg = self.messages.get(ref.message_id)
        if msg is None:
            raise DeliveryError(f"message {ref.message_id} not found", permanent=True)
        msg.message = message
        msg.edits += 1
        self.transcript.append(f"[{msg.id}] edited: {message.plain()}")
        for listener in self.listeners:
            listener(msg, "edit")

    # ------------------------------------------------------------------ reading

    def dm_channel(self, user: str) -> str:
        return f"dm-{user}"

    def inbox(self, user: str) -> list[LocalMessage]:
        """Top-level messages in the user's DM, oldest first."""
        ch = self.dm_channel(user)
        return [m for m in self.messages.values() if m.channel == ch and m.thread_of is None]

    def channel(self, name: str) -> list[LocalMessage]:
        return [m for m in self.messages.values() if m.channel == name and m.thread_of is None]

    def thread(self, message_id: str) -> list[LocalMessage]:
        return [m for m in self.messages.values() if m.thread_of == message_id]

    def last_notice(self, user: str) -> str | None:
        for notice in reversed(self.notices):
            if notice.user == user:
                return notice.message.plain()
        return None

    def open_tasks(self, user: str) -> list[LocalMessage]:
        """DM messages that still have answer controls."""
        return [
            m
            for m in self.inbox(user)
            if any(
                c.action_id.startswith("hd:ans:") or c.action_id.startswith("hd:text:")
                for c in m.message.controls()
            )
        ]

    # ------------------------------------------------------------------ acting

    def _core(self) -> Core:
        if self.core is None:
            raise RuntimeError("LocalChat has no core attached")
        return self.core

    def _event(self) -> str:
        return f"console-ev-{next(self._events)}"

    def _handle(self, user: str, reply: Reply) -> Reply:
        if reply.message is not None:
            self.notices.append(Notice(user, reply.message))
            self.transcript.append(f"(only {user} sees) {reply.message.plain()}")
        if reply.form is not None:
            self.open_forms[user] = reply.form
            self.form_errors.pop(user, None)
            self.transcript.append(f"(form for {user}) {reply.form.title}")
        if reply.form_errors:
            self.form_errors[user] = dict(reply.form_errors)
            self.transcript.append(f"(form errors for {user}) {reply.form_errors}")
        return reply

    def find_control(self, message_id: str, label_or_index: str | int) -> Button | Select:
        msg = self.messages[message_id]
        controls = msg.message.controls()
        if isinstance(label_or_index, int):
            return controls[label_or_index]
        for control in controls:
            name = control.label if isinstance(control, Button) else control.placeholder
            if name.lower() == label_or_index.lower():
                return control
        raise KeyError(f"no control {label_or_index!r} on {message_id}")

    def press(
        self, user: str, message_id: str, label_or_index: str | int, event_id: str | None = None
    ) -> Reply:
        control = self.find_control(message_id, label_or_index)
        self.transcript.append(f"{user} presses [{getattr(control, 'label', '?')}] on {message_id}")
        reply = self._core().action(
            f"console:{user}", control.action_id, [], event_id or self._event()
        )
        return self._handle(user, reply)

    def choose(
        self, user: str, message_id: str, values: list[str], event_id: str | None = None
    ) -> Reply:
        control = next(
            c for c in self.messages[message_id].message.controls() if isinstance(c, Select)
        )
        self.transcript.append(f"{user} chooses {values} on {message_id}")
        reply = self._core().action(
            f"console:{user}", control.action_id, values, event_id or self._event()
        )
        return self._handle(user, reply)

    def submit(self, user: str, fields: dict[str, str], event_id: str | None = None) -> Reply:
        form = self.open_forms.get(user)
        if form is None:
            raise RuntimeError(f"{user} has no open form")
        self.transcript.append(f"{user} submits {form.title}: {fields}")
        reply = self._core().form(
            f"console:{user}", form.form_id, fields, event_id or self._event()
        )
        if not reply.form_errors:
            self.open_forms.pop(user, None)
        return self._handle(user, reply)

    def reply(self, user: str, parent_id: str, text: str, event_id: str | None = None) -> Reply:
        return self.reply_to(user, self.messages[parent_id].channel, parent_id, text, event_id)

    def reply_to(
        self, user: str, channel: str, parent_id: str, text: str, event_id: str | None = None
    ) -> Reply:
        """Reply in the thread of `parent_id` in `channel`; the parent need not be in
        memory (a message an earlier terminal session printed)."""
        self._store(channel, Message(text=text), author=user, thread_of=parent_id)
        reply = self._core().thread_reply(
            f"console:{user}", PLATFORM, channel, parent_id, text, event_id or self._event()
        )
        return self._handle(user, reply)

    def command(self, user: str, text: str, event_id: str | None = None) -> Reply:
        self.transcript.append(f"{user}: {text}")
        reply = self._core().command(
            f"console:{user}", text, event_id or self._event(), platform=PLATFORM
        )
        return self._handle(user, reply)
