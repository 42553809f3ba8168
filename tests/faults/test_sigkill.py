"""`hdops run --slack` SIGKILLed at 22 random moments of a working day, and restarted
each time (issue 15, point 3).

While the process is killed and restarted, three contractors ask for tasks, click
answers and ask questions, the researcher answers those in the channel's threads, and
ops book adjustments and approve last week's pay; a shift reminder falls due in the
middle. What Slack acknowledged must survive: every acknowledged click is one answer,
every acknowledged question one clarification, every acknowledged adjustment one
adjustment, every researcher reply one relayed message. What was not acknowledged
Slack sends again (the fake redelivers it, as Slack retries) and must not be stored
twice. Every outbox row ends sent, each exactly once in the fake workspace (its posts
carry the row's key as message metadata); the reminder is sent, once.

The kill moments come from a seeded random generator; the seed is printed and
`HDOPS_FAULT_SEED` replays a run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hdops.config import Settings
from hdops.services.people import add_person
from hdops.services.shifts import add_shifts
from hdops.store.db import Store
from hdops.store.orm import (
    Adjustment,
    Answer,
    Assignment,
    Clarification,
    ClarificationMessage,
    OutboxMessage,
    PayoutWeek,
    Person,
)
from tests.fakes.slack.server import Delivery, FakeSlack
from tests.fakes.slack.workspace import FakeMessage, FakeUser
from tests.helpers import add_items, make_project
from tests.processes import HdopsProcess, run_env

pytest_plugins = ["tests.fakes.slack.fixtures"]

KILLS = 22
# The storm goes on past KILLS (up to twice as many kills) until at least this many
# answers were acknowledged: on a loaded machine 22 kills can leave too few answers
# between restarts for the books to say much.
MIN_ANSWERS = 10
SEED = int(os.environ.get("HDOPS_FAULT_SEED", random.SystemRandom().randrange(1 << 30)))
POSTS = {"send"}  # outbox kinds that create a message ("edit" changes one)


@dataclass
class Ledger:
    """What the fake saw acknowledged, and what it must send again."""

    answers: set[int] = field(default_factory=set)  # assignment ids
    questions: set[str] = field(default_factory=set)
    replies: set[str] = field(default_factory=set)
    adjustments: set[str] = field(default_factory=set)  # reasons
    unacked: list[Delivery] = field(default_factory=list)
    kills: int = 0


class Day:
    """The people of the day, acting on the fake while the process comes and goes."""

    def __init__(self, fake: FakeSlack, store: Store, rng: random.Random) -> None:
        self.fake, self.store, self.rng = fake, store, rng
        self.ledger = Ledger()
        self.chaos_over = asyncio.Event()
        self.approved = asyncio.Event()
        self._on_ack: dict[int, Callable[[], None]] = {}

    async def send(
        self, act: Callable[[], Awaitable[Delivery]], on_ack: Callable[[], None]
    ) -> bool:
        """One thing a person does. Not acknowledged (the process died or was starting):
        kept for redelivery. Not even sent (no connection): nothing happened."""
        try:
            delivery = await act()
        except (RuntimeError, ConnectionError):
            await asyncio.sleep(0.2)
            return False
        if delivery.acked:
            on_ack()
            return True
        self.ledger.unacked.append(delivery)
        self._on_ack[id(delivery)] = on_ack
        return False

    async def redeliver(self) -> None:
        """What Slack does with what the app never acknowledged: send it again."""
        pending, self.ledger.unacked = self.ledger.unacked, []
        for old in pending:
            on_ack = self._on_ack.pop(id(old))
            if old.delivered:
                again = lambda old=old: self.fake.redeliver(old)  # noqa: E731
            else:  # no connection at the time: Slack holds events and retries
                again = lambda old=old: self.fake.deliver("events_api", old.payload)  # noqa: E731
            await self.send(again, on_ack)

    def open_task(self, user: FakeUser) -> tuple[FakeMessage, int] | None:
        dm = self.fake.dm_with(user)
        for message in reversed(self.fake.messages(dm)):
            for button in message.buttons():
                action = str(button.get("action_id", ""))
                if action.startswith("hd:ans:"):
                    return message, int(action.split(":")[2])
        return None

    def adjusted(self, reason: str) -> bool:
        with self.store.read() as s:
            return bool(s.scalar(select(func.count()).where(Adjustment.reason == reason)))

    def still_open(self, assignment: int) -> bool:
        with self.store.read() as s:
            row = s.get(Assignment, assignment)
            return row is not None and row.status == "offered"

    async def contractor(self, user: FakeUser) -> None:
        asked: set[int] = set()
        n = 0
        while not self.chaos_over.is_set():
            n += 1
            found = self.open_task(user)
            if found is None:
                await self.send(lambda: self.fake.slash_command(user, "/hdops", "next"), _nothing)
            elif found[1] not in asked and self.rng.random() < 0.3 and self.still_open(found[1]):
                asked.add(found[1])
                text = f"chaos question {user.name} {n}"

                def asked_it(text: str = text) -> None:
                    self.ledger.questions.add(text)

                await self.send(
                    lambda text=text: self.fake.slash_command(user, "/hdops", f"ask {text}"),
                    asked_it,
                )
            else:
                message, assignment = found

                def answered(assignment: int = assignment) -> None:
                    self.ledger.answers.add(assignment)

                await self.send(
                    lambda m=message: self.fake.click_button(user, m, "A is better"), answered
                )
            await asyncio.sleep(self.rng.uniform(0.1, 0.4))

    async def researcher(self, rita: FakeUser, clar: str) -> None:
        replied: set[str] = set()
        while not self.chaos_over.is_set():
            for message in self.fake.messages(clar):
                if message.thread_ts not in (None, message.ts) or message.ts in replied:
                    continue
                if "chaos question" not in str(message.blocks):
                    continue
                replied.add(message.ts)
                text = f"chaos reply {len(replied)}"

                def said(text: str = text) -> None:
                    self.ledger.replies.add(text)

                await self.send(
                    lambda ts=message.ts, text=text: self.fake.post_user_message(
                        rita, clar, text, thread_ts=ts
                    ),
                    said,
                )
            await asyncio.sleep(self.rng.uniform(0.2, 0.6))

    async def ops(self, otto: FakeUser) -> None:
        for n in range(1, 7):
            reason = f"chaos-bonus-{n}"

            def booked(reason: str = reason) -> None:
                self.ledger.adjustments.add(reason)

            command = f"payouts adjust alice 1.50 --reason {reason} --week last"
            while not await self.send(
                lambda c=command: self.fake.slash_command(otto, "/hdops", c), booked
            ):
                await asyncio.sleep(0.3)
                # Slack never retries a slash command; a person whose command timed out
                # looks at the statement before typing it again, as ops would (a retyped
                # command is a new request, and would book the money twice).
                if self.adjusted(reason):
                    break
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))
        await self.send(lambda: self.fake.slash_command(otto, "/hdops", "payouts"), _nothing)
        while not self.approved.is_set():  # "changed" first, then approved
            await self.send(
                lambda: self.fake.slash_command(otto, "/hdops", "payouts approve last --force"),
                _nothing,
            )
            with self.store.read() as s:
                week = s.scalars(select(PayoutWeek)).first()
            if week is not None and week.status == "approved":
                self.approved.set()
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))


def _nothing() -> None:
    pass


def _reminder_shift(store: Store, alice_name: str) -> datetime:
    """A shift whose 15-minute reminder falls due ~25-85 s from now: in the chaos."""
    now = datetime.now(UTC)
    start = (now + timedelta(minutes=16, seconds=25)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=30)
    with store.unit_of_work() as s:
        alice = s.scalars(select(Person).where(Person.name == alice_name)).one()
        add_shifts(
            s,
            alice,
            f"{start:%Y-%m-%d}",
            f"{start:%H:%M}-{end:%H:%M}",
            settings=Settings(),
            now=now,
            tz="UTC",
        )
    return start - timedelta(minutes=15)


@pytest.mark.slack_lenient(
    rate_limits="22 restarts in about a minute reconnect Socket Mode on purpose"
    " (apps.connections.open is tier 1)"
)
@pytest.mark.timeout(240)
async def test_sigkill_at_random_points_loses_and_doubles_nothing(
    store: Store, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    print(f"test_sigkill seed: {SEED} (HDOPS_FAULT_SEED={SEED} replays it)")
    rng = random.Random(SEED)
    fake = fake_slack
    people = [fake.add_user(n) for n in ("alice", "bob", "carol")]
    rita, otto = fake.add_user("rita"), fake.add_user("otto")
    clar, ops_channel = fake.add_channel("clarifications"), fake.add_channel("ops")
    with store.unit_of_work() as s:
        project = make_project(
            s,
            overlap=1,
            researchers=[f"slack:{rita.id}"],
            clarifications={"slack_channel": clar.id},
        )
        add_items(s, project, 200)
        for user in people:
            add_person(s, user.name, identities=[f"slack:{user.id}"], roles=["contractor"])
        add_person(s, "rita", identities=[f"slack:{rita.id}"], roles=["researcher"])
        add_person(s, "otto", identities=[f"slack:{otto.id}"], roles=["ops"])
    remind_at = _reminder_shift(store, "alice")

    env = run_env(db_url, fake, HDOPS_SLACK_OPS_CHANNEL=ops_channel.id)
    process = HdopsProcess(["run", "--slack"], env, tmp_path / "run.log")
    day = Day(fake, store, rng)
    process.start()
    await fake.wait_for_socket(1, timeout=30)
    workers = [
        *(asyncio.create_task(day.contractor(u)) for u in people),
        asyncio.create_task(day.researcher(rita, clar.id)),
        asyncio.create_task(day.ops(otto)),
    ]
    try:
        while day.ledger.kills < KILLS or (
            len(day.ledger.answers) < MIN_ANSWERS and day.ledger.kills < 2 * KILLS
        ):
            await asyncio.sleep(rng.uniform(0.2, 1.4))
            await process.kill()
            day.ledger.kills += 1
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            process.start()
            await fake.wait_for_socket(1, timeout=30)
            await day.redeliver()
        # Calm after the storm: the last redeliveries, the approval, the reminder.
        await asyncio.wait_for(day.approved.wait(), timeout=30)
        wait = (remind_at - datetime.now(UTC)).total_seconds()
        assert wait < 30, f"the reminder is due {wait:.0f} s after the chaos: not during it"
        day.chaos_over.set()
        await asyncio.gather(*workers)
        for _ in range(5):
            await day.redeliver()
        assert not day.ledger.unacked, "a redelivery was never acknowledged"
        # The reminder may fall due a little after the chaos: give it until then.
        await _reminded(store, remind_at + timedelta(seconds=40))
        await _drained(store, datetime.now(UTC) + timedelta(seconds=45))
        await fake.settle(quiet=0.5, timeout=10)
    finally:
        day.chaos_over.set()
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        code = await process.stop()
    assert code == 0, process.output()[-3000:]
    ledger = day.ledger
    print(
        f"kills {ledger.kills}, acknowledged: {len(ledger.answers)} answers,"
        f" {len(ledger.questions)} questions, {len(ledger.replies)} replies,"
        f" {len(ledger.adjustments)} adjustments"
    )
    assert ledger.kills >= 20 and len(ledger.answers) >= MIN_ANSWERS
    # What Slack never got an ack for is only the process dying under it.
    unexpected = [v for v in fake.pop_violations() if "never acked" not in v.problem]
    assert not unexpected, unexpected

    with store.read() as s:
        answered = Counter(s.scalars(select(Answer.assignment_id)))
        questions = Counter(s.scalars(select(Clarification.question)))
        replies = Counter(
            s.scalars(
                select(ClarificationMessage.text).where(ClarificationMessage.direction != "in")
            )
        )
        reasons = Counter(s.scalars(select(Adjustment.reason)))
        rows = list(s.scalars(select(OutboxMessage)))
        approved = s.scalar(select(func.count()).where(PayoutWeek.status == "approved"))
    assert ledger.answers <= set(answered), sorted(ledger.answers - set(answered))
    assert set(answered.values()) == {1}
    for asked in ledger.questions:
        assert questions[asked] == 1, (asked, questions)
    assert all(n == 1 for n in questions.values()), questions
    for reply in ledger.replies:
        assert sum(n for text, n in replies.items() if reply in text) == 1, (reply, replies)
    assert {r: n for r, n in reasons.items() if r in ledger.adjustments} == dict.fromkeys(
        ledger.adjustments, 1
    )
    assert sum(reasons.values()) == len(ledger.adjustments) or set(reasons) >= ledger.adjustments
    assert approved == 1
    _sent_once(fake, rows)
    reminder = [r for r in rows if (r.dedupe_key or "").endswith("remind15")]
    assert [r.status for r in reminder] == ["sent"], "the reminder due in the chaos was lost"
    assert Decimal("1.50") * len(ledger.adjustments) > 0


async def _reminded(store: Store, deadline: datetime) -> None:
    """Until the shift reminder has been queued and sent, or `deadline` (then the
    test's own check says it was lost)."""
    while datetime.now(UTC) < deadline:
        with store.read() as s:
            sent = s.scalar(
                select(func.count()).where(
                    OutboxMessage.dedupe_key.like("%remind15"), OutboxMessage.status == "sent"
                )
            )
        if sent:
            return
        await asyncio.sleep(0.5)


async def _drained(store: Store, deadline: datetime) -> None:
    while True:
        with store.read() as s:
            left = s.scalar(select(func.count()).where(OutboxMessage.status == "pending"))
        if not left:
            return
        assert datetime.now(UTC) < deadline, f"{left} outbox messages still pending"
        await asyncio.sleep(0.3)


def _sent_once(fake: FakeSlack, rows: list[OutboxMessage]) -> None:
    """Every outbox row sent; every row that posts is in the workspace exactly once,
    found by the key its post carries; no post without a row."""
    assert {r.status for r in rows} == {"sent"}, Counter(r.status for r in rows)
    posted: Counter[str] = Counter()
    for channel in list(fake.ws.channels.values()):
        for message in fake.messages(channel):
            with contextlib.suppress(AttributeError, TypeError):
                key = (message.metadata or {}).get("event_payload", {}).get("outbox_message")
                if key is not None:
                    posted[str(key)] += 1
    doubled = {k: n for k, n in posted.items() if n > 1}
    assert not doubled, f"posted more than once: {doubled}"
    creating = [r for r in rows if r.kind in POSTS]
    assert creating, "no outbox row posted anything"
    missing = [r.id for r in creating if str(r.id) not in posted]
    assert not missing, f"outbox rows sent but not in the workspace: {missing}"
