"""One world per chat port for the ChatPort contract suite.

A world owns a port and the platform behind it (the in-process local chat, or
the strict fake Slack on 127.0.0.1 with the real `SlackPort` and slack_sdk client)
and lets the suite read what people would see and make the platform misbehave.
A port that cannot do something the contract describes says so in its world's
`can` set, and the suite skips that case by name for that port only. (The
Discord world has no "find_sent": Discord deduplicates a repeated post by its
nonce instead, which the crash-resend case checks for every port.)
"""

from __future__ import annotations

from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bots.discord.port import DiscordPort
from bots.local.platform import LocalChat
from bots.slack.port import SlackPort
from hdops.ports import ChatPort, SentRef
from tests.fakes.discord.guild import FakeMessage as FakeDiscordMessage
from tests.fakes.discord.guild import FakeUser as FakeDiscordUser
from tests.fakes.discord.guild import shown_text
from tests.fakes.discord.server import FakeDiscord
from tests.fakes.slack.server import FakeSlack


class World(Protocol):
    port: ChatPort
    can: frozenset[str]  # "throttle": the platform rate-limits; "find_sent": it can

    def user(self, name: str) -> str:
        """A person's platform user id."""
        ...

    def channel(self, name: str) -> str:
        """A channel the bot may post in."""
        ...

    def top_level(self, channel: str) -> list[str]:
        """Texts of the channel's top-level messages, oldest first."""
        ...

    def dm(self, user_id: str) -> list[str]:
        """Texts of the bot's top-level DMs to the user, oldest first."""
        ...

    def thread(self, parent: SentRef) -> list[str]:
        """Texts of the replies in `parent`'s thread, oldest first."""
        ...

    def gone(self, user_id: str) -> None:
        """The person leaves the platform."""
        ...

    def throttle_next_post(self, retry_after: int) -> None:
        """The platform's rate limit answers the next post (only with "throttle")."""
        ...

    async def close(self) -> None: ...


class LocalWorld:
    can = frozenset({"find_sent"})

    def __init__(self) -> None:
        self.chat = LocalChat()
        self.port: ChatPort = self.chat

    def user(self, name: str) -> str:
        return name

    def channel(self, name: str) -> str:
        return name

    def top_level(self, channel: str) -> list[str]:
        return [m.text for m in self.chat.channel(channel)]

    def dm(self, user_id: str) -> list[str]:
        return [m.text for m in self.chat.inbox(user_id)]

    def thread(self, parent: SentRef) -> list[str]:
        return [m.text for m in self.chat.thread(parent.message_id)]

    def gone(self, user_id: str) -> None:
        self.chat.gone_users.add(user_id)

    def throttle_next_post(self, retry_after: int) -> None:
        raise NotImplementedError("the local chat has no rate limits")

    async def close(self) -> None:
        return None


class SlackWorld:
    can = frozenset({"throttle", "find_sent"})

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.slack = SlackPort(AsyncWebClient(token=fake.bot_token, base_url=fake.api_url))
        self.port: ChatPort = self.slack

    def user(self, name: str) -> str:
        return self.fake.add_user(name).id

    def channel(self, name: str) -> str:
        return self.fake.add_channel(name).id

    def _texts(self, channel: str, *, thread_ts: str | None) -> list[str]:
        found = []
        for m in self.fake.messages(channel):
            if not m.is_bot or m.deleted:
                continue
            top = m.thread_ts is None or m.thread_ts == m.ts
            if (thread_ts is None and top) or (
                thread_ts is not None and m.thread_ts == thread_ts and m.ts != thread_ts
            ):
                found.append(m.text)
        return found

    def top_level(self, channel: str) -> list[str]:
        return self._texts(channel, thread_ts=None)

    def dm(self, user_id: str) -> list[str]:
        return self._texts(self.fake.dm_with(user_id), thread_ts=None)

    def thread(self, parent: SentRef) -> list[str]:
        return self._texts(parent.channel, thread_ts=parent.message_id)

    def gone(self, user_id: str) -> None:
        self.fake.deactivate(user_id)

    def throttle_next_post(self, retry_after: int) -> None:
        self.fake.fail_next("chat.postMessage", status=429, retry_after=retry_after)

    async def close(self) -> None:
        await self.slack.aclose()


def _discord_text(message: FakeDiscordMessage) -> str:
    """What a person reads: the content, then each embed's description, with the
    renderer's escapes shown as Discord shows them."""
    texts = [message.content] + [str(e.get("description") or "") for e in message.embeds]
    return shown_text("\n".join(t for t in texts if t))


class DiscordWorld:
    """The real `DiscordPort` (aiohttp, Discord's HTTP API) against the strict fake."""

    can = frozenset({"throttle"})  # a resend is deduplicated by nonce, not looked up

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.discord = DiscordPort(fake.token, fake.api_base)
        self.port: ChatPort = self.discord
        self._users: dict[str, FakeDiscordUser] = {}

    def user(self, name: str) -> str:
        person = self.fake.add_user(name)
        self._users[person.id] = person
        return person.id

    def channel(self, name: str) -> str:
        return self.fake.add_channel(name).id

    def _mine(self, messages: list[FakeDiscordMessage]) -> list[FakeDiscordMessage]:
        return [m for m in messages if m.author is self.fake.bot]

    def top_level(self, channel: str) -> list[str]:
        place = self.fake.world.channels[channel]
        return [_discord_text(m) for m in self._mine(self.fake.channel_messages(place))]

    def dm(self, user_id: str) -> list[str]:
        mine = self._mine(self.fake.dms(self._users[user_id]))
        return [_discord_text(m) for m in mine if m.reference is None]

    def thread(self, parent: SentRef) -> list[str]:
        thread = self.fake.world.channels.get(parent.message_id)
        if thread is not None and thread.is_thread:  # a guild channel: the message's thread
            return [_discord_text(m) for m in self._mine(self.fake.thread_messages(thread))]
        place = self.fake.world.channels[parent.channel]  # a DM: replies quoting it
        mine = self._mine(self.fake.channel_messages(place))
        return [_discord_text(m) for m in mine if m.reference == parent.message_id]

    def gone(self, user_id: str) -> None:
        del self.fake.world.users[user_id]

    def throttle_next_post(self, retry_after: int) -> None:
        self.fake.fail_next(
            "POST /channels/{channel_id}/messages", 429, retry_after=float(retry_after)
        )

    async def close(self) -> None:
        await self.discord.aclose()
