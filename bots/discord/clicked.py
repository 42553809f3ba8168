"""The messages people clicked on, and the interaction that may edit each one.

Why: a task message is edited ("Recorded: …") after every answer. Through
`PATCH /channels/{channel}/messages/{message}` each edit counts against the bot's
global limit (50 requests a second for all workers together), so in a burst of
clicks the edits queue behind each other and behind the next tasks. The click's own
interaction can edit the message it was on instead — `PATCH
/webhooks/{application}/{token}/messages/@original`, outside the global limit —
once the interaction has been answered with DEFERRED_UPDATE_MESSAGE (before that
Discord does not know an original), for 15 minutes. It is the way Discord intends
a bot to update the message a person interacted with, as Slack's `response_url`.

Tokens live only in this process's memory (short-lived capabilities): an edit sent by
another worker, after a restart, after 14 minutes, or for a click answered some other
way (a form, an ephemeral reply) edits the message through the channel. Tokens are
never logged.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

LIFETIME = 14 * 60.0  # Discord: an interaction token works for 15 minutes (a minute's margin)
MAX_REMEMBERED = 10_000


@dataclass
class _Click:
    token: str
    expires: float
    # True: answered with DEFERRED_UPDATE (the token edits this message); False: not.
    answered: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class ClickedMessages:
    """(channel, message id) → the latest click's interaction token."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_message: OrderedDict[tuple[str, str], _Click] = OrderedDict()

    def clicked(self, channel: str, message: str, token: str) -> None:
        """A click arrived (before the core runs: its edit may be queued at once)."""
        key = (channel, message)
        old = self._by_message.pop(key, None)
        if old is not None and not old.answered.done():
            old.answered.set_result(False)
        self._by_message[key] = _Click(token, self.clock() + LIFETIME)
        while len(self._by_message) > MAX_REMEMBERED:
            _, dropped = self._by_message.popitem(last=False)
            if not dropped.answered.done():
                dropped.answered.set_result(False)

    def answered(self, channel: str, message: str, token: str, *, deferred_update: bool) -> None:
        """The click's interaction was answered; only DEFERRED_UPDATE makes the
        clicked message its original. Idempotent: the first answer counts."""
        click = self._by_message.get((channel, message))
        if click is None or click.token != token or click.answered.done():
            return
        click.answered.set_result(deferred_update)
        if not deferred_update:
            del self._by_message[(channel, message)]

    def available(self, channel: str, message: str) -> bool:
        """A click on this message may edit it (answered so, or not answered yet)."""
        click = self._by_message.get((channel, message))
        if click is None or click.expires <= self.clock():
            return False
        return not click.answered.done() or click.answered.result()

    async def token(self, channel: str, message: str, wait: float) -> str | None:
        """The token to edit the message with, once its click is answered (waiting
        at most `wait` seconds); None: edit through the channel."""
        click = self._by_message.get((channel, message))
        if click is None or click.expires <= self.clock():
            return None
        try:
            usable = await asyncio.wait_for(asyncio.shield(click.answered), wait)
        except TimeoutError:
            return None
        return click.token if usable and click.expires > self.clock() else None
