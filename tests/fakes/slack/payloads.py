"""What Slack sends an app when a person acts: slash commands, block_actions,
view_submission / view_closed, and Events API `event_callback` wrappers.

Shapes follow the samples in shared/specs/slack/samples (app-backend, events) and the
common event wrapper schema.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .workspace import FakeChannel, FakeClock, FakeMessage, FakeUser, FakeView, Trigger, Workspace

SINGLE_OPTION = frozenset({"static_select", "external_select", "radio_buttons", "overflow"})
MULTI_OPTIONS = frozenset({"multi_static_select", "multi_external_select", "checkboxes"})
TEXT_VALUE = frozenset({"plain_text_input", "number_input", "email_text_input", "url_text_input"})
SELECTED_KEY = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
INITIAL_KEY = {
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
}
MENTION = re.compile(r"(?<![\w<])@([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)
# What Slack's message composer turns into markup as a person types (see `Payloads.typed`).
TYPED = re.compile(
    r"\[(?P<label>[^\]\n]+)\]\((?P<link>https?://[^\s)]+)\)"
    r"|(?P<url>https?://[^\s<>]+)"
    r"|(?<![\w<])@(?P<user>[a-z0-9][a-z0-9._-]*)"
    r"|(?<![\w&])#(?P<channel>[a-z0-9][a-z0-9_-]*)",
    re.IGNORECASE,
)
BROADCAST_WORDS = frozenset({"here", "channel", "everyone"})
URL_TRAILERS = ".,;:!?)'\""


class Payloads:
    """Builds payloads; issues trigger_ids and response_urls as it goes."""

    def __init__(
        self,
        ws: Workspace,
        clock: FakeClock,
        *,
        verification_token: str,
        response_url: Callable[[dict[str, Any]], str],
    ) -> None:
        self.ws = ws
        self.clock = clock
        self.verification_token = verification_token
        self.response_url = response_url  # registers a target, returns its URL

    # ------------------------------------------------------------------ common parts

    def trigger(self, user: FakeUser) -> str:
        seed = self.ws.ids.next("trigger")
        digest = hashlib.sha1(seed.encode()).hexdigest()[:20]
        trigger_id = f"{seed[len('trigger') :]}.{int(self.clock.now())}.{digest}"
        self.ws.triggers[trigger_id] = Trigger(user.id, self.clock.now())
        return trigger_id

    def user_obj(self, user: FakeUser) -> dict[str, Any]:
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": self.ws.team_id}

    def team_obj(self) -> dict[str, Any]:
        return {"id": self.ws.team_id, "domain": self.ws.team_domain}

    def channel_obj(self, channel: FakeChannel) -> dict[str, Any]:
        return {"id": channel.id, "name": "directmessage" if channel.is_dm else channel.name}

    def escape(self, text: str, *, command: bool = False) -> str:
        """What Slack makes of typed text: &<> escaped, @name turned into a mention."""

        def mention(match: re.Match[str]) -> str:
            try:
                user = self.ws.user(match.group(1))
            except LookupError:
                return match.group(0)
            return f"<@{user.id}|{user.name}>" if command else f"<@{user.id}>"

        if not command:
            return self.typed(text)[0]
        return MENTION.sub(mention, html.escape(text, quote=False))

    def typed(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """What a person typing `text` in Slack's composer sends: the message `text`
        (markup) and the elements of its rich_text block.

        As in Slack: `&`, `<`, `>` are escaped; `@name` of a member becomes `<@U…>`
        and `@here` / `@channel` / `@everyone` become `<!here>` …; `#name` of a
        channel becomes `<#C…|name>`; a typed address `https://…` becomes
        `<https://…>`; `[label](https://…)` stands for text the person turned into
        a link with the composer's link button, sent as `<https://…|label>`."""
        markup: list[str] = []
        elements: list[dict[str, Any]] = []

        def esc(piece: str) -> str:
            return html.escape(piece, quote=False)

        def plain(piece: str) -> None:
            if piece:
                markup.append(esc(piece))
                elements.append({"type": "text", "text": piece})

        last = 0
        for match in TYPED.finditer(text):
            plain(text[last : match.start()])
            last = match.end()
            found = match.lastgroup
            if found == "link":
                url, label = match.group("link"), match.group("label")
                markup.append(f"<{esc(url)}|{esc(label)}>")
                elements.append({"type": "link", "url": url, "text": label})
            elif found == "url":
                url = match.group("url").rstrip(URL_TRAILERS)
                last = match.start() + len(url)
                markup.append(f"<{esc(url)}>")
                elements.append({"type": "link", "url": url})
            elif found == "user":
                name = match.group("user")
                if name.lower() in BROADCAST_WORDS:
                    markup.append(f"<!{name.lower()}>")
                    elements.append({"type": "broadcast", "range": name.lower()})
                    continue
                try:
                    user = self.ws.user(name)
                except LookupError:
                    plain(match.group(0))
                    continue
                markup.append(f"<@{user.id}>")
                elements.append({"type": "user", "user_id": user.id})
            else:
                try:
                    channel = self.ws.channel(match.group("channel"))
                except LookupError:
                    plain(match.group(0))
                    continue
                if channel.is_dm:
                    plain(match.group(0))
                    continue
                markup.append(f"<#{channel.id}|{esc(channel.name)}>")
                elements.append({"type": "channel", "channel_id": channel.id})
        plain(text[last:])
        return "".join(markup), elements

    # ------------------------------------------------------------------ slash commands

    def slash_command(
        self, user: FakeUser, command: str, text: str, channel: FakeChannel
    ) -> dict[str, str]:
        """Form fields of a slash command (strings only, as Slack posts them)."""
        return {
            "token": self.verification_token,
            "team_id": self.ws.team_id,
            "team_domain": self.ws.team_domain,
            "channel_id": channel.id,
            "channel_name": "directmessage" if channel.is_dm else channel.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": self.escape(text, command=True),
            "api_app_id": self.ws.app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url(
                {"kind": "command", "channel": channel.id, "user": user.id}
            ),
            "trigger_id": self.trigger(user),
        }

    # ------------------------------------------------------------------ block_actions

    def action(
        self,
        element: Mapping[str, Any],
        value: str | None,
        selected: Sequence[str] | None,
    ) -> dict[str, Any]:
        """The `actions[0]` of a block_actions payload for a person using `element`."""
        kind = str(element.get("type"))
        action: dict[str, Any] = {
            "type": kind,
            "action_id": element["action_id"],
            "block_id": element.get("block_id"),
            "action_ts": self.ws.timestamps.next(),
        }
        if kind == "button":
            action["text"] = element.get("text")
            if "value" in element:
                if value is not None and value != element["value"]:
                    raise ValueError(
                        f"button {element['action_id']!r} carries value {element['value']!r}; "
                        f"a person cannot click it with {value!r}"
                    )
                action["value"] = element["value"]
            if "style" in element:
                action["style"] = element["style"]
            return action
        picks = list(selected) if selected is not None else ([] if value is None else [value])
        if kind in SINGLE_OPTION or kind in MULTI_OPTIONS:
            options = [find_option(element, v) for v in picks]
            if kind in SINGLE_OPTION:
                if len(options) != 1:
                    raise ValueError(f"{kind} {element['action_id']!r} takes exactly one value")
                action["selected_option"] = options[0]
            else:
                action["selected_options"] = options
        elif kind in SELECTED_KEY:
            key = SELECTED_KEY[kind]
            action[key] = picks if key.endswith("s") else (picks[0] if picks else None)
        elif kind in TEXT_VALUE:
            action["value"] = value
        else:
            raise ValueError(f"the fake cannot act on a {kind!r} element")
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
        return action

    def block_actions_on_message(
        self, user: FakeUser, channel: FakeChannel, message: FakeMessage, action: dict[str, Any]
    ) -> dict[str, Any]:
        ephemeral = message.ephemeral_to is not None
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": channel.id,
            "is_ephemeral": ephemeral,
        }
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self.user_obj(user),
            "api_app_id": self.ws.app_id,
            "token": self.verification_token,
            "container": container,
            "trigger_id": self.trigger(user),
            "team": self.team_obj(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": self.channel_obj(channel),
        }
        if not ephemeral:  # Slack does not send ephemeral messages back
            payload["message"] = message.to_api(self.ws)
        payload["state"] = {"values": {}}
        payload["response_url"] = self.response_url(
            {
                "kind": "action",
                "channel": channel.id,
                "user": user.id,
                "message_ts": message.ts,
                "ephemeral": ephemeral,
            }
        )
        payload["actions"] = [action]
        return payload

    def block_actions_in_view(
        self, user: FakeUser, view: FakeView, action: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "type": "block_actions",
            "user": self.user_obj(user),
            "api_app_id": self.ws.app_id,
            "token": self.verification_token,
            "container": {"type": "view", "view_id": view.id},
            "trigger_id": self.trigger(user),
            "team": self.team_obj(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": view.to_api(self.ws),
            "actions": [action],
        }

    # ------------------------------------------------------------------ views

    def state_values(
        self, view: FakeView, values: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        """`view.state.values` for a submission: every input block, as a person filled it.

        `values` is {block_id: {action_id: value}}: a string (text inputs, single selects,
        pickers), a list of strings (multi selects), or a ready-made state dict.
        Raises ValueError for what Slack's client would not let a person submit.
        """
        inputs = {str(b.get("block_id")): b for b in view.blocks if b.get("type") == "input"}
        for block_id in values:
            if block_id not in inputs:
                raise ValueError(f"view {view.id} has no input block {block_id!r}")
        state: dict[str, dict[str, Any]] = {}
        for input_id, block in inputs.items():
            element = block["element"]
            action_id = element["action_id"]
            given = values.get(input_id, {})
            unknown = set(given) - {action_id}
            if unknown:
                raise ValueError(f"input {input_id!r} has no action_id {sorted(unknown)}")
            entry = self._input_state(element, given.get(action_id))
            if not block.get("optional") and _is_empty(entry):
                raise ValueError(f"input {input_id!r} is required: Slack would not submit")
            state[input_id] = {action_id: entry}
        return state

    def _input_state(self, element: Mapping[str, Any], value: Any) -> dict[str, Any]:
        kind = str(element.get("type"))
        if isinstance(value, Mapping):
            return {"type": kind, **value}
        if kind in TEXT_VALUE:
            text = element.get("initial_value") if value is None else str(value)
            if text is not None:
                for key, ok in (("max_length", len(text).__le__), ("min_length", len(text).__ge__)):
                    if key in element and not ok(element[key]):
                        raise ValueError(f"{len(text)} characters break {key}={element[key]}")
            return {"type": kind, "value": text or None}
        if kind in SINGLE_OPTION:
            option = element.get("initial_option") if value is None else find_option(element, value)
            return {"type": kind, "selected_option": option}
        if kind in MULTI_OPTIONS:
            if value is None:
                return {
                    "type": kind,
                    "selected_options": list(element.get("initial_options") or []),
                }
            picks = [value] if isinstance(value, str) else list(value)
            limit = element.get("max_selected_items")
            if limit is not None and len(picks) > limit:
                raise ValueError(f"{len(picks)} picks break max_selected_items={limit}")
            return {"type": kind, "selected_options": [find_option(element, v) for v in picks]}
        if kind in SELECTED_KEY:
            key = SELECTED_KEY[kind]
            initial = element.get(INITIAL_KEY[key])
            chosen = initial if value is None else value
            if key.endswith("s") and isinstance(chosen, str):
                chosen = [chosen]
            return {
                "type": kind,
                key: chosen if chosen is not None else ([] if key.endswith("s") else None),
            }
        raise ValueError(f"the fake cannot fill a {kind!r} input")

    def view_submission(self, user: FakeUser, view: FakeView) -> dict[str, Any]:
        return {
            "type": "view_submission",
            "team": self.team_obj(),
            "user": self.user_obj(user),
            "api_app_id": self.ws.app_id,
            "token": self.verification_token,
            "trigger_id": self.trigger(user),
            "view": view.to_api(self.ws),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def view_closed(self, user: FakeUser, view: FakeView) -> dict[str, Any]:
        return {
            "type": "view_closed",
            "team": self.team_obj(),
            "user": self.user_obj(user),
            "api_app_id": self.ws.app_id,
            "token": self.verification_token,
            "view": view.to_api(self.ws),
            "is_cleared": False,
            "is_enterprise_install": False,
            "enterprise": None,
        }

    # ------------------------------------------------------------------ events

    def event_callback(self, event: dict[str, Any]) -> dict[str, Any]:
        """The Events API wrapper (slack_common_event_wrapper_schema.json)."""
        now = self.clock.now()
        return {
            "token": self.verification_token,
            "team_id": self.ws.team_id,
            "api_app_id": self.ws.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + self.ws.ids.next("")[1:],
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.ws.team_id,
                    "user_id": self.ws.bot.id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + uuid.uuid4().hex,
            "authed_users": [self.ws.bot.id],
        }

    def message_event(self, message: FakeMessage, channel: FakeChannel) -> dict[str, Any]:
        """A `message` event for a new message (a person's, or the bot's own with bot_id)."""
        event = message.to_api(self.ws)
        for key in (
            "reply_count",
            "reply_users_count",
            "latest_reply",
            "reply_users",
            "is_locked",
            "subscribed",
        ):
            event.pop(key, None)
        if message.reply_broadcast and message.thread_ts:
            # "Also send to channel": Slack sends the thread's root along, and no parent_user_id.
            event.pop("parent_user_id", None)
            root = self.ws.find_message(channel.id, message.thread_ts)
            if root is not None:
                event["root"] = {
                    k: v
                    for k, v in root.to_api(self.ws).items()
                    if k not in {"reply_users", "is_locked"}
                }
        event.update(channel=channel.id, event_ts=message.ts, channel_type=channel.channel_type)
        return event

    def message_changed_event(
        self, message: FakeMessage, channel: FakeChannel, previous: dict[str, Any]
    ) -> dict[str, Any]:
        ts = self.ws.timestamps.next()
        return {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "message": message.to_api(self.ws),
            "channel": channel.id,
            "previous_message": previous,
            "event_ts": ts,
            "ts": ts,
            "channel_type": channel.channel_type,
        }

    def message_deleted_event(self, message: FakeMessage, channel: FakeChannel) -> dict[str, Any]:
        ts = self.ws.timestamps.next()
        return {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "deleted_ts": message.ts,
            "channel": channel.id,
            "previous_message": message.to_api(self.ws),
            "event_ts": ts,
            "ts": ts,
            "channel_type": channel.channel_type,
        }


def rich_text(text: str, elements: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The rich_text block Slack's client attaches to what a person types (`elements`:
    its pieces, from `Payloads.typed`; by default the text as one piece)."""
    pieces = elements if elements is not None else [{"type": "text", "text": text}]
    return [
        {
            "type": "rich_text",
            "block_id": hashlib.sha1(text.encode()).hexdigest()[:4],
            "elements": [{"type": "rich_text_section", "elements": pieces}],
        }
    ]


def shared_file(
    ws: Workspace, user: FakeUser, channel: FakeChannel, spec: str | Mapping[str, Any]
) -> dict[str, Any]:
    """A file object as a `file_share` message event carries it (fields as in
    samples/events/MessageFileSharePayload.json). `spec` is a file name, or a dict
    with `name` and any fields to set or override (e.g. `{"name": …, "mode":
    "tombstone"}`)."""
    given = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = str(given.get("name") or "file")
    file_id = ws.ids.next("F")
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    filetype = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
    now = int(float(ws.timestamps.next()))
    base = f"https://files.slack.com/files-pri/{ws.team_id}-{file_id}"
    data: dict[str, Any] = {
        "id": file_id,
        "created": now,
        "timestamp": now,
        "name": name,
        "title": name,
        "mimetype": mimetype,
        "filetype": filetype,
        "pretty_type": filetype.upper(),
        "user": user.id,
        "user_team": ws.team_id,
        "editable": False,
        "size": int(given.get("size", 1024)),
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": channel.kind == "channel",
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": f"{base}/{name}",
        "url_private_download": f"{base}/download/{name}",
        "permalink": f"https://{ws.team_domain}.slack.com/files/{user.id}/{file_id}/{name}",
        "permalink_public": f"https://slack-files.com/{ws.team_id}-{file_id}-0123456789",
        "has_rich_preview": False,
        "file_access": "visible",
    }
    if mimetype.startswith("image/"):
        data.update(
            thumb_64=f"{base}/{name}_64.png",
            thumb_360=f"{base}/{name}_360.png",
            thumb_360_w=360,
            thumb_360_h=240,
            original_w=1200,
            original_h=800,
        )
    data.update(given)
    return data


def find_option(element: Mapping[str, Any], value: str) -> dict[str, Any]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    for option in options:
        if option.get("value") == value:
            return dict(option)
    values = [o.get("value") for o in options]
    raise ValueError(f"{element.get('action_id')!r} offers no option {value!r} (it has {values})")


def _is_empty(entry: Mapping[str, Any]) -> bool:
    return all(v in (None, [], "") for k, v in entry.items() if k != "type")
