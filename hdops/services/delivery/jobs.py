"""What travels through the deliverer: a claimed row on its way out (`Job`), its
lane, what the planner must know of the rows this process holds (`Snapshot`), a
row that failed for good (`Failure`), the counts kept per outcome, and what an
observer hears of a message just sent (`Delivered`).

Every other module of the deliverer speaks these; this one changes only when
what a row carries on its way out changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hdops.intents import Intent
from hdops.ports import Op, Send, SentRef
from hdops.store.outbox import Claimed, Deferred, Outcome, Sent

WAIT_BEHIND = timedelta(seconds=1)  # a row behind a row held elsewhere looks again after

# A row that failed for good, for the ops notice: the row, its intent, the error,
# and whether it was given up for its age.
Failure = tuple[Claimed, Intent, str, bool]


@dataclass
class Job:
    """A claimed row on its way out. `send` is None while it waits for the message
    it edits or replies under, which another job of this process is sending
    (`after` names that message's ref key)."""

    row: Claimed
    intent: Intent
    send: Send | None
    after: str | None = None


@dataclass
class Snapshot:
    known: set[int]  # rows this process holds (in flight, unrecorded, arriving)
    blocked: dict[str, datetime]  # lanes waiting behind a deferred row
    produced: dict[str, tuple[str, SentRef] | str]  # refs sent (or "sending") here
    dm_channels: dict[tuple[str, str], str]


@dataclass(frozen=True)
class Delivered:
    """A message just handed to a platform, as `Deliverer.on_sent` hears of it (for
    metrics: a task message, `ref` `assignment:<id>`, ends the click → next task
    latency)."""

    platform: str
    op: Op  # dm | post | thread | edit
    target: str  # the user of a DM, else the channel
    ref: str | None
    created_at: datetime  # when the intent was written (the causing transaction)
    sent_at: datetime


def lane_of(row: Claimed) -> str:
    return row.lane or f"row:{row.id}"


def tally(stats: Counter[str], outcomes: Sequence[Outcome]) -> None:
    """Count outcomes into the deliverer's `stats` (sent, deferred, failed)."""
    for outcome in outcomes:
        if isinstance(outcome, Sent):
            stats["sent"] += 1
        elif isinstance(outcome, Deferred):
            stats["deferred"] += 1
        else:
            stats["failed"] += 1
