"""Discord's rate limits as per-route buckets, on by default in `FakeDiscord`.

What Discord publishes (discord.com/developers/docs/topics/rate-limits): limits are per
route, keyed by the route and its "top-level" resource (channel_id, guild_id, webhook
id + token); every answer carries X-RateLimit-Limit / -Remaining / -Reset / -Reset-After
/ -Bucket; over the limit it answers 429 with `{"message", "retry_after", "global"}` (and
Retry-After, X-RateLimit-Scope); a bot also has a global limit of 50 requests a second,
which interaction endpoints are not bound to. Discord does not publish per-route
numbers (the headers are the contract); these are modelled as:

- sending or editing a message: 5 per 5 s per channel (the figure Discord has long used
  for message sends and that client libraries assume);
- everything else: 10 per 10 s per route and top-level resource;
- the global limit: 50 per second, per bot token.

Each bucket is a fixed window starting at its first request, as Discord's headers
describe it (Reset is when the whole window refills).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

MESSAGE_LIMIT, MESSAGE_WINDOW = 5, 5.0
DEFAULT_LIMIT, DEFAULT_WINDOW = 10, 10.0
GLOBAL_LIMIT, GLOBAL_WINDOW = 50, 1.0
MAJOR_PARAMS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")
MESSAGE_ROUTES = frozenset(
    {
        ("POST", "/channels/{channel_id}/messages"),
        ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    }
)


@dataclass
class Window:
    limit: int
    seconds: float
    started: float = -math.inf
    used: int = 0

    def take(self, now: float) -> bool:
        """Count a request; False if the window is already full."""
        if now >= self.started + self.seconds:
            self.started, self.used = now, 0
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def reset_after(self, now: float) -> float:
        return max(0.0, self.started + self.seconds - now)


@dataclass
class Verdict:
    """What the limiter says about one request: headers to send, and whether it is over."""

    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, tuple[str, ...]], Window] = {}
        self._global = Window(GLOBAL_LIMIT, GLOBAL_WINDOW)

    def check(
        self, verb: str, template: str, params: dict[str, str], now: float, wall: float
    ) -> Verdict:
        """Count the request against its bucket (and the global limit unless an
        interaction route); `wall` is the epoch time for X-RateLimit-Reset."""
        exempt = template.startswith(("/interactions/", "/webhooks/"))
        if not exempt and not self._global.take(now):
            wait = self._global.reset_after(now)
            return Verdict({"X-RateLimit-Global": "true"}, max(wait, 0.001), is_global=True)
        major = tuple(params.get(name, "") for name in MAJOR_PARAMS)
        limit, seconds = (
            (MESSAGE_LIMIT, MESSAGE_WINDOW)
            if (verb, template) in MESSAGE_ROUTES
            else (DEFAULT_LIMIT, DEFAULT_WINDOW)
        )
        bucket = self._buckets.setdefault((verb, template, major), Window(limit, seconds))
        allowed = bucket.take(now)
        after = bucket.reset_after(now)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - bucket.used)),
            "X-RateLimit-Reset": f"{wall + after:.3f}",
            "X-RateLimit-Reset-After": f"{after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(verb, template),
        }
        if allowed:
            return Verdict(headers)
        return Verdict(headers, max(after, 0.001))


def bucket_hash(verb: str, template: str) -> str:
    """A stable opaque bucket id per route, as Discord's X-RateLimit-Bucket is."""
    return hashlib.sha1(f"{verb} {template}".encode()).hexdigest()[:16]
