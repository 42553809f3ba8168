"""Slack's Web API rate limits as token buckets, on by default in `FakeSlack`.

What Slack publishes (docs.slack.dev/apis/web-api/rate-limits), and how it is modelled:

- Limits apply "per API method per workspace per app". Tier 1 is "1+ per minute" ("a
  small amount of burst behavior is tolerated"), tier 2 "20+ per minute" ("occasional
  bursts"), tier 3 "50+ per minute" ("sporadic bursts are welcome"), tier 4 "100+ per
  minute" ("generous burst behavior"). Each is a bucket that refills at the tier's rate
  and holds a minute's worth of calls, so a full minute's quota may go at once; tier 1's
  bucket holds `TIER_1_BURST` instead (below).
- `chat.postMessage` is a special tier: "generally one message per second per channel",
  "short bursts >1 allowed", plus a workspace-wide limit whose size Slack does not
  publish (not modelled). Here: one a second per channel, bursts of `POST_MESSAGE_BURST`
  (Slack gives no number: 5 is a "short burst", and a test that posts more than that to
  one channel at once is exercising exactly the pacing the limit exists to enforce).
- Over the limit Slack answers HTTP 429, `Retry-After: <whole seconds>` and
  `{"ok": false, "error": "ratelimited"}`. That is Slack's normal behaviour, not the
  app's bug: the app is expected to wait and retry.

Tier 1 and `apps.connections.open`: slack_sdk's Socket Mode client calls it on every
(re)connect, and Slack asks for a reconnect itself now and then (`disconnect`, reason
`refresh_requested` or `warning`). Slack gives no number for tier 1's "small amount of
burst"; `TIER_1_BURST = 3` lets the first connect and two prompt reconnects through and
refuses a reconnect loop, which is what the tier exists to stop. slack_sdk agrees that a
well-behaved client rarely meets it ("ratelimited errors rarely occur with this endpoint",
socket_mode/async_client.py) and, when it does, sleeps for Retry-After (up to 60 s here)
and tries again. Which tier is itself unsettled: api.slack.com's page for the method says
Tier 1 (as does slack_sdk's comment on its 30 s fallback), while the method data behind
docs.slack.dev's current reference says "Tier 3: 50+ per minute". The fake takes tier 1,
the stricter published figure, so a reconnect loop fails here before it fails in
production; a test that reconnects on purpose more than twice a minute says so with
`lenient={"rate_limits": ...}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
TIER_1_BURST = 3
DEFAULT_TIER = 2  # "Most methods allow at least 20 requests per minute"

# Tiers from each method's reference page on docs.slack.dev (the spec has none).
# `auth.test` and `chat.getPermalink` are "Special" there, with no number published:
# they are modelled as tier 4, so the fake refuses them only where a tier-4 method would
# be refused (an invented stricter number would fail apps Slack serves). Note
# `conversations.history` / `.replies` are tier 1 for *commercially distributed*
# non-Marketplace apps created after 2025-05-29; hdops is an internal app: tier 3.
TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "auth.test": 4,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.open": 3,
    "conversations.replies": 3,
    "files.completeUploadExternal": 4,
    "files.getUploadURLExternal": 4,
    "reactions.add": 3,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.publish": 4,
    "views.push": 4,
    "views.update": 4,
}
POST_MESSAGE_PER_SECOND = 1.0
POST_MESSAGE_BURST = 5


def tier_of(method: str) -> int:
    return TIERS.get(method, DEFAULT_TIER)


@dataclass
class Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """0 if a call may go now (and it is counted), else the seconds until it may."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.per_second)
        self.updated = max(self.updated, now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimiter:
    """One bucket per method (per channel for chat.postMessage), as Slack keys them."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def retry_after(self, method: str, channel: str | None, now: float) -> int:
        """0 when the call is within the limits, else Retry-After in whole seconds (>= 1)."""
        if method == "chat.postMessage":
            key = (method, channel or "")
            capacity, rate = float(POST_MESSAGE_BURST), POST_MESSAGE_PER_SECOND
        else:
            tier = tier_of(method)
            per_minute = TIER_PER_MINUTE[tier]
            key = (method, "")
            capacity = float(TIER_1_BURST if tier == 1 else per_minute)
            rate = per_minute / 60
        bucket = self._buckets.setdefault(key, Bucket(capacity, rate, capacity, now))
        wait = bucket.take(now)
        return max(1, math.ceil(wait)) if wait else 0
