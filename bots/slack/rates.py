"""Slack's published rate limits, as data for the outbox's pacer.

From docs.slack.dev ("Rate limits"): Web API methods are grouped in tiers of
calls per minute per method per workspace — Tier 1: 1+, Tier 2: 20+, Tier 3:
50+, Tier 4: 100+ — with short bursts tolerated; `chat.postMessage` is special:
about one message per second per channel, short bursts allowed. We pace at
exactly the published figures (the "+" is headroom we do not count on) and
allow a burst of three posts per channel, so a task's message, its thread note
and a notice go out at once, then one a second. A 429 still holds the keys for
its Retry-After (see `hdops.pacing`).
"""

from __future__ import annotations

from collections.abc import Sequence

from hdops.pacing import Limit, Rate
from hdops.ports import Send

POST_PER_CHANNEL = Rate(per_second=1.0, burst=3)
TIER_3 = Rate.per_minute(50)  # chat.update, conversations.open
TIER_4 = Rate.per_minute(100)  # files.*UploadExternal, users.info, chat.postEphemeral


def limits_for(send: Send) -> Sequence[Limit]:
    """The limits one outbox send counts against."""
    if send.op == "edit":
        return [("slack:chat.update", TIER_3)]
    if send.op == "dm" and not send.channel:
        # The DM channel is not known yet: conversations.open first, and the post
        # is paced by the person it goes to (their DM channel, once opened).
        return [
            ("slack:conversations.open", TIER_3),
            (f"slack:post:@{send.target}", POST_PER_CHANNEL),
        ]
    return [(f"slack:post:{send.channel}", POST_PER_CHANNEL)]
