"""The work around every inbound interaction, whatever the platform.

An adapter acknowledges the platform first (each has a deadline: Slack 3 s,
Discord 3 s), then runs the interaction through an `InteractionRunner`:

* `working()` counts it in flight (graceful shutdown waits for zero; tests
  settle on it);
* `call(fn, …)` runs the core off the event loop: the core is synchronous and
  talks to the database, and the loop must keep serving other people;
* `answering(kind, body)` turns what goes wrong after the ack into one private
  reply to the person: a payload lacking what hdops needs (`Unreadable`) is
  logged and counted as unreadable, any other exception as an error, and either
  way they are told it did not work and what to do. Nothing escapes to the
  platform library, and nobody is left with silence.

The core answers its own failures (`hdops.core`); this covers the adapter's
own reading and showing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from bots import metrics
from hdops.chat import Message
from hdops.render import problems

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# What a person is told they sent, when it could not be read or handled.
WHAT = {
    "command": "command",
    "action": "button press",
    "view_submission": "form",
    "modal_submit": "form",
    "thread_reply": "message",
}


class Unreadable(Exception):
    """A payload lacks a field hdops needs; `missing` is its path (never a value:
    payloads carry tokens)."""

    def __init__(self, missing: str) -> None:
        super().__init__(f"missing or malformed: {missing}")
        self.missing = missing


Tell = Callable[[Any, Message], Awaitable[None]]  # (the payload, what to say)
Describe = Callable[[Any], str]  # a bounded, escaped one-line summary of a payload


class InteractionRunner:
    def __init__(self, platform: str, *, tell: Tell, describe: Describe) -> None:
        self.platform = platform
        self.in_flight = 0
        self._tell = tell
        self._describe = describe

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a core call in a worker thread."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def unreadable(self, kind: str, exc: Unreadable, body: Any) -> None:
        """Log and count a payload hdops cannot read (nobody told: see `answering`)."""
        metrics.event_unreadable(self.platform, kind)
        log.warning("%s %s unreadable, %s (%s)", self.platform, kind, exc, self._describe(body))

    def failed(self, kind: str, body: Any) -> None:
        """Log (with the traceback) and count an adapter failure."""
        metrics.event_error(self.platform, kind)
        log.exception("%s %s failed (%s)", self.platform, kind, self._describe(body))

    @contextlib.asynccontextmanager
    async def answering(self, kind: str, body: Any) -> AsyncIterator[None]:
        """Run a listener's work after its ack; an unreadable payload or a failure
        is logged, counted and answered privately instead of escaping."""
        try:
            yield
        except Unreadable as exc:
            self.unreadable(kind, exc, body)
            await self._tell(body, problems.unreadable(WHAT[kind]))
        except Exception:
            self.failed(kind, body)
            await self._tell(body, problems.failed(WHAT[kind]))
