"""Forms a person must fix, kept for a while so the fix button can reopen them
filled in with what they typed (see `bots.discord.render`, "Form errors").

In memory, per process, on purpose: a draft holds answers not yet accepted,
which the store has no business keeping, and it only needs to outlive the few
minutes until the person clicks "Fix and resubmit". A draft expires after
`ttl` (15 minutes, the life of the interaction token that showed the button)
and the oldest go first past `capacity`; after a restart or expiry the button
answers that the form must be opened again, and the reply still shows what was
typed. Keys are random (not guessable) and only the person who typed may
take theirs back.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hdops.chat import Form


@dataclass(frozen=True)
class Draft:
    user: str
    form: Form
    errors: Mapping[str, str]


class Drafts:
    def __init__(
        self,
        *,
        ttl: float = 15 * 60,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl, self._capacity, self._clock = ttl, capacity, clock
        self._items: OrderedDict[str, tuple[float, Draft]] = OrderedDict()

    def keep(self, draft: Draft) -> str:
        """Store `draft`; its key (22 URL-safe characters) for the button's custom id."""
        self._expire()
        key = secrets.token_urlsafe(16)
        self._items[key] = (self._clock() + self._ttl, draft)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return key

    def get(self, key: str, user: str) -> Draft | None:
        """The draft under `key` if it is `user`'s and has not expired. It stays
        until it expires: the person may need a second try."""
        self._expire()
        entry = self._items.get(key)
        if entry is None or entry[1].user != user:
            return None
        return entry[1]

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, (until, _) in self._items.items() if until <= now]:
            del self._items[key]
