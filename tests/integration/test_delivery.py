"""The outbox delivery loop against a scripted platform, on the real store.

`ScriptedPort` behaves like a platform that rate-limits per channel (answering
429 with Retry-After when called too fast), can be told to fail calls with
transient or permanent errors, and records every call with how many were in
flight at once — so these tests see ordering, concurrency, pacing and the
failure rules without a network."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hdops import intents
from hdops.chat import Message, Paragraph
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.pacing import Limit, Rate
from hdops.ports import DeliveryError, Send, SentRef
from hdops.services.delivery import Deliverer
from hdops.services.people import add_person
from hdops.store.db import Store
from hdops.store.orm import MessageRef, OutboxMessage, Person
from tests.helpers import T0, contractor, ops

pytestmark = pytest.mark.timeout(60)

CLAR = {"slack": "C0CLAR"}


def msg(text: str) -> Message:
    return Message(text=text, parts=[Paragraph(text=text)])


@dataclass
class Call:
    op: str
    channel: str
    text: str
    thread: str | None = None
    key: str = ""
    ref: SentRef | None = None


@dataclass
class ScriptedPort:
    """A platform with a per-channel limit of `per_second` (burst `burst`), enforced
    like Slack's: a call over it is refused with 429 and Retry-After."""

    platform: str = "slack"
    per_second: float = 200.0
    burst: int = 5
    paced_as: Rate = field(default_factory=lambda: Rate(200.0, 5))
    latency: float = 0.0
    calls: list[Call] = field(default_factory=list)
    refused: int = 0
    opens: int = 0
    lookups: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    failures: dict[str, list[DeliveryError]] = field(default_factory=lambda: defaultdict(list))
    down: set[str] = field(default_factory=set)  # channels answering 503 to every call
    edit_rate: Rate | None = None  # pace every edit under one key (a method's tier)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _ids: int = 0

    def rates(self, send: Send) -> Sequence[Limit]:
        if send.op == "edit" and self.edit_rate is not None:
            return [("test:edit", self.edit_rate)]
        return [(f"test:post:{send.channel or send.target}", self.paced_as)]

    def _admit(self, channel: str) -> None:
        now = time.monotonic()
        tokens, updated = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.per_second)
        if tokens < 1:
            self._buckets[channel] = (tokens, now)
            self.refused += 1
            wait = (1 - tokens) / self.per_second
            raise DeliveryError("ratelimited", retry_after=wait, throttled=True)
        self._buckets[channel] = (tokens - 1, now)
        if self.failures.get(channel):
            raise self.failures[channel].pop(0)
        if channel in self.down:
            raise DeliveryError("slack: server error 503")

    async def _call(
        self, op: str, channel: str, message: Message, thread: str | None, key: str = ""
    ) -> SentRef:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            self._admit(channel)
            self._ids += 1
            ref = SentRef(channel, f"m{self._ids}")
            self.calls.append(Call(op, channel, message.text, thread, key, ref))
            return ref
        finally:
            self.in_flight -= 1

    async def send_dm(
        self, user_id: str, message: Message, *, dm_channel: str | None = None, key: str = ""
    ) -> SentRef:
        if dm_channel is None:
            self.opens += 1
            dm_channel = f"D-{user_id}"
        return await self._call("dm", dm_channel, message, None, key)

    async def post_channel(self, channel: str, message: Message, *, key: str = "") -> SentRef:
        return await self._call("post", channel, message, None, key)

    async def post_thread(self, parent: SentRef, message: Message, *, key: str = "") -> SentRef:
        return await self._call("thread", parent.channel, message, parent.message_id, key)

    async def find_sent(self, send: Send, key: str) -> SentRef | None:
        self.lookups += 1
        return next((c.ref for c in self.calls if c.key == key and c.op != "edit"), None)

    async def edit(self, ref: SentRef, message: Message) -> None:
        await self._call("edit", ref.channel, message, ref.message_id)


