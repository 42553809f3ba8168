"""What this process holds between a claim and a record: rows in flight, rows
whose outcome is known but not yet recorded, rows handed over but not yet
planned, lanes held back behind a deferred row, the messages being sent here
that later jobs follow (by ref key), and the DM channels learnt from sends.

A claim must not mistake these rows for rows held elsewhere, so the planner gets
a `Snapshot` of them. State only, kept on the event loop; this module changes
when what the deliverer must remember between a claim and a record changes.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from hdops.ports import SentRef
from hdops.services.delivery.jobs import Job, Snapshot
from hdops.store.outbox import Outcome, Sent


class Holdings:
    def __init__(self) -> None:
        self.in_flight: dict[int, str] = {}  # row id -> lane
        # Rows whose outcome is known here but not yet recorded: still "pending" in
        # the store, so a claim must not mistake them for a row held elsewhere.
        self.unrecorded: set[int] = set()
        self.arriving: set[int] = set()  # handed over, not yet planned
        self.blocked: dict[str, datetime] = {}  # lane -> not before (this process's view)
        # ref key -> (platform, where) of a message sent but perhaps not yet recorded;
        # a None result: its producer did not send it (deferred or failed).
        self.producers: dict[str, asyncio.Future[tuple[str, SentRef] | None]] = {}
        # (platform, user id) -> DM channel, learnt from sends; saves conversations.open
        # calls for a person's later messages before the store has recorded the first.
        self.dm_channels: dict[tuple[str, str], str] = {}

    def snapshot(self, now: datetime) -> Snapshot:
        """What the planner must know of this process's state (read on the loop,
        used on the deliverer's thread)."""
        self.blocked = {k: v for k, v in self.blocked.items() if v > now}
        known = set(self.in_flight) | self.unrecorded | self.arriving
        produced: dict[str, tuple[str, SentRef] | str] = {}
        for key, fut in self.producers.items():
            if not fut.done():
                produced[key] = "sending"
            elif (result := fut.result()) is not None:
                produced[key] = result
        return Snapshot(known, dict(self.blocked), produced, dict(self.dm_channels))

    def expect(self, ref: str, loop: asyncio.AbstractEventLoop) -> None:
        """A job that sends the message under `ref` was admitted: later jobs that
        edit it or reply under it follow its outcome."""
        if ref not in self.producers:
            self.producers[ref] = loop.create_future()
        else:
            # A second message under the same key: it replaces the first one's ref.
            fut = self.producers[ref]
            if fut.done():
                self.producers[ref] = loop.create_future()

    def produced(self, ref: str, outcome: Outcome) -> None:
        """The job sending the message under `ref` ended: tell those following it."""
        fut = self.producers.get(ref)
        if fut is not None and not fut.done():
            if isinstance(outcome, Sent) and outcome.channel and outcome.message_id:
                fut.set_result((outcome.platform, SentRef(outcome.channel, outcome.message_id)))
            else:
                fut.set_result(None)

    def forget_producer(self, job: Job | None) -> None:
        """Once recorded, a sent message's ref is in the store: drop the memo."""
        if job is None or job.intent.ref is None:
            return
        fut = self.producers.get(job.intent.ref)
        if fut is not None and fut.done():
            del self.producers[job.intent.ref]
