"""What the fake Discord holds: users, one or more guilds, channels, DMs, threads, messages.

Objects are kept as small dataclasses and rendered to Discord's JSON shapes (v10) by
`to_json` methods, the shapes discord.py parses (User, Member, Channel, Message, Guild).
"""

from __future__ import annotations

import datetime
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
GUILD_TEXT, DM, PUBLIC_THREAD, PRIVATE_THREAD = 0, 1, 11, 12
EPHEMERAL = 1 << 6
ALL_PERMISSIONS = str((1 << 53) - 1)


class Snowflakes:
    """Increasing snowflake ids (timestamp bits from now, so discord.py's dates are sane)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> str:
        now_ms = int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)
        return str(((now_ms - DISCORD_EPOCH_MS) << 22) | (next(self._counter) & 0x3FFFFF))


def iso_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


@dataclass
class FakeUser:
    id: str
    name: str
    bot: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


_USER_TAG = re.compile(r"<@!?([0-9]{1,20})>")
_EVERYONE = re.compile(r"@(everyone|here)\b")


def pings(content: str, allowed: Any) -> tuple[frozenset[str], bool]:
    """Who a message notifies, as Discord decides it: only `content` pings (embeds
    never do); `<@id>` tags ping those users and `@everyone`/`@here` the channel, as far
    as `allowed_mentions` lets them (absent: everything in the content pings)."""
    tagged = frozenset(_USER_TAG.findall(content))
    everyone = bool(_EVERYONE.search(content))
    if not isinstance(allowed, dict):
        return tagged, everyone
    parse = set(allowed.get("parse") or [])
    users = tagged if "users" in parse else tagged & {str(u) for u in allowed.get("users") or []}
    return users, everyone and "everyone" in parse


def shown_text(text: str) -> str:
    """What Discord shows for escaped Markdown text: a backslash before punctuation is
    dropped; zero-width spaces are invisible."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text).replace("\u200b", "")


@dataclass
class FakeMessage:
    id: str
    channel_id: str
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    guild_id: str | None = None
    edited: str | None = None
    timestamp: str = field(default_factory=iso_now)
    interaction_id: str | None = None  # the interaction it answers, if any
    ephemeral_to: str | None = None  # user id: only they see it
    nonce: str | None = None  # the sender's nonce (`enforce_nonce` dedupes on it)
    reference: str | None = None  # message_reference.message_id: a reply to that message
    pinged: frozenset[str] = frozenset()  # user ids notified (see `pings`)
    pinged_everyone: bool = False  # @everyone / @here notified the channel
    attachments: list[dict[str, Any]] = field(default_factory=list)  # with "data": bytes

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    def _attachment_json(self, attachment: dict[str, Any]) -> dict[str, Any]:
        """An attachment object as Discord sends it (in API answers and Gateway
        events alike): with the CDN `url` and `proxy_url` clients read it from."""
        shown = {k: v for k, v in attachment.items() if k != "data"}
        where = f"attachments/{self.channel_id}/{self.id}/{attachment['filename']}"
        shown.setdefault("url", f"https://cdn.discordapp.com/{where}")
        shown.setdefault("proxy_url", f"https://media.discordapp.net/{where}")
        if str(attachment["filename"]).endswith(".png"):
            shown.setdefault("content_type", "image/png")
        return shown

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "channel_id": self.channel_id,
            "author": self.author.to_json(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [self._attachment_json(a) for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "type": 0,
            "flags": self.flags,
        }
        if self.guild_id:
            data["guild_id"] = self.guild_id
        if self.reference is not None:  # a reply (type 19) to a message in this channel
            data["type"] = 19
            data["message_reference"] = {
                "message_id": self.reference,
                "channel_id": self.channel_id,
            }
        return data

    def shown(self) -> str:
        """What a person reads: the content, then each embed's title, description,
        fields and footer, with Markdown escapes shown as Discord shows them."""
        texts = [self.content]
        for embed in self.embeds:
            texts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
            for f in embed.get("fields") or []:
                texts += [str(f.get("name") or ""), str(f.get("value") or "")]
            texts.append(str((embed.get("footer") or {}).get("text") or ""))
        return shown_text("\n".join(t for t in texts if t))

    def custom_ids(self) -> list[str]:
        return [
            str(c["custom_id"])
            for row in self.components
            for c in row.get("components") or []
            if "custom_id" in c
        ]


@dataclass
class FakeChannel:
    id: str
    type: int
    name: str = ""
    guild_id: str | None = None
    parent_id: str | None = None
    owner_id: str | None = None
    recipient: FakeUser | None = None  # DMs
    messages: list[FakeMessage] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.type in (PUBLIC_THREAD, PRIVATE_THREAD)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "last_message_id": None}
        if self.type == DM:
            data["recipients"] = [self.recipient.to_json()] if self.recipient else []
            return data
        data.update(
            guild_id=self.guild_id,
            name=self.name,
            position=0,
            permission_overwrites=[],
            nsfw=False,
            parent_id=self.parent_id,
            rate_limit_per_user=0,
        )
        if self.is_thread:
            data.update(
                owner_id=self.owner_id,
                message_count=len(self.messages),
                member_count=1,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso_now(),
                    "locked": False,
                },
            )
        else:
            data["topic"] = None
        return data