def slack_person(session: Session, name: str) -> Person:
    return add_person(session, name, identities=[f"slack:U0{name.upper()}"], roles=["contractor"])


def deliverer(store: Store, port: ScriptedPort, clock: FakeClock, **settings: Any) -> Deliverer:
    cfg = Settings(slack_ops_channel="C0OPS", **settings)
    return Deliverer(store, {"slack": port}, cfg, clock)


def rows(store: Store) -> list[OutboxMessage]:
    with store.unit_of_work() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def texts(port: ScriptedPort, channel: str) -> list[str]:
    return [c.text for c in port.calls if c.channel == channel]


async def test_a_burst_into_one_throttled_channel_is_all_delivered_in_order(store: Store) -> None:
    """50 questions at once into one channel whose platform limit is tighter than our
    pacing: the platform refuses many calls with 429, yet every message is posted, in
    order, none failed, and a 429 never counts as a failed attempt."""
    port = ScriptedPort(per_second=100.0, burst=3, paced_as=Rate(1000.0, 50))
    clock = FakeClock(T0)
    with store.unit_of_work() as s:
        for i in range(50):
            intents.to_channels(s, CLAR, msg(f"question {i}"), T0)
    await deliverer(store, port, clock).deliver_due()
    assert texts(port, "C0CLAR") == [f"question {i}" for i in range(50)]
    assert port.refused > 0  # the platform did throttle
    assert {(r.status, r.attempts) for r in rows(store)} == {("sent", 1)}


async def test_pacing_keeps_calls_within_the_platform_limit(store: Store) -> None:
    """Paced at the platform's own figures, a burst draws (almost) no 429 at all."""
    port = ScriptedPort(per_second=100.0, burst=5, paced_as=Rate(100.0, 5))
    with store.unit_of_work() as s:
        for i in range(40):
            intents.to_channels(s, CLAR, msg(f"q{i}"), T0)
    await deliverer(store, port, FakeClock(T0)).deliver_due()
    assert len(texts(port, "C0CLAR")) == 40
    assert port.refused <= 1  # at most a boundary case of two clocks


async def test_lanes_keep_their_order_and_different_lanes_go_concurrently(store: Store) -> None:
    port = ScriptedPort(latency=0.02)
    with store.unit_of_work() as s:
        people = [slack_person(s, f"c{i}") for i in range(5)]
        for n in range(6):
            for p in people:
                intents.dm(s, p.id, msg(f"{p.name} #{n}"), T0)
    await deliverer(store, port, FakeClock(T0)).deliver_due()
    for p in people:
        assert [c.text for c in port.calls if c.text.startswith(f"{p.name} ")] == [
            f"{p.name} #{n}" for n in range(6)
        ]
    assert port.max_in_flight > 1
    assert port.opens == 5  # one conversations.open a person, not one a message


async def test_a_reply_follows_its_parent_sent_in_the_same_pass(store: Store) -> None:
    port = ScriptedPort()
    with store.unit_of_work() as s:
        intents.to_channels(s, CLAR, msg("the question"), T0, ref="clar:1")
        intents.in_thread(s, "clar:1", msg("a reply"), T0)
        intents.edit(s, "clar:1", msg("the question (resolved)"), T0)
    assert await deliverer(store, port, FakeClock(T0)).deliver_due() == 3
    post, reply, edit = port.calls
    assert reply.thread == edit.thread == "m1" and post.op == "post"
    with store.unit_of_work() as s:
        ref = s.scalars(select(MessageRef).where(MessageRef.key == "clar:1")).one()
        assert (ref.channel, ref.message_id) == ("C0CLAR", "m1")


