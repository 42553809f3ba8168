"""Slack's rate limit tiers as token buckets (opt-in: `FakeSlack(rate_limits=True)`).

Tiers allow N calls a minute per method with bursts up to N; chat.postMessage allows about
one message a second per channel with short bursts. A call over the limit is answered
429 + Retry-After, which is Slack's normal behaviour, not the app's bug.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "chat.update": 3,
    "chat.delete": 3,
    "conversations.open": 3,
    "conversations.replies": 3,
    "conversations.info": 3,
    "reactions.add": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "users.info": 4,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "auth.test": 4,
}
POST_MESSAGE_PER_SECOND = 1.0
POST_MESSAGE_BURST = 5


@dataclass
class Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """0 if a call may go now, else the seconds until it may."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def retry_after(self, method: str, channel: str | None, now: float) -> int:
        """0 when the call is within the limits, else whole seconds for Retry-After."""
        if method == "chat.postMessage":
            key = (method, channel or "")
            capacity, rate = float(POST_MESSAGE_BURST), POST_MESSAGE_PER_SECOND
        else:
            per_minute = TIER_PER_MINUTE[TIERS.get(method, 3)]
            key = (method, "")
            capacity, rate = float(per_minute), per_minute / 60
        bucket = self._buckets.setdefault(key, Bucket(capacity, rate, capacity, now))
        wait = bucket.take(now)
        return math.ceil(wait) if wait else 0
