"""The outbox delivery loop: sends intents through the chat ports, paced, in
order per lane, concurrently across lanes, and never drops one.

How a row travels:

1. **Claim and plan** (one transaction, on the deliverer's own thread, never on
   the event loop): due rows are claimed in id order (their deadline pushed
   forward, so a crashed sender's rows come due again), each is resolved to a
   platform call (`Send`) with the refs and DM channels it needs, read in bulk.
   A row whose lane has an older row still waiting (deferred, or held by another
   worker) waits behind it. A row that cannot be routed yet waits too.
2. **Send**: rows go to per-lane queues. A lane (a person's DMs, one thread,
   one channel set, the edits of one message: `Target.lane`) sends its rows one
   by one, in id order; different lanes send concurrently, at most
   `concurrency` calls at a time. Before each call the `Pacer` says how long the
   platform's published limits (per channel, per method: `ChatPort.rates`) ask
   it to wait; short waits are slept, long ones hand the row back to the store.
3. **Record** (one transaction per batch of outcomes): sent rows with their
   platform refs, deferred rows with their next attempt, failed rows — and the
   ops notices about them.

What counts as failure: a 429 (throttling) is normal — its Retry-After holds the
pacing keys and the row waits, without counting an attempt. 5xx, timeouts and
connection errors are transient: retried with exponential back-off until the
row is older than the maximum age (`HDOPS_OUTBOX_MAX_AGE_HOURS`, default 24),
then it fails. Only errors the platform calls permanent (archived channel, user
gone, blocks refused) fail at once. Every failure is reported to ops once, by
another route than the one that failed (a failed ops-channel message goes to
the ops people's DMs), and the row stays visible (`hdops outbox list --failed`,
`hdops outbox retry`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from hdops import intents as intent_api
from hdops.clock import Clock, SystemClock
from hdops.config import Settings
from hdops.intents import Handed, Intent
from hdops.pacing import Pacer
from hdops.ports import ChatPort, DeliveryError, Op, Send, SentRef
from hdops.render.outbox import delivery_failed
from hdops.services import people as people_service
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.outbox import Claimed, Deferred, Failed, Outcome, Sent

log = logging.getLogger(__name__)

T = TypeVar("T")

BATCH = 100
CONCURRENCY = 16
MAX_INLINE_WAIT = 3.0  # seconds a lane may sleep for pacing before handing a row back
MAX_THROTTLE_RETRIES = 5  # 429s in a row answered inline before the row goes back
HEARTBEAT_SECONDS = 5.0  # how often rows still in this process's hands are re-claimed
BACKOFF_CAP = timedelta(minutes=5)
UNROUTABLE_CAP = timedelta(seconds=60)
WAIT_BEHIND = timedelta(seconds=1)  # a row behind a row held elsewhere looks again after
RECHECK_BEHIND = timedelta(seconds=5)  # … at the latest
RECORD_ATTEMPTS = 5
# Dedupe keys of failure reports: to the ops channel, and (when that channel is what
# failed) to each ops person; a failed DM report is not reported again.
FAILURE_KEY = "outbox-failed:"
LAST_ROUTE_KEY = "outbox-failed-dm:"


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
class _Snapshot:
    known: set[int]  # rows this process holds (in flight, unrecorded, arriving)
    blocked: dict[str, datetime]  # lanes waiting behind a deferred row
    produced: dict[str, tuple[str, SentRef] | str]  # refs sent (or "sending") here
    dm_channels: dict[tuple[str, str], str]


class Unroutable(Exception):
    """No running platform can deliver this intent (yet)."""


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


class Deliverer:
    def __init__(
        self,
        store: Store,
        ports: Mapping[str, ChatPort],
        settings: Settings,
        clock: Clock | None = None,
        *,
        pacer: Pacer | None = None,
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
        self.pacer = pacer or Pacer()
        self.concurrency = concurrency
        # Whether this process also sends messages addressed to no platform in
        # particular (ops notices, project channels). A terminal chat beside the
        # bots must not: the bots' channels are the real ones.
        self.claims_unaddressed = claims_unaddressed
        self.stats: Counter[str] = Counter()  # sent, deferred, throttled, failed, …
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hdops-outbox")
        self._lanes: dict[str, deque[Job]] = {}
        self._lane_tasks: dict[str, asyncio.Task[None]] = {}
        self._in_flight: dict[int, str] = {}  # row id -> lane
        # Rows whose outcome is known here but not yet recorded: still "pending" in
        # the store, so a claim must not mistake them for a row held elsewhere.
        self._unrecorded: set[int] = set()
        self._arriving: set[int] = set()  # handed over, not yet planned
        self._taking: set[asyncio.Task[None]] = set()
        self._running = False
        self._blocked: dict[str, datetime] = {}  # lane -> not before (this process's view)
        # ref key -> (platform, where) of a message sent but perhaps not yet recorded;
        # a None result: its producer did not send it (deferred or failed).
        self._producers: dict[str, asyncio.Future[tuple[str, SentRef] | None]] = {}
        self._outcomes: list[tuple[Outcome, Job | None]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._sem: asyncio.Semaphore | None = None
        self._pump_lock: asyncio.Lock | None = None
        self._last_heartbeat = time.monotonic()
        # (platform, user id) -> DM channel, learnt from sends; saves conversations.open
        # calls for a person's later messages before the store has recorded the first.
        self._dm_channels: dict[tuple[str, str], str] = {}

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
            self._sem = asyncio.Semaphore(self.concurrency)
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
        await self._db(self._expire_stale, self.clock.now())
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

    def _snapshot(self, now: datetime) -> _Snapshot:
        """What the planner must know of this process's state (read on the loop,
        used on the deliverer's thread)."""
        self._blocked = {k: v for k, v in self._blocked.items() if v > now}
        known = set(self._in_flight) | self._unrecorded | self._arriving
        produced: dict[str, tuple[str, SentRef] | str] = {}
        for key, fut in self._producers.items():
            if not fut.done():
                produced[key] = "sending"
            elif (result := fut.result()) is not None:
                produced[key] = result
        return _Snapshot(known, dict(self._blocked), produced, dict(self._dm_channels))

    async def _pump(self, limit: int) -> int:
        """Claim what is due and hand it to the lanes; returns how many rows were claimed."""
        assert self._pump_lock is not None
        async with self._pump_lock:
            now = self.clock.now()
            jobs, count = await self._db(self._claim, now, limit, self._snapshot(now))
            for job in jobs:
                self._admit(job)
            return count

    def _claim(self, now: datetime, limit: int, snap: _Snapshot) -> tuple[list[Job], int]:
        """(Deliverer thread.) Claim, plan, and record at once the rows that must wait."""
        deadline = now + timedelta(seconds=outbox.CLAIM_SECONDS)
        with self.store.unit_of_work() as session:
            rows = [
                r
                for r in outbox.claim_due(
                    session,
                    now,
                    deadline,
                    limit,
                    platforms=list(self.ports),
                    unaddressed=self.claims_unaddressed,
                )
                if r.id not in snap.known
            ]
            if not rows:
                return [], 0
            early: list[Outcome] = []
            parsed: list[tuple[Claimed, Intent]] = []
            for row in rows:
                try:
                    parsed.append((row, Intent.model_validate(row.payload)))
                except ValidationError as exc:
                    log.error("outbox row %s is not a readable intent: %s", row.id, exc)
                    early.append(Failed(row.id, f"unreadable intent: {exc}", attempted=False))
            jobs, planned_early, failures = self._plan(session, parsed, now, snap)
            early += planned_early
            outbox.record_outcomes(session, early)
            self._report(session, failures, now)
        self._count(early)
        return jobs, len(rows)

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
        self._arriving.update(h.row_id for h in handed)
        task = asyncio.ensure_future(self._take(handed))
        self._taking.add(task)
        task.add_done_callback(self._taking.discard)

    async def _take(self, handed: list[Handed]) -> None:
        assert self._pump_lock is not None
        try:
            async with self._pump_lock:
                now = self.clock.now()
                for h in handed:
                    self._arriving.discard(h.row_id)
                snap = self._snapshot(now)
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
                jobs, early = await self._db(self._plan_handed, rows, now, snap)
                self.stats["handed"] += len(rows)
                for job in jobs:
                    self._admit(job)
                for outcome in early:
                    self._unrecorded.add(outcome.row_id)
                    self._outcomes.append((outcome, None))
                if early:
                    self._schedule_flush()
        except Exception:  # the rows come due again when their claim runs out
            log.exception("could not take %s handed-over outbox rows", len(handed))
            for h in handed:
                self._arriving.discard(h.row_id)

    def _plan_handed(
        self, rows: list[tuple[Claimed, Intent]], now: datetime, snap: _Snapshot
    ) -> tuple[list[Job], list[Outcome]]:
        """(Deliverer thread.) Plan handed rows in a read-only transaction."""
        with self.store.read() as session:
            jobs, early, _ = self._plan(session, rows, now, snap)
        return jobs, early

    def _plan(
        self, session: Session, parsed: list[tuple[Claimed, Intent]], now: datetime, snap: _Snapshot
    ) -> tuple[list[Job], list[Outcome], list[tuple[Claimed, Intent, str, bool]]]:
        """Route each row, or say why it waits (or fails): its lane has an older
        row waiting, or no running platform can deliver it yet."""
        jobs: list[Job] = []
        early: list[Outcome] = []
        failures: list[tuple[Claimed, Intent, str, bool]] = []
        if not parsed:
            return jobs, early, failures
        planner = _Planner(
            session, self._platforms(), self._ops_channels(), snap.produced, snap.dm_channels
        )
        planner.load([intent for _, intent in parsed])
        first_ids: dict[str, int] = {}
        for row, _ in parsed:
            first_ids.setdefault(_lane(row), row.id)
        held_elsewhere = outbox.earlier_pending(
            session, list(first_ids), first_ids, {*snap.known, *(r.id for r, _ in parsed)}
        )
        blocked = snap.blocked
        for row, intent in parsed:
            lane = _lane(row)
            wait_until = max(
                [t for t in (blocked.get(lane), held_elsewhere.get(lane)) if t is not None],
                default=None,
            )
            if wait_until is not None:
                # Look again soon: the row ahead may be another worker's, sent
                # long before its claim runs out.
                until = max(now + WAIT_BEHIND, min(wait_until, now + RECHECK_BEHIND))
                early.append(Deferred(row.id, until, "waiting behind an earlier message", False))
                blocked[lane] = until
                continue
            try:
                send, after = planner.plan(intent, row.platform)
            except Unroutable as exc:
                if self._too_old(row, now):
                    early.append(Failed(row.id, str(exc), attempted=False))
                    failures.append((row, intent, str(exc), True))
                else:
                    age = now - row.age_from
                    delay = min(UNROUTABLE_CAP, max(timedelta(seconds=1), age / 10))
                    early.append(Deferred(row.id, now + delay, str(exc), attempted=False))
                    blocked[lane] = now + delay
                continue
            jobs.append(Job(row, intent, send, after))
        return jobs, early, failures

    def _admit(self, job: Job) -> None:
        lane = _lane(job.row)
        self._in_flight[job.row.id] = lane
        held = self._blocked.get(lane)
        if held is not None and held > self.clock.now() and lane not in self._lane_tasks:
            # The lane was deferred while this row was being claimed: keep its order.
            self._finish(
                job, Deferred(job.row.id, held, "waiting behind an earlier message", False)
            )
            return
        if job.intent.ref and job.intent.ref not in self._producers:
            assert self._loop is not None
            self._producers[job.intent.ref] = self._loop.create_future()
        elif job.intent.ref:
            # A second message under the same key: it replaces the first one's ref.
            fut = self._producers[job.intent.ref]
            if fut.done():
                assert self._loop is not None
                self._producers[job.intent.ref] = self._loop.create_future()
        self._lanes.setdefault(lane, deque()).append(job)
        if lane not in self._lane_tasks:
            self._lane_tasks[lane] = asyncio.create_task(self._run_lane(lane))

    async def _heartbeat(self) -> None:
        if time.monotonic() - self._last_heartbeat < HEARTBEAT_SECONDS:
            return
        self._last_heartbeat = time.monotonic()
        ids = list(self._in_flight)
        if ids:
            deadline = self.clock.now() + timedelta(seconds=outbox.CLAIM_SECONDS)
            await self._db(self._extend, ids, deadline)
        await self._db(self._expire_stale, self.clock.now())

    def _expire_stale(self, now: datetime) -> int:
        """(Deliverer thread.) Fail rows past their maximum age that no process has
        sent — also those addressed to a platform nobody serves any more, which no
        claim of ours would ever see — and tell ops about each, once."""
        with self.store.unit_of_work() as session:
            rows = outbox.stale(session, now, self.settings.outbox_max_age)
            failures: list[tuple[Claimed, Intent, str, bool]] = []
            outcomes: list[Outcome] = []
            for row in rows:
                error = f"nobody delivered it (addressed to {row.platform or 'any platform'})"
                outcomes.append(Failed(row.id, error, attempted=False))
                try:
                    failures.append((row, Intent.model_validate(row.payload), error, True))
                except ValidationError:
                    log.error("outbox row %s is not a readable intent", row.id)
            outbox.record_outcomes(session, outcomes)
            self._report(session, failures, now)
        self._count(outcomes)
        return len(rows)

    def _extend(self, ids: list[int], deadline: datetime) -> None:
        with self.store.unit_of_work() as session:
            outbox.extend_claims(session, ids, deadline)

    # ------------------------------------------------------------------ sending

    async def _run_lane(self, lane: str) -> None:
        queue = self._lanes[lane]
        try:
            while queue:
                job = queue[0]
                outcome = await self._send(job)
                queue.popleft()
                self._finish(job, outcome)
                if isinstance(outcome, Deferred):
                    # Order within the lane: everything behind it waits as long.
                    self._blocked[lane] = outcome.until
                    while queue:
                        rest = queue.popleft()
                        self._finish(
                            rest,
                            Deferred(
                                rest.row.id,
                                outcome.until,
                                "waiting behind an earlier message",
                                attempted=False,
                            ),
                        )
        finally:
            self._lanes.pop(lane, None)
            self._lane_tasks.pop(lane, None)

    async def _send(self, job: Job) -> Outcome:
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
                )
        if send.op == "dm" and not send.channel:
            # An earlier message of this lane may have opened the DM meanwhile.
            known = self._dm_channels.get((send.platform, send.target))
            if known:
                send = Send(send.platform, "dm", known, send.target)
        port = self.ports[send.platform]
        key = str(row.id)
        if row.maybe_sent and send.op != "edit":  # an edit made twice changes nothing
            try:
                found = await port.find_sent(send, key)
            except DeliveryError as exc:  # cannot tell now: ask again later, never guess
                return self._backoff(row, f"checking whether it was sent: {exc}", exc.retry_after)
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
        throttles = 0
        while True:
            wait = self.pacer.wait(limits)
            if wait > MAX_INLINE_WAIT:
                # Hand it back without booking a slot it will not use.
                self.stats["paced"] += 1
                until = self.clock.now() + timedelta(seconds=wait)
                return Deferred(row.id, until, "paced to the platform's limits", attempted=False)
            wait = self.pacer.reserve(limits)
            if wait > 0:
                await asyncio.sleep(wait)
            assert self._sem is not None
            try:
                async with self._sem:
                    result = await _execute(port, send, intent, key)
            except DeliveryError as exc:
                if exc.throttled:
                    self.stats["throttled"] += 1
                    retry_after = exc.retry_after if exc.retry_after is not None else 1.0
                    self.pacer.hold([key for key, _ in limits], retry_after)
                    throttles += 1
                    if retry_after <= MAX_INLINE_WAIT and throttles <= MAX_THROTTLE_RETRIES:
                        continue
                    until = self.clock.now() + timedelta(seconds=retry_after)
                    return Deferred(row.id, until, str(exc), attempted=False)
                if exc.permanent:
                    log.warning("outbox row %s refused by %s: %s", row.id, send.platform, exc)
                    return Failed(row.id, str(exc), attempted=True)
                return self._backoff(row, str(exc), exc.retry_after)
            except Exception as exc:  # an adapter bug must not lose the row
                log.exception("delivering outbox row %s failed", row.id)
                return self._backoff(row, f"{exc.__class__.__name__}: {exc}", None)
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
        fut = self._producers.get(job.after)
        if fut is None:
            return None
        produced = await fut
        if produced is None:
            return None
        platform, where = produced
        op: Op = "edit" if job.intent.target.edit is not None else "thread"
        return Send(platform, op, where.channel, where.message_id)

    def _backoff(self, row: Claimed, error: str, retry_after: float | None) -> Outcome:
        now = self.clock.now()
        if self._too_old(row, now):
            return Failed(row.id, error, attempted=True)
        delay = (
            timedelta(seconds=retry_after)
            if retry_after
            else min(BACKOFF_CAP, timedelta(seconds=2 ** min(row.attempts + 1, 12)))
        )
        log.warning("outbox row %s: %s (retry in %ss)", row.id, error, delay.total_seconds())
        return Deferred(row.id, now + delay, error, attempted=True)

    def _too_old(self, row: Claimed, now: datetime) -> bool:
        return now - row.age_from >= self.settings.outbox_max_age

    # ------------------------------------------------------------------ recording

    def _finish(self, job: Job, outcome: Outcome) -> None:
        self._in_flight.pop(job.row.id, None)
        self._unrecorded.add(job.row.id)
        send = job.send
        if isinstance(outcome, Sent) and send is not None and send.op == "dm" and outcome.channel:
            self._dm_channels[(outcome.platform, send.target)] = outcome.channel
        if self.on_sent is not None and isinstance(outcome, Sent) and send is not None:
            self._tell_sent(job, send, outcome)
        key = job.intent.ref
        if key is not None:
            fut = self._producers.get(key)
            if fut is not None and not fut.done():
                if isinstance(outcome, Sent) and outcome.channel and outcome.message_id:
                    fut.set_result((outcome.platform, SentRef(outcome.channel, outcome.message_id)))
                else:
                    fut.set_result(None)
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
                    self._count([o for o, _ in batch])
                for outcome, job in batch:
                    # Unrecorded, they come due again when their claim runs out.
                    self._unrecorded.discard(outcome.row_id)
                    self._forget_producer(outcome, job)
        finally:
            self._flushing = None
        if self._outcomes:
            self._schedule_flush()

    async def _record_with_retries(self, batch: list[tuple[Outcome, Job | None]]) -> bool:
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await self._db(self._record, batch)
                return True
            except Exception:
                log.exception("could not record %s outbox outcomes (try %s)", len(batch), attempt)
                await asyncio.sleep(min(3.0, 0.2 * 2**attempt))
        # The rows stay claimed and come due again after the claim deadline (a sent
        # one may then go twice: at-least-once beats lost).
        return False

    def _forget_producer(self, outcome: Outcome, job: Job | None) -> None:
        """Once recorded, a sent message's ref is in the store: drop the memo."""
        if job is None or job.intent.ref is None:
            return
        fut = self._producers.get(job.intent.ref)
        if fut is not None and fut.done():
            del self._producers[job.intent.ref]

    def _record(self, batch: list[tuple[Outcome, Job | None]]) -> None:
        """(Deliverer thread.) One transaction for a batch of outcomes."""
        now = self.clock.now()
        failures = [
            (job.row, job.intent, outcome.error, self._too_old(job.row, now))
            for outcome, job in batch
            if isinstance(outcome, Failed) and job is not None
        ]
        with self.store.unit_of_work() as session:
            outbox.record_outcomes(session, [o for o, _ in batch])
            self._report(session, failures, now)

    def _count(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            if isinstance(outcome, Sent):
                self.stats["sent"] += 1
            elif isinstance(outcome, Deferred):
                self.stats["deferred"] += 1
            else:
                self.stats["failed"] += 1

    def _report(
        self,
        session: Session,
        failures: Sequence[tuple[Claimed, Intent, str, bool]],
        now: datetime,
    ) -> None:
        """Tell ops, once per failed row, by a route other than the one that failed."""
        for row, intent, error, aged in failures:
            log.error("outbox row %s failed for good: %s", row.id, error)
            if (row.dedupe_key or "").startswith(LAST_ROUTE_KEY):
                continue  # even the ops people's DMs failed: the log is all that is left
            age = _describe_age(self.settings.outbox_max_age) if aged else None
            message = delivery_failed(row.id, intent.message.text, error, gave_up_after=age)
            suffix = f"{row.id}:{row.age_from.isoformat()}"
            if not intent.target.ops:
                intent_api.to_ops(session, message, now, dedupe_key=f"{FAILURE_KEY}{suffix}")
                continue
            # The ops channel itself failed: tell the ops people directly.
            for person in people_service.list_people(session, role="ops"):
                key = f"{LAST_ROUTE_KEY}{suffix}:{person.id}"
                intent_api.dm(session, person.id, message, now, dedupe_key=key)

    # ------------------------------------------------------------------ routing

    def _ops_channels(self) -> dict[str, str]:
        out = {"console": "ops"}
        if self.settings.slack_ops_channel:
            out["slack"] = self.settings.slack_ops_channel
        if self.settings.discord_ops_channel:
            out["discord"] = self.settings.discord_ops_channel
        return out

    def _platforms(self) -> list[str]:
        return [p for p in outbox.PLATFORM_PREFERENCE if p in self.ports]


class _Planner:
    """Resolves intents to platform calls for one claimed batch, reading the refs
    and identities it needs in two queries."""

    def __init__(
        self,
        session: Session,
        platforms: Sequence[str],
        ops_channels: Mapping[str, str],
        produced: Mapping[str, tuple[str, SentRef] | str],
        dm_channels: Mapping[tuple[str, str], str],
    ) -> None:
        self.dm_channels = dm_channels
        self.session = session
        self.platforms = platforms
        self.ops_channels = ops_channels
        self.produced = produced
        self.refs: dict[tuple[str, str], tuple[str, str]] = {}
        self.identities: dict[int, dict[str, outbox.DmIdentity]] = {}
        self.batch_refs: set[str] = set()

    def load(self, intents: Sequence[Intent]) -> None:
        keys = [i.target.edit or i.target.thread_of for i in intents]
        self.refs = outbox.refs_for(self.session, [k for k in keys if k])
        people = [i.target.person for i in intents if i.target.person is not None]
        for identity in outbox.dm_identities(self.session, people):
            self.identities.setdefault(identity.person_id, {})[identity.platform] = identity

    def plan(self, intent: Intent, platform: str | None) -> tuple[Send | None, str | None]:
        """(send, None), or (None, key) when the target message is being sent by an
        earlier job of this process (its ref key). A row addressed to a platform
        goes there or nowhere."""
        target = intent.target
        plan = self._plan(intent, [platform] if platform is not None else self.platforms)
        if intent.ref:
            self.batch_refs.add(intent.ref)
        if plan is not None:
            return plan, None
        key = target.edit or target.thread_of
        assert key is not None
        return None, key

    def _plan(self, intent: Intent, platforms: Sequence[str]) -> Send | None:
        target = intent.target
        key = target.edit or target.thread_of
        if key is not None:
            op: Op = "edit" if target.edit is not None else "thread"
            for platform in platforms:
                found = self.produced.get(key)
                if isinstance(found, tuple) and found[0] == platform:
                    return Send(platform, op, found[1].channel, found[1].message_id)
                if found == "sending" or key in self.batch_refs:
                    return None  # an earlier job sends it now: follow it
                ref = self.refs.get((key, platform))
                if ref is not None:
                    return Send(platform, op, ref[0], ref[1])
            raise Unroutable(f"no delivered message {key} yet")
        if target.person is not None:
            identities = self.identities.get(target.person, {})
            for platform in platforms:
                identity = identities.get(platform)
                if identity is not None:
                    channel = identity.dm_channel or self.dm_channels.get(
                        (platform, identity.external_id), ""
                    )
                    return Send(platform, "dm", channel, identity.external_id)
            raise Unroutable(f"person {target.person} has no identity on a running platform")
        channels = self.ops_channels if target.ops else target.channels
        for platform in platforms:
            posted_to = channels.get(platform)
            if posted_to:
                return Send(platform, "post", posted_to, "")
        raise Unroutable("no channel on a running platform")


def _lane(row: Claimed) -> str:
    return row.lane or f"row:{row.id}"


async def _execute(port: ChatPort, send: Send, intent: Intent, key: str) -> SentRef | None:
    message = intent.message
    if send.op == "dm":
        return await port.send_dm(send.target, message, dm_channel=send.channel or None, key=key)
    if send.op == "post":
        return await port.post_channel(send.channel, message, key=key)
    if send.op == "thread":
        return await port.post_thread(SentRef(send.channel, send.target), message, key=key)
    await port.edit(SentRef(send.channel, send.target), message)
    return None


def _describe_age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:g} h" if hours >= 1 else f"{age.total_seconds() / 60:g} min"