async def test_transient_errors_retry_until_the_maximum_age_then_ops_hear_once(
    store: Store,
) -> None:
    port = ScriptedPort()
    clock = FakeClock(T0)
    d = deliverer(store, port, clock, outbox_max_age_hours=1)
    with store.unit_of_work() as s:
        intents.to_channels(s, {"slack": "C0DOWN"}, msg("stuck"), T0)
    port.down.add("C0DOWN")
    await d.deliver_due()
    [row] = rows(store)
    assert (row.status, row.attempts) == ("pending", 1) and "503" in (row.last_error or "")
    assert texts(port, "C0OPS") == []  # ops hear nothing while it is merely retrying
    for _ in range(11):  # 55 minutes of retries
        clock.advance(timedelta(minutes=5))
        await d.deliver_due()
    assert rows(store)[0].status == "pending"
    assert texts(port, "C0OPS") == []
    clock.advance(timedelta(minutes=6))  # 61 minutes: past the maximum age
    await d.deliver_due()
    await d.deliver_due()
    stuck = rows(store)[0]
    assert stuck.status == "failed"
    notes = texts(port, "C0OPS")
    assert len(notes) == 1 and "still not delivered after 1 h" in notes[0]
    clock.advance(timedelta(hours=2))
    await d.deliver_due()
    assert len(texts(port, "C0OPS")) == 1  # told once


async def test_a_permanent_error_fails_at_once_and_ops_are_told(store: Store) -> None:
    port = ScriptedPort()
    port.failures["C0GONE"].append(DeliveryError("slack: is_archived", permanent=True))
    with store.unit_of_work() as s:
        intents.to_channels(s, {"slack": "C0GONE"}, msg("into the void"), T0)
    await deliverer(store, port, FakeClock(T0)).deliver_due()
    first = rows(store)[0]
    assert (first.status, first.last_error) == ("failed", "slack: is_archived")
    [note] = texts(port, "C0OPS")
    assert "the platform refused it (slack: is_archived)" in note


async def test_a_failed_ops_message_reaches_the_ops_people_directly(store: Store) -> None:
    port = ScriptedPort()
    port.failures["C0OPS"].append(DeliveryError("slack: not_in_channel", permanent=True))
    with store.unit_of_work() as s:
        olga = ops(s, "olga")
        add_person(s, "omar", identities=["slack:U0OMAR"], roles=["ops"])
        intents.to_ops(s, msg("coverage digest"), T0)
    await deliverer(store, port, FakeClock(T0)).deliver_due()
    dms = [c for c in port.calls if c.op == "dm"]
    assert [c.channel for c in dms] == ["D-U0OMAR"]  # olga has no Slack identity
    assert "not_in_channel" in dms[0].text
    assert olga.id  # (olga's DM waits for a console platform: not this process)


async def test_a_row_behind_a_deferred_row_of_its_lane_waits_for_it(store: Store) -> None:
    port = ScriptedPort()
    clock = FakeClock(T0)
    d = deliverer(store, port, clock)
    with store.unit_of_work() as s:
        alice = slack_person(s, "alice")
        intents.dm(s, alice.id, msg("first"), T0)
    port.failures["D-U0ALICE"].append(DeliveryError("timeout"))
    await d.deliver_due()
    with store.unit_of_work() as s:
        intents.dm(s, alice.id, msg("second"), T0)
    await d.deliver_due()
    assert texts(port, "D-U0ALICE") == []  # "second" must not overtake "first"
    clock.advance(timedelta(seconds=5))
    await d.deliver_due()
    assert texts(port, "D-U0ALICE") == ["first", "second"]


async def test_a_message_no_running_platform_can_route_waits_then_fails_at_the_max_age(
    store: Store,
) -> None:
    port = ScriptedPort()
    clock = FakeClock(T0)
    d = deliverer(store, port, clock, outbox_max_age_hours=2)
    with store.unit_of_work() as s:
        alice = contractor(s, "alice")  # console only; this process serves Slack
        intents.dm(s, alice.id, msg("hello"), T0)
    await d.deliver_due()
    assert rows(store)[0].status == "pending" and rows(store)[0].attempts == 0
    clock.advance(timedelta(hours=2, minutes=1))
    await d.deliver_due()
    await d.deliver_due()
    assert rows(store)[0].status == "failed"
    [note] = texts(port, "C0OPS")
    assert "nobody delivered it (addressed to console)" in note


