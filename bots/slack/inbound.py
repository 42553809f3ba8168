"""Reading what Slack sends: the fields each listener needs, checked.

Slack's payloads are large and mostly optional; a listener needs a handful of
fields. Each reader here takes a payload and returns just those, typed, or
raises `Unreadable` naming the first missing one (a path such as
`view.state.values`, never a value: payloads carry tokens). Listeners ack
first and then read, so a malformed payload is acknowledged, logged and
answered instead of becoming an HTTP 500 or an ack Slack never gets.

`thread_message` also decides which message events are something a person
wrote in a thread (and so may be relayed): plain replies, replies also sent to
the channel (`thread_broadcast`), file shares and `/me` messages; an edit
(`message_changed` whose message carries `edited` and whose text or files
differ from the previous version) and a deletion (`message_deleted`). Every
other update Slack sends about a message it already sent (link previews,
reply counts, the copy of a broadcast) has no `edited` and is not relayed
again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bots.common.interactions import Unreadable
from bots.slack.blocks import form_values
from hdops.domain.relay import SharedFile

POSTED_SUBTYPES = frozenset({None, "thread_broadcast", "file_share", "me_message"})
MAX_KEYS_LOGGED = 20


__all__ = ["Unreadable"]  # raised here, handled by the shared interaction runner


def _field(obj: Any, path: str, at: str = "") -> Any:
    """`obj[a][b]…` for the dotted `path` (a number indexes a list), or Unreadable
    naming `at` + `path` (`at`: where `obj` sits in the payload, e.g. "view.")."""
    for step in path.split("."):
        if isinstance(obj, Mapping) and step in obj and obj[step] is not None:
            obj = obj[step]
        elif isinstance(obj, list) and step.isdigit() and int(step) < len(obj):
            obj = obj[int(step)]
        else:
            raise Unreadable(at + path)
    return obj


def _text(obj: Any, path: str, at: str = "") -> str:
    value = _field(obj, path, at)
    if not isinstance(value, str) or not value:
        raise Unreadable(at + path)
    return value


def _maybe(obj: Any, path: str) -> str | None:
    try:
        return _text(obj, path)
    except Unreadable:
        return None


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Command:
    user: str
    text: str
    channel: str | None
    trigger_id: str | None


def command(payload: Mapping[str, Any]) -> Command:
    text = payload.get("text") or ""
    if not isinstance(text, str):
        raise Unreadable("text")
    return Command(
        _text(payload, "user_id"),
        text,
        _maybe(payload, "channel_id"),
        _maybe(payload, "trigger_id"),
    )


# --------------------------------------------------------------------------- buttons


@dataclass(frozen=True)
class Click:
    user: str
    action_id: str
    values: list[str]
    action_ts: str
    channel: str | None
    trigger_id: str | None
    message_ts: str | None = None  # the message clicked on (not in a modal or App Home)
    response_url: str | None = None


def click(body: Mapping[str, Any]) -> Click:
    """The first action of a block_actions payload (hdops sends one per click)."""
    user = _text(body, "user.id")
    action = _field(body, "actions.0")
    if not isinstance(action, Mapping):
        raise Unreadable("actions.0")
    at = "actions.0."
    values: list[str] = []
    if action.get("selected_option") is not None:
        values = [_text(action, "selected_option.value", at)]
    elif action.get("selected_options") is not None:
        options = _field(action, "selected_options", at)
        if not isinstance(options, list):
            raise Unreadable(at + "selected_options")
        values = [_text(o, "value", at + "selected_options.") for o in options]
    return Click(
        user,
        _text(action, "action_id", at),
        values,
        _maybe(action, "action_ts") or "",
        _maybe(body, "channel.id") or _maybe(body, "container.channel_id"),
        _maybe(body, "trigger_id"),
        _maybe(body, "container.message_ts") or _maybe(body, "message.ts"),
        _maybe(body, "response_url"),
    )


# --------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Submission:
    user: str
    callback_id: str
    fields: dict[str, str]
    event_id: str
    private_metadata: str
    channel: str | None  # where the form was opened from (kept in private_metadata)


def submission(body: Mapping[str, Any]) -> Submission:
    user = _text(body, "user.id")
    view = _field(body, "view")
    values = _field(view, "state.values", "view.")
    if not isinstance(values, Mapping):
        raise Unreadable("view.state.values")
    try:
        fields = form_values(dict(values))
    except (KeyError, TypeError, AttributeError, ValueError):
        raise Unreadable("view.state.values") from None
    metadata = view.get("private_metadata") or ""
    if not isinstance(metadata, str):
        metadata = ""
    hash_ = view.get("hash") if isinstance(view.get("hash"), str) else ""
    return Submission(
        user,
        _text(view, "callback_id", "view."),
        fields,
        f"slack:view:{_text(view, 'id', 'view.')}:{hash_}",
        metadata,
        _metadata_channel(metadata),
    )


def _metadata_channel(metadata: str) -> str | None:
    try:
        data = json.loads(metadata or "{}")
    except ValueError:
        return None
    channel = data.get("channel") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) and channel else None


def input_blocks(view: Any) -> list[str]:
    """The block ids of a view's input blocks (where form errors can be shown)."""
    blocks = view.get("blocks") if isinstance(view, Mapping) else None
    if not isinstance(blocks, list):
        return []
    return [
        b["block_id"]
        for b in blocks
        if isinstance(b, Mapping)
        and b.get("type") == "input"
        and isinstance(b.get("block_id"), str)
    ]


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class ThreadPost:
    """Something a person wrote (or edited) in a thread."""

    user: str
    channel: str
    thread_ts: str
    text: str  # Slack markup
    files: tuple[SharedFile, ...] = ()
    edited: bool = False


