"""Sending one job, and turning every ending into an outcome. A job that edits
or replies under a message another job is sending waits for it; after a restart
a row that may have gone already is looked up, never sent twice; the `Pacer`
says how long the platform's published limits (per channel, per method:
`ChatPort.rates`) ask each call to wait — short waits are slept, long ones hand
the row back. A 429 holds the pacing keys and the row waits without counting an
attempt; transient errors back off (`retries`); errors the platform calls
permanent fail at once.

This module changes when how one platform call is made, paced or judged changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta

from hdops.clock import Clock
from hdops.intents import Intent
from hdops.pacing import Pacing
from hdops.ports import ChatPort, DeliveryError, Op, Send, SentRef
from hdops.services.delivery.holdings import Holdings
from hdops.services.delivery.jobs import WAIT_BEHIND, Job
from hdops.services.delivery.retries import Retries
from hdops.store.outbox import Deferred, Failed, Outcome, Sent

log = logging.getLogger(__name__)

MAX_INLINE_WAIT = 3.0  # seconds a lane may sleep for pacing before handing a row back
MAX_THROTTLE_RETRIES = 5  # 429s in a row answered inline before the row goes back


class Sender:
    def __init__(
        self,
        ports: Mapping[str, ChatPort],
        pacer: Pacing,
        clock: Clock,
        stats: Counter[str],
        retries: Retries,
        holdings: Holdings,
        concurrency: int,
    ) -> None:
        """`ports`, `stats` and `holdings` are the deliverer's own."""
        self.ports = ports
        self.pacer = pacer
        self.clock = clock
        self.stats = stats
        self.retries = retries
        self.holdings = holdings
        self.concurrency = concurrency
        self._sem: asyncio.Semaphore | None = None

    def bind(self) -> None:
        """At most `concurrency` calls at a time, on the loop this runs on now."""
        self._sem = asyncio.Semaphore(self.concurrency)

    async def send(self, job: Job) -> Outcome:
        """Send one job; never raises (every ending is an outcome)."""
        row, intent = job.row, job.intent
        send = job.send
        if send is None:
            send = await self._after_parent(job)
            if send is None:
                return Deferred(
                    row.id,
                    self.clock.now() + WAIT_BEHIND,
                    f"waiting for message {job.after}",
                    attempted=False,
                    maybe_sent=row.maybe_sent,
                )
        if send.op == "dm" and not send.channel:
            # An earlier message of this lane may have opened the DM meanwhile.
            known = self.holdings.dm_channels.get((send.platform, send.target))
            if known:
                send = Send(send.platform, "dm", known, send.target)
        port = self.ports[send.platform]
        key = str(row.id)
        if row.maybe_sent and send.op != "edit":  # an edit made twice changes nothing
            try:
                found = await port.find_sent(send, key)
            except DeliveryError as exc:  # cannot tell now: ask again later, never guess
                return self.retries.backoff(
                    row, f"checking whether it was sent: {exc}", exc.retry_after, maybe_sent=True
                )
            if found is not None:
                self.stats["found_sent"] += 1
                log.info("outbox row %s was already sent before a restart: not sent again", row.id)
                return Sent(
                    row.id,
                    self.clock.now(),
                    send.platform,
                    found.channel,
                    found.message_id,
                    ref=intent.ref,
                    dm_person=intent.target.person if send.op == "dm" else None,
                    attempted=False,
                )
        limits = port.rates(send)
        booking = await self.pacer.book(limits, MAX_INLINE_WAIT)
        if not booking.booked:
            # Handed back without booking a slot it will not use.
            self.stats["paced"] += 1
            until = self.clock.now() + timedelta(seconds=booking.wait)
            return Deferred(row.id, until, "paced to the platform's limits", attempted=False)
        if booking.wait > 0:
            await asyncio.sleep(booking.wait)
        throttles = 0
        while True:
            assert self._sem is not None
            try:
                async with self._sem:
                    result = await execute(port, send, intent, key)
            except DeliveryError as exc:
                if exc.throttled:
                    # The platform refused this call, so the slot booked for it is
                    # still ours: wait out Retry-After and try again under the same
                    # booking. Booking afresh would queue the call behind its own
                    # slot (a minute, under a per-minute method tier).
                    self.stats["throttled"] += 1
                    retry_after = exc.retry_after if exc.retry_after is not None else 1.0
                    await self.pacer.hold([key for key, _ in limits], retry_after)
                    throttles += 1
                    if retry_after <= MAX_INLINE_WAIT and throttles <= MAX_THROTTLE_RETRIES:
                        await asyncio.sleep(retry_after)
                        continue
                    until = self.clock.now() + timedelta(seconds=retry_after)
                    return Deferred(row.id, until, str(exc), attempted=False)
                if exc.permanent:
                    log.warning("outbox row %s refused by %s: %s", row.id, send.platform, exc)
                    return Failed(row.id, str(exc), attempted=True)
                return self.retries.backoff(
                    row,
                    str(exc),
                    exc.retry_after,
                    maybe_sent=exc.unknown_outcome or row.maybe_sent,
                )
            except Exception as exc:  # an adapter bug must not lose the row
                log.exception("delivering outbox row %s failed", row.id)
                # Where it failed is unknown: look before sending again.
                return self.retries.backoff(
                    row, f"{exc.__class__.__name__}: {exc}", None, maybe_sent=True
                )
            return Sent(
                row.id,
                self.clock.now(),
                send.platform,
                result.channel if result else None,
                result.message_id if result else None,
                ref=intent.ref if result else None,
                dm_person=intent.target.person if send.op == "dm" else None,
            )

    async def _after_parent(self, job: Job) -> Send | None:
        """The send for a job whose target message another job is sending now."""
        assert job.after is not None
        fut = self.holdings.producers.get(job.after)
        if fut is None:
            return None
        produced = await fut
        if produced is None:
            return None
        platform, where = produced
        op: Op = "edit" if job.intent.target.edit is not None else "thread"
        return Send(platform, op, where.channel, where.message_id)


async def execute(port: ChatPort, send: Send, intent: Intent, key: str) -> SentRef | None:
    message = intent.message
    if send.op == "dm":
        return await port.send_dm(send.target, message, dm_channel=send.channel or None, key=key)
    if send.op == "post":
        return await port.post_channel(send.channel, message, key=key)
    if send.op == "thread":
        return await port.post_thread(SentRef(send.channel, send.target), message, key=key)
    await port.edit(SentRef(send.channel, send.target), message)
    return None
