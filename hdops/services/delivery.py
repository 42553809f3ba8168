"""The outbox delivery loop: sends intents through the chat ports.

Each due row is claimed (its deadline pushed forward, so a crashed sender's rows
come due again), resolved to a platform target, sent, and marked `sent` with the
platform refs in its own short transaction. Failures are retried with
exponential backoff (or the platform's Retry-After); a permanent failure (user
left, channel archived) is logged and reported to the ops channel once, and
never crashes the loop. Rows are handled in id order so a thread reply follows
its parent message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hdops.chat import Message, Paragraph
from hdops.clock import Clock, SystemClock
from hdops.config import Settings
from hdops.intents import Intent, Target
from hdops.ports import ChatPort, DeliveryError, SentRef
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.orm import Identity

log = logging.getLogger(__name__)

PLATFORM_PREFERENCE = ("slack", "discord", "console")
WAIT_FOR_PARENT = timedelta(seconds=2)
UNROUTABLE_MAX_DELAY = timedelta(seconds=60)


@dataclass(frozen=True)
class Send:
    """A resolved intent: which platform, which call, where. For `dm`, `target` is the
    platform user id and `channel` the cached DM channel (may be empty); for `thread`
    and `edit`, `target` is the stored message id."""

    platform: str
    op: str  # dm | post | thread | edit
    channel: str
    target: str


class Unroutable(Exception):
    """No running platform can deliver this intent (yet)."""


class Deliverer:
    def __init__(
        self,
        store: Store,
        ports: Mapping[str, ChatPort],
        settings: Settings,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.ports = dict(ports)
        self.settings = settings
        self.clock = clock or SystemClock()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def kick(self) -> None:
        """Ask the loop to run now (safe to call from any thread)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._wake.set()
        else:
            self._wake_threadsafe()

    def _wake_threadsafe(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None:
            loop.call_soon_threadsafe(self._wake.set)

    async def run_forever(self, interval: float = 1.0) -> None:
        self._loop = asyncio.get_running_loop()
        while True:
            try:
                await self.deliver_due()
            except Exception:  # never let one bad row stop delivery
                log.exception("outbox delivery pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()

    async def deliver_due(self, limit: int = 100) -> int:
        """Deliver every due intent; returns how many were sent."""
        async with self._lock:
            sent = 0
            while True:
                now = self.clock.now()
                with self.store.unit_of_work() as session:
                    rows = outbox.claim_due(session, now, limit)
                    claimed = [(r.id, r.kind, r.payload, r.attempts) for r in rows]
                if not claimed:
                    return sent
                for row_id, kind, payload, attempts in claimed:
                    if await self._deliver_one(row_id, kind, payload, attempts):
                        sent += 1
                if len(claimed) < limit:
                    return sent

    async def _deliver_one(
        self, row_id: int, kind: str, payload: dict[str, object], attempts: int
    ) -> bool:
        intent = Intent.model_validate(payload)
        try:
            with self.store.unit_of_work() as session:
                send = self._plan(session, intent)
            platform = send.platform
            result = await self._execute(self.ports[platform], send, intent.message)
        except Unroutable as exc:
            # Not a failure: another process (or this one, later) may be able to route
            # it — a platform starts, a parent message gets delivered. It stays pending.
            delay = min(UNROUTABLE_MAX_DELAY, WAIT_FOR_PARENT * attempts)
            self._retry(row_id, attempts, str(exc), delay, give_up=False)
            return False
        except DeliveryError as exc:
            delay = timedelta(seconds=exc.retry_after or min(300, 2**attempts))
            give_up = exc.permanent or attempts >= outbox.MAX_ATTEMPTS
            self._retry(row_id, attempts, str(exc), delay, give_up)
            if give_up:
                self._report_failure(intent, str(exc))
            return False
        except Exception as exc:  # an adapter bug must not lose the row
            log.exception("delivering outbox row %s failed", row_id)
            delay = timedelta(seconds=min(300, 2**attempts))
            self._retry(row_id, attempts, repr(exc), delay, attempts >= outbox.MAX_ATTEMPTS)
            return False
        now = self.clock.now()
        with self.store.unit_of_work() as session:
            refs: dict[str, object] = {}
            if result is not None:
                refs = {
                    "platform": platform,
                    "channel": result.channel,
                    "message_id": result.message_id,
                }
                if intent.ref:
                    outbox.save_ref(
                        session, intent.ref, platform, result.channel, result.message_id, now
                    )
                if intent.target.person is not None:
                    self._cache_dm(session, intent.target.person, platform, result.channel)
            outbox.mark_sent(session, row_id, now, refs)
        return True

    def _retry(
        self, row_id: int, attempts: int, error: str, delay: timedelta, give_up: bool
    ) -> None:
        if give_up:
            log.error("giving up on outbox row %s after %s attempts: %s", row_id, attempts, error)
        else:
            log.warning("outbox row %s: %s (retry in %ss)", row_id, error, delay.total_seconds())
        with self.store.unit_of_work() as session:
            outbox.mark_retry(session, row_id, self.clock.now(), error, delay, give_up)

    def _report_failure(self, intent: Intent, error: str) -> None:
        if intent.target.ops:
            return  # the ops channel itself failed; the log has it
        text = f"Could not deliver a message ({intent.message.text[:80]}): {error[:200]}"
        from hdops import intents as intent_api

        with self.store.unit_of_work() as session:
            intent_api.to_ops(
                session, Message(text=text, parts=[Paragraph(text=text)]), self.clock.now()
            )

    # ------------------------------------------------------------------ routing

    def _plan(self, session: Session, intent: Intent) -> Send:
        """Decide platform and call for an intent, reading what is needed from the store."""
        target: Target = intent.target
        key = target.edit or target.thread_of
        if key is not None:
            for platform in self._platforms():
                ref = outbox.get_ref(session, key, platform)
                if ref is not None:
                    op = "edit" if target.edit is not None else "thread"
                    return Send(platform, op, ref.channel, ref.message_id)
            raise Unroutable(f"no delivered message {key} yet")
        if target.person is not None:
            identities = {
                i.platform: i
                for i in session.scalars(
                    select(Identity).where(Identity.person_id == target.person)
                )
            }
            for platform in self._platforms():
                identity = identities.get(platform)
                if identity is not None:
                    return Send(platform, "dm", identity.dm_channel or "", identity.external_id)
            raise Unroutable(f"person {target.person} has no identity on a running platform")
        channels = self._ops_channels() if target.ops else dict(target.channels)
        for platform in self._platforms():
            channel = channels.get(platform)
            if channel:
                return Send(platform, "post", channel, "")
        raise Unroutable("no channel on a running platform")

    @staticmethod
    async def _execute(port: ChatPort, send: Send, message: Message) -> SentRef | None:
        if send.op == "dm":
            return await port.send_dm(send.target, message, dm_channel=send.channel or None)
        if send.op == "post":
            return await port.post_channel(send.channel, message)
        if send.op == "thread":
            return await port.post_thread(SentRef(send.channel, send.target), message)
        await port.edit(SentRef(send.channel, send.target), message)
        return None

    def _ops_channels(self) -> dict[str, str]:
        out = {"console": "ops"}
        if self.settings.slack_ops_channel:
            out["slack"] = self.settings.slack_ops_channel
        if self.settings.discord_ops_channel:
            out["discord"] = self.settings.discord_ops_channel
        return out

    def _platforms(self) -> list[str]:
        return [p for p in PLATFORM_PREFERENCE if p in self.ports]

    @staticmethod
    def _cache_dm(session: Session, person_id: int, platform: str, channel: str) -> None:
        identity = session.scalars(
            select(Identity).where(Identity.person_id == person_id, Identity.platform == platform)
        ).first()
        if identity is not None and identity.dm_channel != channel:
            identity.dm_channel = channel