@dataclass(frozen=True)
class ThreadDeletion:
    user: str
    channel: str
    thread_ts: str


def thread_message(event: Mapping[str, Any]) -> ThreadPost | ThreadDeletion | None:
    """What a `message` event means for relaying (see the module docstring); None
    for anything that is not a person's message in a thread."""
    subtype = event.get("subtype")
    if subtype is not None and not isinstance(subtype, str):
        return None  # no subtype Slack sends: not a person's message
    if subtype == "message_changed":
        return _edit(event)
    if subtype == "message_deleted":
        return _deletion(event)
    if subtype not in POSTED_SUBTYPES or event.get("bot_id") or not _in_thread(event):
        return None
    return ThreadPost(
        _text(event, "user"),
        _text(event, "channel"),
        _text(event, "thread_ts"),
        _message_text(event, "text"),
        _files(event),
    )


def _in_thread(message: Mapping[str, Any]) -> bool:
    thread_ts = message.get("thread_ts")
    return bool(thread_ts) and thread_ts != message.get("ts")


def _edit(event: Mapping[str, Any]) -> ThreadPost | None:
    message = _field(event, "message")
    if not isinstance(message, Mapping):
        raise Unreadable("message")
    if message.get("bot_id") or not message.get("edited") or not _in_thread(message):
        return None
    previous = event.get("previous_message")
    previous = previous if isinstance(previous, Mapping) else {}
    text, files = _message_text(message, "message.text"), _files(message)
    if previous and (text, files) == (str(previous.get("text") or ""), _files(previous)):
        return None  # Slack updated something else (a link preview, reactions…)
    return ThreadPost(
        _text(message, "user", "message."),
        _text(event, "channel"),
        _text(message, "thread_ts", "message."),
        text,
        files,
        edited=True,
    )


def _deletion(event: Mapping[str, Any]) -> ThreadDeletion | None:
    previous = event.get("previous_message")
    if not isinstance(previous, Mapping) or previous.get("bot_id") or not _in_thread(previous):
        return None
    at = "previous_message."
    return ThreadDeletion(
        _text(previous, "user", at), _text(event, "channel"), _text(previous, "thread_ts", at)
    )


def _message_text(message: Mapping[str, Any], path: str) -> str:
    text = message.get("text")
    if text is None:
        return ""
    if not isinstance(text, str):
        raise Unreadable(path)
    return text


def _files(message: Mapping[str, Any]) -> tuple[SharedFile, ...]:
    """Each file's name and a link to it. Slack's file objects are large; a file
    hidden or deleted (`mode: tombstone` / `hidden_by_limit`) may have neither."""
    files = message.get("files")
    if not isinstance(files, list):
        return ()
    shared: list[SharedFile] = []
    for file in files:
        if not isinstance(file, Mapping):
            continue
        name = _maybe(file, "name") or _maybe(file, "title") or "a file"
        url = _maybe(file, "permalink") or _maybe(file, "url_private")
        shared.append(SharedFile(name, url))
    return tuple(shared)


# --------------------------------------------------------------------------- answering


@dataclass(frozen=True)
class Asker:
    """Who to answer about a payload, and where, as far as it says."""

    user: str | None
    channel: str | None
    thread_ts: str | None = None


def asker(body: Mapping[str, Any]) -> Asker:
    """Best effort, for telling someone their request failed: never raises."""
    if "command" in body or "user_id" in body:
        return Asker(_maybe(body, "user_id"), _maybe(body, "channel_id"))
    if body.get("type") == "event_callback":
        event = body.get("event")
        if not isinstance(event, Mapping):
            return Asker(None, None)
        return Asker(_maybe(event, "user"), _maybe(event, "channel"), _maybe(event, "thread_ts"))
    channel = _maybe(body, "channel.id") or _maybe(body, "container.channel_id")
    if channel is None and isinstance(body.get("view"), Mapping):
        channel = _metadata_channel(str(body["view"].get("private_metadata") or ""))
    return Asker(_maybe(body, "user.id"), channel)


def describe(body: Any) -> str:
    """A short, value-free description of a payload for logs: its kind and keys, each
    escaped and cut short."""
    if not isinstance(body, Mapping):
        return type(body).__name__
    kind = body.get("type") or ("slash_command" if "command" in body else "?")
    if kind == "event_callback" and isinstance(body.get("event"), Mapping):
        event = body["event"]
        kind = f"event {event.get('type')}/{event.get('subtype') or '-'}"
    keys = [_escaped(k, 40) for k in sorted(str(k) for k in body)[:MAX_KEYS_LOGGED]]
    return f"{_escaped(kind, 60)} with keys {keys}"


def _escaped(value: Any, limit: int) -> str:
    """`value` on one line (newlines and other controls escaped), cut to `limit`:
    what a payload says can never add a line to the log or make it long."""
    return ascii(str(value)[:limit])[1:-1]
