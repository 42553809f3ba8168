"""Interaction `response_url`s, remembered so the message a person clicked on is
edited through them rather than through `chat.update`.

Why: `chat.update` is a Tier 3 method (about 50 calls a minute per workspace),
so at a few clicks a second the "Recorded: …" edits of task messages would
queue for minutes behind the pacer. A `block_actions` payload carries a
`response_url` that can replace the original message (`replace_original`) up
to five times within 30 minutes, outside the Web API's tiers — the way Slack
intends an app to update the message a person interacted with.

The URLs live only in this process's memory (they are short-lived capabilities,
not worth a table): an edit delivered by another worker, after a restart, after
five uses or after 30 minutes falls back to `chat.update`. URLs are never logged.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

USES = 5  # Slack: a response_url may be used up to five times…
LIFETIME = 29 * 60.0  # … within 30 minutes (a minute's margin)
MAX_REMEMBERED = 10_000


@dataclass
class _Entry:
    url: str
    expires: float
    uses_left: int


class ResponseUrls:
    """(channel, message ts) → the freshest response_url for that message."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_message: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def remember(self, channel: str, ts: str, url: str) -> None:
        key = (channel, ts)
        self._by_message[key] = _Entry(url, self.clock() + LIFETIME, USES)
        self._by_message.move_to_end(key)
        while len(self._by_message) > MAX_REMEMBERED:
            self._by_message.popitem(last=False)

    def available(self, channel: str, ts: str) -> bool:
        entry = self._by_message.get((channel, ts))
        return entry is not None and entry.uses_left > 0 and entry.expires > self.clock()

    def take(self, channel: str, ts: str) -> str | None:
        """A URL to use now (counting the use), or None: use chat.update."""
        if not self.available(channel, ts):
            self._by_message.pop((channel, ts), None)
            return None
        entry = self._by_message[(channel, ts)]
        entry.uses_left -= 1
        return entry.url

    def forget(self, channel: str, ts: str) -> None:
        self._by_message.pop((channel, ts), None)
