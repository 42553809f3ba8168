"""The fake workspace: team, bot, users, channels and DMs, messages, views, files.

Plain data plus lookups; the Web API handlers (`web_api.py`) and the user actions
(`server.py`) change it. Ids look like Slack's (U…, C…, D…, G…, V…, F…) and message
timestamps are monotonic strings ("1700000000.000100", "1700000000.000200", …).
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ChannelKind = Literal["channel", "private", "im", "mpim"]


class SlackError(Exception):
    """An `{"ok": false, "error": ...}` answer; `violations` also record it as the app's bug."""

    def __init__(self, error: str, *violations: str, **extra: Any) -> None:
        super().__init__(f"{error}: {'; '.join(violations)}" if violations else error)
        self.error = error
        self.violations = list(violations)
        self.extra = extra


class FakeClock:
    """Wall time the fake judges expiry by (trigger_id lives 3 s); `advance()` moves it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Ids:
    """Slack-looking ids: `next("U")` → "U10000001", then "U10000002", …"""

    def __init__(self) -> None:
        self._counters: dict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))

    def next(self, prefix: str) -> str:
        return f"{prefix}{10_000_000 + next(self._counters[prefix])}"


class Timestamps:
    """Message timestamps: strictly increasing, 100 µs apart."""

    def __init__(self, start_us: int = 1_700_000_000_000_100) -> None:
        self._us = start_us - 100

    def next(self) -> str:
        self._us += 100
        return f"{self._us // 1_000_000}.{self._us % 1_000_000:06d}"


@dataclass
class FakeUser:
    id: str
    name: str
    real_name: str
    deleted: bool = False
    is_bot: bool = False
    bot_id: str | None = None
    tz: str = "Europe/London"
    email: str | None = None

    def to_api(self, team_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": 0,
            "profile": {
                "real_name": self.real_name,
                "real_name_normalized": self.real_name,
                "display_name": self.name,
                "display_name_normalized": self.name,
                "email": self.email or f"{self.name}@example.com",
                "bot_id": self.bot_id,
                "team": team_id,
                "image_48": "https://example.com/avatar_48.png",
            },
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }


@dataclass
class FakeChannel:
    id: str
    name: str
    kind: ChannelKind
    created: int = 1_700_000_000
    is_archived: bool = False
    bot_member: bool = True
    members: set[str] | None = None  # None: everyone in the workspace
    user: str | None = None  # the other side of a DM

    @property
    def is_dm(self) -> bool:
        return self.kind == "im"

    @property
    def channel_type(self) -> str:
        """`channel_type` of message events."""
        return {"channel": "channel", "private": "group", "im": "im", "mpim": "mpim"}[self.kind]

    def has_member(self, user_id: str) -> bool:
        if self.kind == "im":
            return user_id == self.user
        return self.members is None or user_id in self.members

    def to_api(self, ws: Workspace) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_im": self.kind == "im",
            "is_mpim": self.kind == "mpim",
            "is_org_shared": False,
            "context_team_id": ws.team_id,
            "updated": self.created * 1000,
        }
        if self.kind == "im":
            other = ws.users.get(self.user or "")
            data.update(
                user=self.user,
                is_open=True,
                is_user_deleted=bool(other and other.deleted),
                priority=0,
            )
            return data
        data.update(
            name=self.name,
            name_normalized=self.name,
            is_channel=self.kind == "channel",
            is_group=self.kind == "private",
            is_private=self.kind in {"private", "mpim"},
            is_general=False,
            is_shared=False,
            is_ext_shared=False,
            is_member=self.bot_member,
            creator=ws.bot.id,
            topic={"value": "", "creator": "", "last_set": 0},
            purpose={"value": "", "creator": "", "last_set": 0},
            previous_names=[],
            num_members=len(ws.users) if self.members is None else len(self.members),
        )
        return data


@dataclass
class FakeMessage:
    """One message as the workspace holds it; `to_api()` is how Slack shows it."""

    channel: str
    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    parent_user_id: str | None = None
    reply_broadcast: bool = False
    metadata: dict[str, Any] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edits: list[dict[str, Any]] = field(default_factory=list)  # earlier versions, oldest first
    deleted: bool = False
    ephemeral_to: str | None = None
    client_msg_id: str | None = None
    subtype: str | None = None  # e.g. "file_share" (thread_broadcast: see reply_broadcast)

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def edited(self) -> bool:
        return bool(self.edits)

    @property
    def plain_text(self) -> str:
        """`text` and every text inside the blocks, one per line: for assertions."""
        return "\n".join(t for t in [self.text, *block_texts(self.blocks)] if t)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button in the blocks, each with its `block_id` added."""
        return [e for e in interactive_elements(self.blocks) if e.get("type") == "button"]

    def to_api(self, ws: Workspace) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "message", "text": self.text, "ts": self.ts}
        if self.subtype:
            data["subtype"] = self.subtype
        if self.user:
            data["user"] = self.user
        if self.bot_id:
            data.update(bot_id=self.bot_id, app_id=self.app_id, bot_profile=ws.bot_profile())
        data["team"] = ws.team_id
        if self.client_msg_id:
            data["client_msg_id"] = self.client_msg_id
        if self.blocks:
            data["blocks"] = self.blocks
        if self.attachments:
            data["attachments"] = self.attachments
        if self.files:
            data["files"] = self.files
            data["upload"] = False
            data["display_as_bot"] = False
        if self.metadata:
            data["metadata"] = self.metadata
        if self.edits:
            data["edited"] = {"user": self.user, "ts": self.edits[-1]["replaced_at"]}
        if self.reactions:
            data["reactions"] = [
                {"name": name, "users": users, "count": len(users)}
                for name, users in self.reactions.items()
            ]
        if self.is_reply:
            data["thread_ts"] = self.thread_ts
            data["parent_user_id"] = self.parent_user_id
            if self.reply_broadcast:
                data["subtype"] = "thread_broadcast"
        elif not self.ephemeral_to and (replies := ws.replies(self.channel, self.ts)):
            reply_users = sorted({r.user for r in replies if r.user})
            data.update(
                thread_ts=self.ts,
                reply_count=len(replies),
                reply_users_count=len(reply_users),
                latest_reply=replies[-1].ts,
                reply_users=reply_users,
                is_locked=False,
                subscribed=False,
            )
        return data