async def test_a_failure_report_that_fails_is_not_reported_again(store: Store) -> None:
    """The ops channel is archived and the ops person's DM refused too: the first
    failure is reported (to the channel, then to the person), and there it ends."""
    port = ScriptedPort()
    for channel in ("C0X", "C0OPS", "D-U0OMAR"):
        port.failures[channel] += [DeliveryError("slack: is_archived", permanent=True)] * 10
    with store.unit_of_work() as s:
        add_person(s, "omar", identities=["slack:U0OMAR"], roles=["ops"])
        intents.to_channels(s, {"slack": "C0X"}, msg("x"), T0)
    d = deliverer(store, port, FakeClock(T0))
    for _ in range(4):
        await d.deliver_due()
    # the row, its report to the ops channel, that report's copy to omar's DM
    assert [(r.lane, r.status) for r in rows(store)] == [
        ("slack:channels:slack=C0X", "failed"),  # one channel: addressed to its platform
        ("ops", "failed"),
        (f"slack:person:{rows(store)[2].payload['target']['person']}", "failed"),
    ]


async def test_retry_puts_a_failed_row_back_and_it_is_sent(store: Store) -> None:
    from hdops.services import outbox as outbox_service

    port = ScriptedPort()
    port.failures["C0X"].append(DeliveryError("slack: not_in_channel", permanent=True))
    clock = FakeClock(T0)
    d = deliverer(store, port, clock)
    with store.unit_of_work() as s:
        intents.to_channels(s, {"slack": "C0X"}, msg("hello channel"), T0)
    await d.deliver_due()
    with store.unit_of_work() as s:
        assert [r.id for r in outbox_service.waiting(s, failed_only=True)] == [1]
        assert outbox_service.retry_failed(s, [1], clock.now()) == [1]
    await d.deliver_due()
    assert texts(port, "C0X") == ["hello channel"]
    assert rows(store)[0].status == "sent"


