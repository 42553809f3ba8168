"""The chat port: what the core needs from a chat platform to deliver intents.

Only outbound delivery lives here (DMs, channel posts, thread replies, edits);
private replies and forms answer an interaction and are returned by the core
synchronously (`hdops.chat.Reply`), because platforms tie them to the
interaction (a Slack trigger_id, a Discord interaction token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hdops.chat import Message


@dataclass(frozen=True)
class SentRef:
    """Where a sent message lives: enough to edit it or reply in its thread."""

    channel: str
    message_id: str


class DeliveryError(Exception):
    """A send failed. `retry_after` (seconds) when the platform said when to retry;
    `permanent` when retrying cannot help (channel archived, user gone)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class ChatPort(Protocol):
    """One chat platform as the outbox delivery loop sees it."""

    platform: str  # "slack" | "discord" | "console"

    async def send_dm(
        self, user_id: str, message: Message, *, dm_channel: str | None = None
    ) -> SentRef:
        """DM a user; `dm_channel` is the cached DM channel if known."""
        ...

    async def post_channel(self, channel: str, message: Message) -> SentRef: ...

    async def post_thread(self, parent: SentRef, message: Message) -> SentRef: ...

    async def edit(self, ref: SentRef, message: Message) -> None: ...