@dataclass
class FakeView:
    """An open (or closed) modal, or a user's Home tab."""

    id: str
    user: str
    payload: dict[str, Any]  # the view as the app sent it (ids Slack adds filled in)
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str | None = None
    state_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    is_open: bool = True
    versions: list[dict[str, Any]] = field(default_factory=list)  # earlier payloads

    @property
    def type(self) -> str:
        return str(self.payload.get("type"))

    @property
    def callback_id(self) -> str:
        return str(self.payload.get("callback_id", ""))

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = self.payload.get("blocks") or []
        return blocks

    @property
    def plain_text(self) -> str:
        title = self.payload.get("title") or {}
        return "\n".join(t for t in [title.get("text", ""), *block_texts(self.blocks)] if t)

    def to_api(self, ws: Workspace) -> dict[str, Any]:
        p = self.payload
        return {
            "id": self.id,
            "team_id": ws.team_id,
            "type": self.type,
            "blocks": self.blocks,
            "private_metadata": p.get("private_metadata", ""),
            "callback_id": p.get("callback_id", ""),
            "state": {"values": self.state_values},
            "hash": self.hash,
            "title": p.get("title"),
            "clear_on_close": bool(p.get("clear_on_close", False)),
            "notify_on_close": bool(p.get("notify_on_close", False)),
            "close": p.get("close"),
            "submit": p.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": ws.app_id,
            "external_id": self.external_id or "",
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot.bot_id,
        }


@dataclass
class Trigger:
    user: str
    issued_at: float
    used: bool = False


