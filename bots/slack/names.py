"""Names for the people and channels that Slack markup mentions by id.

A person is named as hdops knows them (their display name, from the core) when
their Slack id is one of the identities hdops has; anyone else as Slack shows
them (`users.info`: display name, else real name, else user name). A channel
mentioned without its name is looked up with `conversations.info`. Slack's
answers are cached for `ttl` seconds, so a busy thread costs one lookup per
person or channel rather than one per message; hdops' own names are asked for
every time (one indexed query) so a renamed person shows up renamed at once.
A lookup that fails (rate limit, no access) leaves the id to the fallbacks of
`bots.slack.markup.render`, and the message is relayed anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import markup

log = logging.getLogger(__name__)

KnownNames = Callable[[Sequence[str]], Awaitable[dict[str, str]]]

TTL_SECONDS = 600.0
MAX_CACHED = 5_000
MAX_LOOKUPS = 25  # Slack lookups for one message; beyond that the fallbacks name them


class _Cache:
    """A small time-limited cache with a size bound (oldest entries go first)."""

    def __init__(self, ttl: float, clock: Callable[[], float], size: int = MAX_CACHED) -> None:
        self.ttl, self.clock, self.size = ttl, clock, size
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None or item[0] < self.clock():
            self._items.pop(key, None)
            return None
        return item[1]

    def put(self, key: str, value: str) -> None:
        self._items.pop(key, None)
        self._items[key] = (self.clock() + self.ttl, value)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class SlackNames:
    """Turns Slack message text into neutral text with people and channels named."""

    def __init__(
        self,
        client: AsyncWebClient,
        known: KnownNames,
        *,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.known = known
        self._users = _Cache(ttl, clock)
        self._channels = _Cache(ttl, clock)

    async def neutral(self, text: str) -> str:
        segments = markup.parse(text)
        users = await self.user_names(markup.user_ids(segments))
        channels = await self.channel_names(markup.channel_ids(segments))
        return markup.render(segments, users, channels)

    async def user_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        names = dict(await self.known(user_ids))
        missing = [u for u in user_ids if u not in names]
        names.update(await self._lookup(missing, self._users, self._user_name))
        return names

    async def channel_names(self, channel_ids: Sequence[str]) -> dict[str, str]:
        return await self._lookup(channel_ids, self._channels, self._channel_name)

    async def _lookup(
        self,
        ids: Sequence[str],
        cache: _Cache,
        fetch: Callable[[str], Awaitable[str | None]],
    ) -> dict[str, str]:
        names: dict[str, str] = {}
        wanted: list[str] = []
        for ident in ids:
            cached = cache.get(ident)
            if cached is not None:
                names[ident] = cached
            elif len(wanted) < MAX_LOOKUPS:
                wanted.append(ident)
        fetched = await asyncio.gather(*(fetch(i) for i in wanted))
        for ident, name in zip(wanted, fetched, strict=True):
            if name:
                cache.put(ident, name)
                names[ident] = name
        return names

    async def _user_name(self, user_id: str) -> str | None:
        user = await self._call("user", self.client.users_info(user=user_id))
        if not isinstance(user, dict):
            return None
        profile = user.get("profile") or {}
        for name in (
            profile.get("display_name"),
            profile.get("real_name"),
            user.get("real_name"),
            user.get("name"),
        ):
            if isinstance(name, str) and name.strip():
                return name.strip()
        return None

    async def _channel_name(self, channel_id: str) -> str | None:
        channel = await self._call("channel", self.client.conversations_info(channel=channel_id))
        name = channel.get("name") if isinstance(channel, dict) else None
        return name.strip() if isinstance(name, str) and name.strip() else None

    @staticmethod
    async def _call(key: str, request: Awaitable[Any]) -> Any:
        """`response[key]` of a lookup (`user`, `channel`), or None if it failed."""
        try:
            response = await request
        except Exception as exc:  # no access, rate limited, network: the fallbacks apply
            log.info("looking up a %s failed: %s", key, str(exc)[:200])
            return None
        return response.get(key)