@dataclass
class FakeGuild:
    id: str
    name: str
    owner_id: str
    channels: dict[str, FakeChannel] = field(default_factory=dict)
    members: dict[str, FakeUser] = field(default_factory=dict)

    def member_json(self, user: FakeUser) -> dict[str, Any]:
        return {
            "user": user.to_json(),
            "nick": None,
            "roles": [],
            "joined_at": iso_now(),
            "deaf": False,
            "mute": False,
            "flags": 0,
        }

    def to_json(self) -> dict[str, Any]:
        everyone = {
            "id": self.id,
            "name": "@everyone",
            "permissions": ALL_PERMISSIONS,
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        channels = [c.to_json() for c in self.channels.values() if not c.is_thread]
        threads = [c.to_json() for c in self.channels.values() if c.is_thread]
        return {
            "id": self.id,
            "name": self.name,
            "icon": None,
            "owner_id": self.owner_id,
            "unavailable": False,
            "member_count": len(self.members),
            "large": False,
            "features": [],
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "channels": channels,
            "threads": threads,
            "members": [self.member_json(u) for u in self.members.values()],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
            "joined_at": iso_now(),
        }


class World:
    """Everything the fake Discord knows, looked up by id."""

    def __init__(self, bot_name: str = "hdops") -> None:
        self.ids = Snowflakes()
        self.application_id = self.ids.next()
        self.bot = FakeUser(self.application_id, bot_name, bot=True)
        self.users: dict[str, FakeUser] = {self.bot.id: self.bot}
        self.guilds: dict[str, FakeGuild] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}  # guild id ("" global) -> commands

    def add_user(self, name: str, *, bot: bool = False) -> FakeUser:
        user = FakeUser(self.ids.next(), name, bot=bot)
        self.users[user.id] = user
        for guild in self.guilds.values():
            guild.members[user.id] = user
        return user

    def add_guild(self, name: str) -> FakeGuild:
        guild = FakeGuild(self.ids.next(), name, owner_id=self.bot.id)
        guild.members = dict(self.users)
        self.guilds[guild.id] = guild
        return guild

    def add_channel(self, guild: FakeGuild, name: str) -> FakeChannel:
        channel = FakeChannel(self.ids.next(), GUILD_TEXT, name, guild_id=guild.id)
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_thread(
        self, parent: FakeChannel, name: str, owner: FakeUser, thread_id: str
    ) -> FakeChannel:
        thread = FakeChannel(
            thread_id,
            PUBLIC_THREAD,
            name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=owner.id,
        )
        if parent.guild_id:
            self.guilds[parent.guild_id].channels[thread.id] = thread
        self.channels[thread.id] = thread
        return thread

    def dm_with(self, user: FakeUser) -> FakeChannel:
        for channel in self.channels.values():
            if channel.type == DM and channel.recipient is user:
                return channel
        channel = FakeChannel(self.ids.next(), DM, recipient=user)
        self.channels[channel.id] = channel
        return channel

    def has_dm(self, user: FakeUser) -> bool:
        return any(c.type == DM and c.recipient is user for c in self.channels.values())

    def find_message(self, message_id: str) -> FakeMessage | None:
        for channel in self.channels.values():
            for message in channel.messages:
                if message.id == message_id:
                    return message
        return None

    def post(self, channel: FakeChannel, author: FakeUser, **fields: Any) -> FakeMessage:
        message = FakeMessage(
            self.ids.next(), channel.id, author, guild_id=channel.guild_id, **fields
        )
        channel.messages.append(message)
        return message
