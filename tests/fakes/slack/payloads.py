"""What Slack sends an app when a person acts: slash commands, block_actions,
view_submission / view_closed, and Events API `event_callback` wrappers.

Shapes follow the samples in shared/specs/slack/samples (app-backend, events) and the
common event wrapper schema.
"""

from __future__ import annotations

import hashlib
import html
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

        return MENTION.sub(mention, html.escape(text, quote=False))

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


def rich_text(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack's client attaches to what a person types."""
    return [
        {
            "type": "rich_text",
            "block_id": hashlib.sha1(text.encode()).hexdigest()[:4],
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]


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