@dataclass
class FakeFile:
    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    alt_txt: str | None = None
    shared_to: list[str] = field(default_factory=list)

    def to_api(self, ws: Workspace) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": self.length,
            "user": ws.bot.id,
            "mimetype": "application/octet-stream",
            "url_private": f"https://files.slack.com/files-pri/{ws.team_id}-{self.id}/{self.filename}",
            "permalink": f"https://{ws.team_domain}.slack.com/files/{ws.bot.id}/{self.id}",
            "channels": list(self.shared_to),
        }


class Workspace:
    """Everything the fake Slack knows. Users may be referred to by id or by name."""

    def __init__(self, *, team_id: str = "T0HDOPS01", team_domain: str = "hdops-test") -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.app_id = "A0HDOPS01"
        self.ids = Ids()
        self.timestamps = Timestamps()
        self.bot = FakeUser("U0BOT0001", "hdops", "hdops", is_bot=True, bot_id="B0BOT0001")
        self.users: dict[str, FakeUser] = {self.bot.id: self.bot}
        self.channels: dict[str, FakeChannel] = {}
        self.history: dict[str, list[FakeMessage]] = defaultdict(list)
        self.ephemeral: dict[str, list[FakeMessage]] = defaultdict(list)
        self.views: dict[str, FakeView] = {}
        self.view_stacks: dict[str, list[str]] = defaultdict(list)
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.files: dict[str, FakeFile] = {}
        self._dms: dict[str, str] = {}
        self._mpims: dict[frozenset[str], str] = {}

    # ------------------------------------------------------------------ people and places

    def add_user(
        self,
        name: str,
        real_name: str | None = None,
        *,
        deleted: bool = False,
        is_bot: bool = False,
        tz: str = "Europe/London",
        email: str | None = None,
    ) -> FakeUser:
        if any(u.name == name for u in self.users.values()):
            raise ValueError(f"a user named {name!r} exists already")
        user = FakeUser(
            self.ids.next("U"),
            name,
            real_name or name.title(),
            deleted=deleted,
            is_bot=is_bot,
            bot_id=self.ids.next("B") if is_bot else None,
            tz=tz,
            email=email,
        )
        self.users[user.id] = user
        return user

    def add_channel(
        self,
        name: str,
        *,
        private: bool = False,
        archived: bool = False,
        bot_member: bool = True,
        members: Iterable[FakeUser | str] | None = None,
    ) -> FakeChannel:
        channel = FakeChannel(
            self.ids.next("G" if private else "C"),
            name,
            "private" if private else "channel",
            is_archived=archived,
            bot_member=bot_member,
            members=None if members is None else {self.user(m).id for m in members},
        )
        self.channels[channel.id] = channel
        return channel

    def user(self, ref: FakeUser | str) -> FakeUser:
        """A user by object, id or name (LookupError if none)."""
        if isinstance(ref, FakeUser):
            return ref
        if ref in self.users:
            return self.users[ref]
        for user in self.users.values():
            if user.name == ref:
                return user
        raise LookupError(f"no user {ref!r} in the fake workspace")

    def channel(self, ref: FakeChannel | str) -> FakeChannel:
        """A channel by object, id or name (LookupError if none)."""
        if isinstance(ref, FakeChannel):
            return ref
        if ref in self.channels:
            return self.channels[ref]
        for channel in self.channels.values():
            if channel.name == ref.lstrip("#"):
                return channel
        raise LookupError(f"no channel {ref!r} in the fake workspace")

    def dm_with(self, user: FakeUser | str) -> FakeChannel:
        """The bot's DM with `user`, created on first use (same D id ever after)."""
        u = self.user(user)
        if u.id not in self._dms:
            dm = FakeChannel(self.ids.next("D"), u.id, "im", user=u.id)
            self.channels[dm.id] = dm
            self._dms[u.id] = dm.id
        return self.channels[self._dms[u.id]]

    def has_dm(self, user: FakeUser | str) -> bool:
        return self.user(user).id in self._dms

    def mpim_with(self, users: Iterable[FakeUser | str]) -> FakeChannel:
        ids = frozenset(self.user(u).id for u in users) | {self.bot.id}
        if ids not in self._mpims:
            name = "mpdm-" + "--".join(sorted(self.users[i].name for i in ids)) + "-1"
            mpim = FakeChannel(self.ids.next("G"), name, "mpim", members=set(ids))
            self.channels[mpim.id] = mpim
            self._mpims[ids] = mpim.id
        return self.channels[self._mpims[ids]]

    def bot_profile(self) -> dict[str, Any]:
        return {
            "id": self.bot.bot_id,
            "deleted": False,
            "name": self.bot.name,
            "updated": 1_700_000_000,
            "app_id": self.app_id,
            "icons": {"image_48": "https://example.com/bot_48.png"},
            "team_id": self.team_id,
        }

    # ------------------------------------------------------------------ messages

    def add_message(self, message: FakeMessage) -> FakeMessage:
        self.history[message.channel].append(message)
        return message

    def find_message(self, channel: str, ts: str) -> FakeMessage | None:
        for message in self.history.get(channel, []):
            if message.ts == ts and not message.deleted:
                return message
        return None

    def find_ephemeral(self, user: str, ts: str) -> FakeMessage | None:
        for message in self.ephemeral.get(user, []):
            if message.ts == ts and not message.deleted:
                return message
        return None

    def messages(self, channel: str) -> list[FakeMessage]:
        return [m for m in self.history.get(channel, []) if not m.deleted]

    def replies(self, channel: str, thread_ts: str) -> list[FakeMessage]:
        return [m for m in self.messages(channel) if m.thread_ts == thread_ts and m.ts != thread_ts]

    def permalink(self, channel: str, ts: str) -> str:
        return f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    # ------------------------------------------------------------------ views

    def open_views(self, user: str) -> list[FakeView]:
        return [self.views[v] for v in self.view_stacks.get(user, []) if self.views[v].is_open]