async def test_rows_added_while_their_lane_is_sending_follow_without_waiting(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The running loop claims new rows of a lane whose earlier rows are sent but not
    yet recorded; they must queue behind them, not be taken for rows held elsewhere.
    (The clock is frozen: a row deferred for any reason would never be sent.)"""
    port = ScriptedPort(latency=0.03)
    clock = FakeClock(T0)
    d = deliverer(store, port, clock)
    record = d._flush

    async def slow_record() -> None:  # outcomes reach the store 50 ms late
        await asyncio.sleep(0.05)
        await record()

    monkeypatch.setattr(d, "_flush", slow_record)
    with store.unit_of_work() as s:
        alice = slack_person(s, "alice")
        for n in range(3):
            intents.dm(s, alice.id, msg(f"early {n}"), T0)
    loop = asyncio.create_task(d.run_forever(interval=0.01))
    try:
        for n in range(6):
            await asyncio.sleep(0.02)
            with store.unit_of_work() as s:
                intents.dm(s, alice.id, msg(f"late {n}"), T0)
            d.kick()
        for _ in range(300):
            if len(port.calls) == 9:
                break
            await asyncio.sleep(0.01)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert texts(port, "D-U0ALICE") == [f"early {n}" for n in range(3)] + [
        f"late {n}" for n in range(6)
    ]


async def test_rows_handed_back_for_pacing_do_not_push_the_limit_further_out(
    store: Store,
) -> None:
    """Four edits behind a method limit of one a minute are handed back to the store
    for about a minute each — not one, two, three and four minutes, as they would be
    if each hand-back booked a slot it never used."""
    port = ScriptedPort(edit_rate=Rate.per_minute(1, burst=1))
    clock = FakeClock(T0)
    with store.unit_of_work() as s:
        for n in range(5):
            intents.to_channels(s, {"slack": "C0Q"}, msg(f"q{n}"), T0, ref=f"q:{n}")
    d = deliverer(store, port, clock)
    await d.deliver_due()  # the five posts
    with store.unit_of_work() as s:
        for n in range(5):
            intents.edit(s, f"q:{n}", msg(f"q{n} (edited)"), T0)
    await d.deliver_due()
    assert [c.op for c in port.calls].count("edit") == 1
    waiting = [r for r in rows(store) if r.status == "pending"]
    assert len(waiting) == 4
    assert all(r.next_attempt_at - T0 <= timedelta(seconds=61) for r in waiting)


async def test_what_an_interaction_enqueues_is_handed_over_and_sent_without_a_claim(
    store: Store,
) -> None:
    """The core hands its committed rows to the running loop: the next task goes
    out at once although nothing kicks the loop and its periodic pass is an hour
    away (and the rows, born claimed, are not due for the claim path)."""
    from hdops.core import Core

    port = ScriptedPort()
    clock = FakeClock(T0)
    d = deliverer(store, port, clock)
    core = Core(store, d.settings, clock, handoff=d)  # no on_commit kick
    with store.unit_of_work() as s:
        from tests.helpers import add_items, make_project

        add_items(s, make_project(s), 3)
        alice = slack_person(s, "alice")
    loop = asyncio.create_task(d.run_forever(interval=3600))
    try:
        while not d.ready():
            await asyncio.sleep(0.001)
        await asyncio.to_thread(core.command, "slack:U0ALICE", "next", None, "slack")
        for _ in range(300):
            if port.calls:
                break
            await asyncio.sleep(0.01)
        assert [c.op for c in port.calls] == ["dm"] and "Helpfulness" in port.calls[0].text
        assert d.stats["handed"] >= 1
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    with store.read() as s:
        sent = [r for r in s.scalars(select(OutboxMessage)) if r.status == "sent"]
        assert sent and all(r.attempts == 1 for r in sent)
    assert alice.id


async def test_handed_rows_lost_with_their_process_are_sent_when_their_claim_runs_out(
    store: Store,
) -> None:
    from hdops.core import Core

    class DiesAfterCommit:
        def ready(self) -> bool:
            return True

        def takes(self, platform: str | None) -> bool:
            return True

        def accept(self, handed: Sequence[Any]) -> None:
            pass  # the process died before it could send them

    clock = FakeClock(T0)
    core = Core(store, Settings(), clock, handoff=DiesAfterCommit())
    with store.unit_of_work() as s:
        from tests.helpers import add_items, make_project

        add_items(s, make_project(s), 3)
        slack_person(s, "alice")
    core.command("slack:U0ALICE", "next", None, "slack")
    port = ScriptedPort()
    d = deliverer(store, port, clock)
    assert await d.deliver_due() == 0  # born claimed: not due yet
    clock.advance(timedelta(seconds=61))
    assert await d.deliver_due() == 1
    assert [c.op for c in port.calls] == ["dm"]


async def test_a_call_refused_with_429_is_retried_under_the_slot_it_booked(
    store: Store,
) -> None:
    """An edit paced at one a minute meets the channel's own limit (five posts just
    used its burst): the platform answers 429 with a short Retry-After, and the edit
    goes once that has passed — not a minute later behind the slot it booked itself."""
    port = ScriptedPort(per_second=20.0, burst=5, edit_rate=Rate.per_minute(1, burst=1))
    clock = FakeClock(T0)
    with store.unit_of_work() as s:
        for n in range(5):
            intents.to_channels(s, {"slack": "C0Q"}, msg(f"q{n}"), T0, ref=f"q:{n}")
    d = deliverer(store, port, clock)
    await d.deliver_due()  # the five posts use the channel's burst
    port._buckets["C0Q"] = (0.0, time.monotonic())  # and nothing has refilled it yet
    with store.unit_of_work() as s:
        intents.edit(s, "q:0", msg("q0 (edited)"), T0)
    await d.deliver_due()
    assert port.refused >= 1
    assert [c.text for c in port.calls if c.op == "edit"] == ["q0 (edited)"]
    assert all(r.status == "sent" for r in rows(store))
