"""Pacing outbound calls to a platform's published rate limits.

Throttling is the normal state of a chat platform under load, not an error:
Slack allows about one message a second per channel (with short bursts) and
N calls a minute per method tier; Discord has per-route buckets. The delivery
loop asks the `Pacer` how long a send must wait before it goes, so it rarely
hits a 429 at all, and when the platform does answer 429 with Retry-After the
pacer is told to hold every key of that send until then.

Each limit is a generic cell rate (GCRA, the "virtual scheduling" form of a
token bucket): a key remembers its theoretical arrival time (TAT); a call at
time t may go at max(t, TAT − burst·interval); each call moves TAT on by one
interval. A call that must respect several limits (a channel's posting rate
and its method's tier) goes when the slowest allows, and then counts against
all of them. Which keys and rates apply is platform data, supplied by each chat
port (`ChatPort.rates`), so Discord's buckets plug in without changing this.

`Pacer` keeps its cells in memory: right for one process (SQLite, the demo, the
terminal). Several `hdops run` workers on one PostgreSQL store share the platform's
limits, so there the cells live in the store (`hdops.services.shared_pacing`) and
every worker books against the same ones; both use the arithmetic below
(`conforming_start`, `next_tat`), and the sender sees either through `Pacing`.
The platform's 429s still hold keys for their Retry-After (never counted as
failures).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Rate:
    """`per_second` calls a second on average, up to `burst` at once."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate needs per_second > 0 and burst >= 1")

    @classmethod
    def per_minute(cls, calls: float, burst: int | None = None) -> Rate:
        return cls(calls / 60.0, burst if burst is not None else max(1, int(calls)))

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


Limit = tuple[str, Rate]  # (key, rate): e.g. ("slack:post:C123", Rate(1, 3))


@dataclass(frozen=True)
class Booking:
    """`wait`: seconds until the call may go. `booked`: False when `wait` exceeded
    what the caller would wait, and nothing was reserved."""

    wait: float
    booked: bool


class Pacing(Protocol):
    """What the outbox sender needs of a pacer (in memory or shared)."""

    async def book(self, limits: Sequence[Limit], max_wait: float) -> Booking:
        """Reserve a call under all `limits` if it may go within `max_wait` seconds."""
        ...

    async def hold(self, keys: Sequence[str], seconds: float) -> None:
        """The platform said "retry after `seconds`" for a call under these keys."""
        ...


def conforming_start(tat: float | None, rate: Rate, now: float, held: float | None) -> float:
    """When a call under one limit may go: a call conforms once
    t >= TAT - (burst - 1) * interval (a fresh key takes `burst` calls at once,
    then one per interval), and never before a 429's hold ends."""
    earliest = now if tat is None else max(now, tat - (rate.burst - 1) * rate.interval)
    return earliest if held is None or held <= now else max(earliest, held)


def next_tat(tat: float | None, start: float, rate: Rate) -> float:
    """A key's theoretical arrival time after a call booked to go at `start`."""
    return (start if tat is None else max(tat, start)) + rate.interval


class Pacer:
    """Per-key GCRA limits on a monotonic clock (seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tat: dict[str, float] = {}
        self._held: dict[str, float] = {}  # key -> not before (after a platform 429)

    def wait(self, limits: Sequence[Limit]) -> float:
        """Seconds until a call under all `limits` may go (0: now). Reserves nothing."""
        now = self.clock()
        return clamp_wait(
            max((self._start(key, rate, now) for key, rate in limits), default=now) - now
        )

    def reserve(self, limits: Sequence[Limit]) -> float:
        """Book a call under all `limits`; returns how long the caller must wait first.

        The booking is made whatever the wait, so concurrent callers queue up in
        order instead of all waking at the same instant."""
        now = self.clock()
        start = max((self._start(key, rate, now) for key, rate in limits), default=now)
        for key, rate in limits:
            self._tat[key] = next_tat(self._tat.get(key), start, rate)
        return clamp_wait(start - now)

    def book(self, limits: Sequence[Limit], max_wait: float) -> Booking:
        """Reserve a call if it may go within `max_wait` seconds; else reserve nothing."""
        wait = self.wait(limits)
        if wait > max_wait:
            return Booking(wait, False)
        return Booking(self.reserve(limits), True)

    def hold(self, keys: Sequence[str], seconds: float) -> None:
        """The platform said "retry after `seconds`" for a call under these keys."""
        until = self.clock() + max(0.0, seconds)
        for key in keys:
            self._held[key] = max(self._held.get(key, until), until)

    def _start(self, key: str, rate: Rate, now: float) -> float:
        held = self._held.get(key)
        if held is not None and held <= now:
            del self._held[key]
            held = None
        return conforming_start(self._tat.get(key), rate, now, held)


class LocalPacing:
    """`Pacing` over an in-memory `Pacer`: one process owns the limits."""

    def __init__(self, pacer: Pacer | None = None) -> None:
        self.pacer = pacer or Pacer()

    async def book(self, limits: Sequence[Limit], max_wait: float) -> Booking:
        return self.pacer.book(limits, max_wait)

    async def hold(self, keys: Sequence[str], seconds: float) -> None:
        self.pacer.hold(keys, seconds)


def clamp_wait(wait: float) -> float:
    """A wait of a few floating-point ulps is no wait."""
    return wait if wait > 1e-9 else 0.0