# ----------------------------------------------------------------------------- block helpers

INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "checkboxes",
        "radio_buttons",
        "overflow",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "rich_text_input",
        "file_input",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)


def fill_ids(blocks: list[dict[str, Any]], ids: Ids) -> list[dict[str, Any]]:
    """Copies of `blocks` with the block_id / action_id Slack generates where the app gave none."""
    filled: list[dict[str, Any]] = []
    for block in blocks:
        block = dict(block)
        block.setdefault("block_id", _short_id(ids))
        if isinstance(block.get("elements"), list) and block.get("type") == "actions":
            block["elements"] = [_with_action_id(e, ids) for e in block["elements"]]
        for key in ("accessory", "element"):
            if isinstance(block.get(key), Mapping):
                block[key] = _with_action_id(block[key], ids)
        filled.append(block)
    return filled


def _with_action_id(element: Any, ids: Ids) -> Any:
    if isinstance(element, Mapping) and element.get("type") in INTERACTIVE_TYPES:
        element = dict(element)
        element.setdefault("action_id", _short_id(ids))
    return element


def _short_id(ids: Ids) -> str:
    """Slack's generated ids are short and random-looking ("aB3x"); these are short and stable."""
    n = int(ids.next("")) - 10_000_000
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    n += 200_000  # at least four characters
    while n:
        n, r = divmod(n, len(alphabet))
        out = alphabet[r] + out
    return out


def block_texts(node: Any) -> list[str]:
    """Every text string in a block structure (text objects, rich text, option labels)."""
    found: list[str] = []
    if isinstance(node, list):
        for item in node:
            found += block_texts(item)
    elif isinstance(node, Mapping):
        if node.get("type") in {"plain_text", "mrkdwn", "text"} and isinstance(
            node.get("text"), str
        ):
            found.append(node["text"])
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                found += block_texts(value)
    return found


def interactive_elements(blocks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Elements that carry an action_id, each copied with its block's `block_id`."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        candidates: list[Any] = list(block.get("elements") or [])
        candidates += [block.get("accessory"), block.get("element")]
        for element in candidates:
            if isinstance(element, Mapping) and "action_id" in element:
                found.append({**element, "block_id": block.get("block_id")})
    return found
