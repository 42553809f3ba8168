"""The chat port: what the core needs from a chat platform to deliver intents.

Only outbound delivery lives here (DMs, channel posts, thread replies, edits);
private replies and forms answer an interaction and are returned by the core
synchronously (`hdops.chat.Reply`), because platforms tie them to the
interaction (a Slack trigger_id, a Discord interaction token).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from hdops.chat import Message
from hdops.pacing import Limit

Op = Literal["dm", "post", "thread", "edit"]


@dataclass(frozen=True)
class SentRef:
    """Where a sent message lives: enough to edit it or reply in its thread."""

    channel: str
    message_id: str


@dataclass(frozen=True)
class Send:
    """A resolved intent: which platform, which call, where. For `dm`, `target` is the
    platform user id and `channel` the cached DM channel ("" if none yet); for
    `thread` and `edit`, `target` is the stored message id; for `post` it is ""."""

    platform: str
    op: Op
    channel: str
    target: str


class DeliveryError(Exception):
    """A send failed.

    * `permanent`: retrying cannot help (channel archived, user gone, blocks the
      platform refuses): the row fails at once and ops are told;
    * `throttled`: the platform's rate limit (429); `retry_after` says when to try
      again. Throttling is normal and never counts as a failed attempt;
    * anything else (5xx, timeouts, connection errors) is transient: retried with
      back-off until the row's maximum age;
    * `unknown_outcome`: no answer came after the request went out (a timeout, the
      connection lost mid-call): the platform may have done it, so the next attempt
      asks it first (`ChatPort.find_sent`) instead of sending again.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        throttled: bool = False,
        unknown_outcome: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.throttled = throttled
        self.unknown_outcome = unknown_outcome


class ChatPort(Protocol):
    """One chat platform as the outbox delivery loop sees it."""

    platform: str  # "slack" | "discord" | "console"

    def rates(self, send: Send) -> Sequence[Limit]:
        """The platform's published limits this send counts against, as
        (key, rate) pairs; the delivery loop paces sends to stay within them."""
        ...

    async def send_dm(
        self, user_id: str, message: Message, *, dm_channel: str | None = None, key: str = ""
    ) -> SentRef:
        """DM a user; `dm_channel` is the cached DM channel if known.

        `key` (here and below) names this outbox message: a port that can should
        tag what it posts with it, so `find_sent` can find the message again."""
        ...

    async def post_channel(self, channel: str, message: Message, *, key: str = "") -> SentRef: ...

    async def post_thread(self, parent: SentRef, message: Message, *, key: str = "") -> SentRef: ...

    async def edit(self, ref: SentRef, message: Message) -> None: ...

    async def find_sent(self, send: Send, key: str) -> SentRef | None:
        """The message posted for outbox message `key` by an earlier holder that died
        before recording it, if the platform shows one (None: not posted, or the
        platform cannot tell). Asked only for messages that may have gone out."""
        ...
