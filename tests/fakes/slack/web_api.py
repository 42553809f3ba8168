"""The Web API methods a bot like hdops calls, answered from the fake workspace.

`WebApi.dispatch(method, params, token)` checks the method against the spec, the token,
every parameter, blocks and views, then runs the handler. Problems that are the app's
fault raise `SlackError` with violations; ordinary Slack errors (channel_not_found,
is_archived, user_disabled, …) raise it without, exactly as Slack answers them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .specs import MethodSpec, web_api_methods
from .validation import (
    MESSAGE_BLOCKS_MAX,
    check_blocks,
    check_params,
    check_text,
    check_view,
    json_param,
)
from .workspace import (
    FakeChannel,
    FakeClock,
    FakeFile,
    FakeMessage,
    FakeView,
    SlackError,
    Workspace,
    fill_ids,
)

TRIGGER_TTL = 3.0
VIEW_STACK_MAX = 3
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
REACTION_NAME = re.compile(r"^[a-z0-9_+'\-]+$")
TS = re.compile(r"^\d{9,10}\.\d{6}$")

Params = dict[str, Any]
Handler = Callable[[Params], dict[str, Any]]


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"true", "1"})


def _str(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    return value if isinstance(value, str) else ("" if value is None else str(value))


class WebApi:
    """Handlers by method name; `urls` maps "upload" / "socket" to the fake's own URLs."""

    def __init__(
        self,
        ws: Workspace,
        clock: FakeClock,
        *,
        bot_token: str,
        app_token: str,
        upload_url: Callable[[str], str],
        socket_url: Callable[[], str],
        on_message: Callable[[FakeMessage, str], None] | None = None,
    ) -> None:
        self.ws = ws
        self.clock = clock
        self.bot_token = bot_token
        self.app_token = app_token
        self.upload_url = upload_url
        self.socket_url = socket_url
        self.on_message = on_message  # (message, "new" | "changed" | "deleted")
        self.soft_violations: list[str] = []  # app bugs Slack answers with ok: true
        self.handlers: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_postMessage,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_postEphemeral,
            "chat.delete": self.chat_delete,
            "chat.getPermalink": self.chat_getPermalink,
            "conversations.open": self.conversations_open,
            "conversations.info": self.conversations_info,
            "conversations.replies": self.conversations_replies,
            "conversations.history": self.conversations_history,
            "users.lookupByEmail": self.users_lookupByEmail,
            "users.info": self.users_info,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "reactions.add": self.reactions_add,
            "files.getUploadURLExternal": self.files_getUploadURLExternal,
            "files.completeUploadExternal": self.files_completeUploadExternal,
            "apps.connections.open": self.apps_connections_open,
        }

    # ------------------------------------------------------------------ dispatch

    def dispatch(self, method: str, params: Params, token: str | None) -> dict[str, Any]:
        spec: MethodSpec | None = web_api_methods().get(method)
        if spec is None:
            raise SlackError("unknown_method", f"{method} is not a Slack Web API method")
        if not token:
            raise SlackError("not_authed", "no token (Authorization: Bearer …) sent")
        wants_app_token = method in APP_TOKEN_METHODS
        if token not in (self.bot_token, self.app_token):
            raise SlackError("invalid_auth", f"unknown token {token[:10]}…")
        if (token == self.app_token) != wants_app_token:
            kind = "an app-level (xapp-)" if wants_app_token else "a bot (xoxb-)"
            raise SlackError("not_allowed_token_type", f"{method} needs {kind} token")
        problems = check_params(spec, params)
        if problems:
            raise SlackError(
                "invalid_arguments",
                *problems,
                response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
            )
        handler = self.handlers.get(method)
        if handler is None:
            raise SlackError(
                "fake_not_implemented",
                f"{method} exists in Slack but FakeSlack does not implement it yet",
            )
        return {"ok": True, **handler(params)}

    # ------------------------------------------------------------------ helpers

    def _content(self, params: Params, *, require: bool = True) -> dict[str, Any]:
        """Validated text / blocks / attachments / metadata of a message-writing call."""
        problems = check_text(params.get("text"))
        if problems:
            error = "msg_too_long" if isinstance(params.get("text"), str) else "invalid_arguments"
            raise SlackError(error, *problems)
        content: dict[str, Any] = {}
        if "text" in params:
            content["text"] = _str(params, "text")
        if "blocks" in params:
            blocks, errors = json_param("blocks", params["blocks"])
            errors = errors or check_blocks(blocks, limit=MESSAGE_BLOCKS_MAX)
            if errors:
                raise SlackError(
                    "invalid_blocks",
                    *errors,
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
            content["blocks"] = fill_ids(blocks, self.ws.ids)
        if "attachments" in params:
            attachments, errors = json_param("attachments", params["attachments"])
            if errors or not isinstance(attachments, list):
                raise SlackError("invalid_attachments", *(errors or ["attachments must be a list"]))
            content["attachments"] = attachments
        if "metadata" in params:
            metadata, errors = json_param("metadata", params["metadata"])
            if errors or not isinstance(metadata, dict) or "event_type" not in metadata:
                raise SlackError(
                    "invalid_metadata_format",
                    *(errors or ["metadata must be {event_type, event_payload}"]),
                )
            content["metadata"] = metadata
        if require and not (
            content.get("text") or content.get("blocks") or content.get("attachments")
        ):
            raise SlackError("no_text", "no text, blocks or attachments")
        return content

    def _conversation(self, ref: str) -> FakeChannel:
        channel = self.ws.channels.get(ref)
        if channel is None or (channel.kind == "private" and not channel.bot_member):
            raise SlackError("channel_not_found")
        return channel

    def _post_target(self, ref: str) -> FakeChannel:
        """The channel chat.postMessage writes to: an id, or a user id (the app's DM)."""
        if ref.startswith(("U", "W")):
            user = self.ws.users.get(ref)
            if user is None or (user.deleted and not self.ws.has_dm(user)):
                raise SlackError("channel_not_found")
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            return self.ws.dm_with(user)
        channel = self._conversation(ref)
        if channel.is_archived:
            raise SlackError("is_archived")
        if channel.kind == "channel" and not channel.bot_member:
            raise SlackError("not_in_channel")
        return channel

    def _thread_parent(self, channel: FakeChannel, thread_ts: str) -> tuple[str, str | None]:
        """(thread_ts, parent user). A reply's ts threads under its parent, as in Slack; a
        malformed ts is `invalid_thread_ts`; a well-formed ts naming no message is accepted
        by Slack (the reply is then visible nowhere) and recorded here as the app's bug."""
        if not TS.match(thread_ts):
            raise SlackError("invalid_thread_ts", f"{thread_ts!r} is not a valid thread_ts")
        parent = self.ws.find_message(channel.id, thread_ts)
        if parent is None:
            self.soft_violations.append(
                f"thread_ts {thread_ts} names no message in {channel.id} (the reply is lost)"
            )
            return thread_ts, None
        if parent.is_reply and parent.thread_ts:
            parent = self.ws.find_message(channel.id, parent.thread_ts) or parent
        return parent.ts, parent.user

    def _bot_message(self, channel: FakeChannel, content: dict[str, Any]) -> FakeMessage:
        return FakeMessage(
            channel=channel.id,
            ts=self.ws.timestamps.next(),
            text=content.get("text", ""),
            user=self.ws.bot.id,
            bot_id=self.ws.bot.bot_id,
            app_id=self.ws.app_id,
            blocks=content.get("blocks", []),
            attachments=content.get("attachments", []),
            metadata=content.get("metadata"),
        )

    def _notify(self, message: FakeMessage, change: str) -> None:
        if self.on_message is not None:
            self.on_message(message, change)

    # ------------------------------------------------------------------ auth, apps

    def auth_test(self, params: Params) -> dict[str, Any]:
        ws = self.ws
        return {
            "url": f"https://{ws.team_domain}.slack.com/",
            "team": ws.team_domain,
            "user": ws.bot.name,
            "team_id": ws.team_id,
            "user_id": ws.bot.id,
            "bot_id": ws.bot.bot_id,
            "is_enterprise_install": False,
        }

    def apps_connections_open(self, params: Params) -> dict[str, Any]:
        return {"url": self.socket_url()}

    # ------------------------------------------------------------------ chat

    def chat_postMessage(self, params: Params) -> dict[str, Any]:
        channel = self._post_target(_str(params, "channel"))
        content = self._content(params)
        message = self._bot_message(channel, content)
        if params.get("thread_ts"):
            message.thread_ts, message.parent_user_id = self._thread_parent(
                channel, _str(params, "thread_ts")
            )
            message.reply_broadcast = _truthy(params.get("reply_broadcast"))
        self.ws.add_message(message)
        self._notify(message, "new")
        return {"channel": channel.id, "ts": message.ts, "message": message.to_api(self.ws)}

    def chat_update(self, params: Params) -> dict[str, Any]:
        channel = self._conversation(_str(params, "channel"))
        message = self.ws.find_message(channel.id, _str(params, "ts"))
        if message is None:
            raise SlackError("message_not_found")
        if message.bot_id != self.ws.bot.bot_id:
            raise SlackError("cant_update_message")
        if channel.is_archived:
            raise SlackError("is_archived")
        content = self._content(params)
        message.edits.append(
            {
                "text": message.text,
                "blocks": message.blocks,
                "attachments": message.attachments,
                "replaced_at": self.ws.timestamps.next(),
            }
        )
        # Slack keeps blocks (and attachments) the update does not mention; [] removes them.
        message.text = content.get("text", message.text)
        message.blocks = content.get("blocks", message.blocks)
        message.attachments = content.get("attachments", message.attachments)
        message.metadata = content.get("metadata", message.metadata)
        self._notify(message, "changed")
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_api(self.ws),
        }

    def chat_postEphemeral(self, params: Params) -> dict[str, Any]:
        channel = self._conversation(_str(params, "channel"))
        if channel.is_archived:
            raise SlackError("is_archived")
        user = self.ws.users.get(_str(params, "user"))
        if user is None or user.deleted or not channel.has_member(user.id):
            raise SlackError("user_not_in_channel")
        content = self._content(params)
        message = self._bot_message(channel, content)
        message.ephemeral_to = user.id
        if params.get("thread_ts"):
            message.thread_ts = _str(params, "thread_ts")
        self.ws.ephemeral[user.id].append(message)
        return {"message_ts": message.ts}

    def chat_delete(self, params: Params) -> dict[str, Any]:
        channel = self._conversation(_str(params, "channel"))
        message = self.ws.find_message(channel.id, _str(params, "ts"))
        if message is None:
            raise SlackError("message_not_found")
        if message.bot_id != self.ws.bot.bot_id:
            raise SlackError("cant_delete_message")
        message.deleted = True
        self._notify(message, "deleted")
        return {"channel": channel.id, "ts": message.ts}

    def chat_getPermalink(self, params: Params) -> dict[str, Any]:
        channel = self._conversation(_str(params, "channel"))
        ts = _str(params, "message_ts")
        if self.ws.find_message(channel.id, ts) is None:
            raise SlackError("message_not_found")
        return {"channel": channel.id, "permalink": self.ws.permalink(channel.id, ts)}

    # ------------------------------------------------------------------ conversations, users

    def conversations_open(self, params: Params) -> dict[str, Any]:
        if params.get("channel"):
            channel = self._conversation(_str(params, "channel"))
            return {"channel": {"id": channel.id}, "no_op": True, "already_open": True}
        ids = [u.strip() for u in _str(params, "users").split(",") if u.strip()]
        if not ids:
            raise SlackError("users_list_not_supplied")
        users = []
        for user_id in ids:
            user = self.ws.users.get(user_id)
            if user is None:
                raise SlackError("user_not_found")
            if user.deleted:
                raise SlackError("user_disabled")
            users.append(user)
        if len(users) > 8:
            raise SlackError("too_many_users")
        existed = len(users) == 1 and self.ws.has_dm(users[0])
        channel = self.ws.dm_with(users[0]) if len(users) == 1 else self.ws.mpim_with(users)
        result: dict[str, Any] = {"channel": {"id": channel.id}}
        if existed:
            result.update(no_op=True, already_open=True)
        if _truthy(params.get("return_im")):
            result["channel"] = channel.to_api(self.ws)
        return result

    def conversations_info(self, params: Params) -> dict[str, Any]:
        channel = self._conversation(_str(params, "channel"))
        return {"channel": channel.to_api(self.ws)}

    def conversations_replies(self, params: Params) -> dict[str, Any]:
        channel = self._conversation(_str(params, "channel"))
        parent = self.ws.find_message(channel.id, _str(params, "ts"))
        if parent is None:
            raise SlackError("thread_not_found")
        root = parent.thread_ts or parent.ts
        head = self.ws.find_message(channel.id, root) or parent
        thread = [head, *self.ws.replies(channel.id, root)]
        return self._page(thread, params)

    def conversations_history(self, params: Params) -> dict[str, Any]:
        channel = self._conversation(_str(params, "channel"))
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or 9e9)
        inclusive = _truthy(params.get("inclusive"))
        top = [
            m
            for m in reversed(self.ws.messages(channel.id))
            if (not m.is_reply or m.reply_broadcast)
            and (oldest < float(m.ts) < latest or (inclusive and float(m.ts) in (oldest, latest)))
        ]
        return self._page(top, params)

    def _page(self, messages: list[FakeMessage], params: Params) -> dict[str, Any]:
        start = 0
        if params.get("cursor"):
            try:
                start = int(base64.b64decode(_str(params, "cursor")).decode().split(":")[1])
            except (ValueError, IndexError) as exc:
                raise SlackError("invalid_cursor", f"cursor {params['cursor']!r}") from exc
        limit = int(params.get("limit") or 100)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        cursor = base64.b64encode(f"next:{start + limit}".encode()).decode() if more else ""
        return {
            "messages": [m.to_api(self.ws) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": cursor},
        }

    def users_lookupByEmail(self, params: Params) -> dict[str, Any]:
        email = _str(params, "email").lower()
        for user in self.ws.users.values():
            if (user.email or f"{user.name}@example.com").lower() == email:
                return {"user": user.to_api(self.ws.team_id)}
        raise SlackError("users_not_found")

    def users_info(self, params: Params) -> dict[str, Any]:
        user = self.ws.users.get(_str(params, "user"))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.to_api(self.ws.team_id)}

    def reactions_add(self, params: Params) -> dict[str, Any]:
        channel = self._conversation(_str(params, "channel"))
        message = self.ws.find_message(channel.id, _str(params, "timestamp"))
        if message is None:
            raise SlackError("message_not_found")
        name = _str(params, "name")
        if not REACTION_NAME.match(name):
            raise SlackError("invalid_name", f"reaction name {name!r} (no colons)")
        users = message.reactions.setdefault(name, [])
        if self.ws.bot.id in users:
            raise SlackError("already_reacted")
        users.append(self.ws.bot.id)
        return {}

    # ------------------------------------------------------------------ views

    def _view_payload(self, params: Params, types: frozenset[str]) -> dict[str, Any]:
        view, errors = json_param("view", params.get("view"))
        errors = errors or check_view(view, types=types)
        if errors:
            raise SlackError(
                "invalid_arguments",
                *errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return {**view, "blocks": fill_ids(view["blocks"], self.ws.ids)}

    def _hash(self) -> str:
        digest = hashlib.sha1(self.ws.timestamps.next().encode()).hexdigest()[:8]
        return f"{int(self.clock.now())}.{digest}"

    def take_trigger(self, trigger_id: str) -> str:
        """The user a trigger belongs to; the trigger is used up (3 s, once)."""
        trigger = self.ws.triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id", f"trigger_id {trigger_id!r} was never issued")
        if trigger.used:
            raise SlackError("exchanged_trigger_id", f"trigger_id {trigger_id!r} used twice")
        age = self.clock.now() - trigger.issued_at
        if age > TRIGGER_TTL:
            raise SlackError("expired_trigger_id", f"trigger_id used after {age:.1f} s (limit 3 s)")
        trigger.used = True
        return trigger.user

    def _new_view(self, user: str, payload: dict[str, Any], previous: str | None) -> FakeView:
        view_id = self.ws.ids.next("V")
        root = self.ws.views[previous].root_view_id if previous else view_id
        view = FakeView(
            id=view_id,
            user=user,
            payload=payload,
            hash=self._hash(),
            root_view_id=root,
            previous_view_id=previous,
            external_id=payload.get("external_id"),
        )
        self.ws.views[view_id] = view
        return view

    def views_open(self, params: Params) -> dict[str, Any]:
        payload = self._view_payload(params, frozenset({"modal"}))
        user = self.take_trigger(_str(params, "trigger_id"))
        for old in self.ws.open_views(user):
            old.is_open = False
        view = self._new_view(user, payload, None)
        self.ws.view_stacks[user] = [view.id]
        return {"view": view.to_api(self.ws)}

    def views_push(self, params: Params) -> dict[str, Any]:
        payload = self._view_payload(params, frozenset({"modal"}))
        user = self.take_trigger(_str(params, "trigger_id"))
        stack = self.ws.open_views(user)
        if not stack:
            raise SlackError("not_found", "views.push with no modal open")
        if len(stack) >= VIEW_STACK_MAX:
            raise SlackError("push_limit_reached", "a modal stack holds at most 3 views")
        view = self._new_view(user, payload, stack[-1].id)
        self.ws.view_stacks[user].append(view.id)
        return {"view": view.to_api(self.ws)}

    def views_update(self, params: Params) -> dict[str, Any]:
        view_id, external_id = _str(params, "view_id"), _str(params, "external_id")
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", "views.update needs view_id or external_id")
        target = next(
            (
                v
                for v in self.ws.views.values()
                if (view_id and v.id == view_id) or (external_id and v.external_id == external_id)
            ),
            None,
        )
        if target is None or not target.is_open:
            raise SlackError("not_found")
        types = frozenset({"home"}) if target.type == "home" else frozenset({"modal"})
        payload = self._view_payload(params, types)
        if params.get("hash") and params["hash"] != target.hash:
            raise SlackError("hash_conflict")
        self.replace_view(target, payload)
        return {"view": target.to_api(self.ws)}

    def replace_view(self, view: FakeView, payload: dict[str, Any]) -> None:
        view.versions.append(view.payload)
        view.payload = payload
        view.hash = self._hash()
        keep = {b.get("block_id") for b in payload["blocks"]} if payload.get("blocks") else set()
        view.state_values = {k: v for k, v in view.state_values.items() if k in keep}

    def views_publish(self, params: Params) -> dict[str, Any]:
        user = self.ws.users.get(_str(params, "user_id"))
        if user is None:
            raise SlackError("user_not_found")
        payload = self._view_payload(params, frozenset({"home"}))
        current = self.ws.views.get(self.ws.home_views.get(user.id, ""))
        if current is not None:
            if params.get("hash") and params["hash"] != current.hash:
                raise SlackError("hash_conflict")
            self.replace_view(current, payload)
            return {"view": current.to_api(self.ws)}
        view = self._new_view(user.id, payload, None)
        self.ws.home_views[user.id] = view.id
        return {"view": view.to_api(self.ws)}

    # ------------------------------------------------------------------ files

    def files_getUploadURLExternal(self, params: Params) -> dict[str, Any]:
        length = int(params["length"])
        if length <= 0:
            raise SlackError("invalid_arguments", f"length must be positive, got {length}")
        file = FakeFile(
            self.ws.ids.next("F"),
            _str(params, "filename"),
            length,
            alt_txt=params.get("alt_txt"),
        )
        self.ws.files[file.id] = file
        return {"upload_url": self.upload_url(file.id), "file_id": file.id}

    def files_completeUploadExternal(self, params: Params) -> dict[str, Any]:
        entries, errors = json_param("files", params.get("files"))
        if errors or not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", *(errors or ["files must be a non-empty list"]))
        files: list[FakeFile] = []
        for entry in entries:
            file = self.ws.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if file is None:
                raise SlackError(
                    "file_not_found", f"files entry {entry!r} names no requested upload"
                )
            if file.content is None:
                raise SlackError(
                    "file_not_found", f"{file.id} was never uploaded to its upload_url"
                )
            file.title = entry.get("title") or file.filename
            files.append(file)
        targets = [c for c in _str(params, "channels").split(",") if c]
        if params.get("channel_id"):
            targets.insert(0, _str(params, "channel_id"))
        for target in targets:
            channel = self._post_target(target)
            content = self._content(
                {
                    "text": params.get("initial_comment", ""),
                    **({"blocks": params["blocks"]} if "blocks" in params else {}),
                },
                require=False,
            )
            message = self._bot_message(channel, content)
            message.files = [f.to_api(self.ws) for f in files]
            if params.get("thread_ts"):
                message.thread_ts, message.parent_user_id = self._thread_parent(
                    channel, _str(params, "thread_ts")
                )
            for file in files:
                file.shared_to.append(channel.id)
            self.ws.add_message(message)
            self._notify(message, "new")
        return {"files": [{"id": f.id, "title": f.title} for f in files]}


def parse_json_body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """A JSON request body as Slack reads it: (params, error)."""
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return None, "invalid_json"
    if not isinstance(data, dict):
        return None, "json_not_object"
    return data, None
