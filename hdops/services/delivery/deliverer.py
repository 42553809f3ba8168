"""The deliverer: the loop that claims what is due and hands it to per-lane
queues, the lanes that send their rows one by one while different lanes send
concurrently, the hand-over of rows committed by this process's own core, the
heartbeat that renews claims, and the batching of outcomes into the store.

It owns the asyncio side — tasks, wake-ups, queues — and delegates the rest: the
store work to `transactions` (on its own thread), the calls to `sending`, what
it holds to `holdings`. It changes when how the work is scheduled changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from hdops.clock import Clock, SystemClock
from hdops.config import Settings
from hdops.intents import Handed
from hdops.pacing import LocalPacing, Pacing
from hdops.ports import ChatPort, Send
from hdops.services.delivery.holdings import Holdings
from hdops.services.delivery.jobs import Delivered, Job, lane_of, tally
from hdops.services.delivery.retries import Retries
from hdops.services.delivery.sending import Sender
from hdops.services.delivery.transactions import Transactions
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.outbox import Claimed, Deferred, Outcome, Sent

log = logging.getLogger(__name__)

T = TypeVar("T")

BATCH = 100
CONCURRENCY = 16
HEARTBEAT_SECONDS = 5.0  # how often rows still in this process's hands are re-claimed
RECORD_ATTEMPTS = 5


class Deliverer:
    """Delivers the outbox through `ports` (see the package docstring for how a row
    travels). `ports` may gain a platform while it runs."""

    def __init__(
        self,
        store: Store,
        ports: Mapping[str, ChatPort],
        settings: Settings,
        clock: Clock | None = None,
        *,
        pacer: Pacing | None = None,
        concurrency: int = CONCURRENCY,
        claims_unaddressed: bool = True,
        on_sent: Callable[[Delivered], None] | None = None,
    ) -> None:
        """`on_sent` is called on the event loop for every message sent; it must be
        quick and is never allowed to disturb delivery."""
        self.store = store
        self.on_sent = on_sent
        self.ports = dict(ports)
        self.settings = settings
        self.clock = clock or SystemClock()
        self.pacer = pacer or LocalPacing()
        self.concurrency = concurrency
        # Whether this process also sends messages addressed to no platform in
        # particular (ops notices, project channels). A terminal chat beside the
        # bots must not: the bots' channels are the real ones.
        self.claims_unaddressed = claims_unaddressed
        self.stats: Counter[str] = Counter()  # sent, deferred, throttled, failed, …
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hdops-outbox")
        self._holdings = Holdings()
        retries = Retries(self.settings, self.clock)
        self._store_work = Transactions(
            store,
            self.ports,
            self.settings,
            self.clock,
            self.stats,
            retries,
            claims_unaddressed=claims_unaddressed,
        )
        self._sender = Sender(
            self.ports, self.pacer, self.clock, self.stats, retries, self._holdings, concurrency
        )
        self._lanes: dict[str, deque[Job]] = {}
        self._lane_tasks: dict[str, asyncio.Task[None]] = {}
        self._taking: set[asyncio.Task[None]] = set()
        self._running = False
        self._outcomes: list[tuple[Outcome, Job | None]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._pump_lock: asyncio.Lock | None = None
        self._last_heartbeat = time.monotonic()

    # ------------------------------------------------------------------ running

    def kick(self) -> None:
        """Ask the loop to run now (safe to call from any thread)."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    def _bind(self) -> None:
        """Loop-bound primitives, made for the loop this deliverer runs on."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._wake = asyncio.Event()
            self._sender.bind()
            self._pump_lock = asyncio.Lock()

    async def run_forever(self, interval: float = 1.0) -> None:
        """Deliver whatever comes due, woken by `kick()` or every `interval` s."""
        self._bind()
        assert self._wake is not None
        self._running = True
        try:
            while True:
                self._wake.clear()
                try:
                    claimed = await self._pump(BATCH)
                    await self._heartbeat()
                except Exception:  # the store may be down for a moment: never stop
                    log.exception("outbox delivery pass failed")
                    claimed = 0
                if claimed >= BATCH:
                    continue  # more is due right now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=interval)
        finally:
            self._running = False
            await self._settle()

    async def deliver_due(self, limit: int = BATCH) -> int:
        """Deliver every intent due now and wait until all are sent and recorded;
        returns how many were sent. (Tests, the demo and the terminal use this.)"""
        self._bind()
        before = self.stats["sent"]
        await self._db(self._store_work.expire_stale, self.clock.now())
        while await self._pump(limit):
            await self._settle()
        await self._settle()
        return self.stats["sent"] - before

    async def _settle(self) -> None:
        """Until no lane is sending and every outcome is recorded."""
        while self._lane_tasks or self._outcomes or self._flushing is not None or self._taking:
            waiting: list[asyncio.Task[None]] = [*self._lane_tasks.values(), *self._taking]
            if self._flushing is not None:
                waiting.append(self._flushing)
            if waiting:
                await asyncio.gather(*waiting, return_exceptions=True)
            elif self._outcomes:
                self._schedule_flush()

    def close(self) -> None:
        self._executor.shutdown(wait=False)

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Store work runs on the deliverer's own thread, never on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # ------------------------------------------------------------------ claiming

    async def _pump(self, limit: int) -> int:
        """Claim what is due and hand it to the lanes; returns how many rows were claimed."""
        assert self._pump_lock is not None
        async with self._pump_lock:
            now = self.clock.now()
            jobs, count = await self._db(
                self._store_work.claim, now, limit, self._holdings.snapshot(now)
            )
            for job in jobs:
                self._admit(job)
            return count

    async def _heartbeat(self) -> None:
        if time.monotonic() - self._last_heartbeat < HEARTBEAT_SECONDS:
            return
        self._last_heartbeat = time.monotonic()
        ids = list(self._holdings.in_flight)
        if ids:
            deadline = self.clock.now() + timedelta(seconds=outbox.CLAIM_SECONDS)
            await self._db(self._store_work.extend, ids, deadline)
        await self._db(self._store_work.expire_stale, self.clock.now())

    # ------------------------------------------------------------------ hand-off

    def takes(self, platform: str | None) -> bool:
        """Whether this process sends messages addressed to `platform`."""
        return self.claims_unaddressed if platform is None else platform in self.ports

    def ready(self) -> bool:
        """True while `run_forever` is running: the core may then hand over what it
        enqueues (`accept`) instead of leaving it for the next claim."""
        return self._running

    def accept(self, handed: Sequence[Handed]) -> None:
        """Rows a unit of work just committed, born claimed by this process (safe to
        call from any thread). They skip the claim transaction and the JSON round
        trip: planned in one read-only transaction and sent at once. If this
        process dies first, they come due when their claim runs out."""
        loop = self._loop
        if not handed or loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._receive, list(handed))
        except RuntimeError:  # the loop closed meanwhile (shutting down)
            log.info("delivery loop closed: %s rows wait for their claim to run out", len(handed))

    def _receive(self, handed: list[Handed]) -> None:
        self._holdings.arriving.update(h.row_id for h in handed)
        task = asyncio.ensure_future(self._take(handed))
        self._taking.add(task)
        task.add_done_callback(self._taking.discard)

    async def _take(self, handed: list[Handed]) -> None:
        assert self._pump_lock is not None
        try:
            async with self._pump_lock:
                now = self.clock.now()
                for h in handed:
                    self._holdings.arriving.discard(h.row_id)
                snap = self._holdings.snapshot(now)
                rows = [
                    (
                        Claimed(
                            h.row_id,
                            h.intent.kind,
                            {},
                            0,
                            h.created_at,
                            None,
                            h.lane,
                            h.dedupe_key,
                            h.platform,
                        ),
                        h.intent,
                    )
                    for h in handed
                    if h.row_id not in snap.known
                ]
                jobs, early = await self._db(self._store_work.plan_handed, rows, now, snap)
                self.stats["handed"] += len(rows)
                for job in jobs:
                    self._admit(job)
                for outcome in early:
                    self._holdings.unrecorded.add(outcome.row_id)
                    self._outcomes.append((outcome, None))
                if early:
                    self._schedule_flush()
        except Exception:  # the rows come due again when their claim runs out
            log.exception("could not take %s handed-over outbox rows", len(handed))
            for h in handed:
                self._holdings.arriving.discard(h.row_id)

    # ------------------------------------------------------------------ lanes

    def _admit(self, job: Job) -> None:
        lane = lane_of(job.row)
        self._holdings.in_flight[job.row.id] = lane
        held = self._holdings.blocked.get(lane)
        if held is not None and held > self.clock.now() and lane not in self._lane_tasks:
            # The lane was deferred while this row was being claimed: keep its order.
            self._finish(
                job,
                Deferred(
                    job.row.id,
                    held,
                    "waiting behind an earlier message",
                    False,
                    maybe_sent=job.row.maybe_sent,
                ),
            )
            return
        if job.intent.ref:
            assert self._loop is not None
            self._holdings.expect(job.intent.ref, self._loop)
        self._lanes.setdefault(lane, deque()).append(job)
        if lane not in self._lane_tasks:
            self._lane_tasks[lane] = asyncio.create_task(self._run_lane(lane))

    async def _run_lane(self, lane: str) -> None:
        queue = self._lanes[lane]
        try:
            while queue:
                job = queue[0]
                outcome = await self._sender.send(job)
                queue.popleft()
                self._finish(job, outcome)
                if isinstance(outcome, Deferred):
                    # Order within the lane: everything behind it waits as long.
                    self._holdings.blocked[lane] = outcome.until
                    while queue:
                        rest = queue.popleft()
                        self._finish(
                            rest,
                            Deferred(
                                rest.row.id,
                                outcome.until,
                                "waiting behind an earlier message",
                                attempted=False,
                                maybe_sent=rest.row.maybe_sent,
                            ),
                        )
        finally:
            self._lanes.pop(lane, None)
            self._lane_tasks.pop(lane, None)

    # ------------------------------------------------------------------ recording

    def _finish(self, job: Job, outcome: Outcome) -> None:
        self._holdings.in_flight.pop(job.row.id, None)
        self._holdings.unrecorded.add(job.row.id)
        send = job.send
        if isinstance(outcome, Sent) and send is not None and send.op == "dm" and outcome.channel:
            self._holdings.dm_channels[(outcome.platform, send.target)] = outcome.channel
        if self.on_sent is not None and isinstance(outcome, Sent) and send is not None:
            self._tell_sent(job, send, outcome)
        if job.intent.ref is not None:
            self._holdings.produced(job.intent.ref, outcome)
        self._outcomes.append((outcome, job))
        self._schedule_flush()

    def _tell_sent(self, job: Job, send: Send, outcome: Sent) -> None:
        assert self.on_sent is not None
        target = send.target if send.op == "dm" else send.channel
        try:
            self.on_sent(
                Delivered(
                    send.platform,
                    send.op,
                    target,
                    job.intent.ref,
                    job.row.created_at,
                    outcome.sent_at,
                )
            )
        except Exception:
            log.exception("on_sent observer failed")

    def _schedule_flush(self) -> None:
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._outcomes:
                batch, self._outcomes = self._outcomes, []
                recorded = await self._record_with_retries(batch)
                if recorded:
                    tally(self.stats, [o for o, _ in batch])
                for outcome, job in batch:
                    # Unrecorded, they come due again when their claim runs out.
                    self._holdings.unrecorded.discard(outcome.row_id)
                    self._holdings.forget_producer(job)
        finally:
            self._flushing = None
        if self._outcomes:
            self._schedule_flush()

    async def _record_with_retries(self, batch: list[tuple[Outcome, Job | None]]) -> bool:
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await self._db(self._store_work.record, batch)
                return True
            except Exception:
                log.exception("could not record %s outbox outcomes (try %s)", len(batch), attempt)
                await asyncio.sleep(min(3.0, 0.2 * 2**attempt))
        # The rows stay claimed and come due again after the claim deadline (a sent
        # one may then go twice: at-least-once beats lost).
        return False
