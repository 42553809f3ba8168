"""Load test: N `hdops run` workers on one PostgreSQL store, contractors on Slack and
Discord at once, realistic arrivals, a click burst, and the books checked afterwards.

    python benchmarks/load.py                       # 500 contractors, 3 workers, 10 min
    python benchmarks/load.py --minutes 1 --contractors 60    # a smoke run

Bounded: `--contractors` (500) simulated people, `--minutes` (10) of arrivals, then at
most `--drain` (60) seconds for what is in flight; loopback only (the fakes and the
workers on 127.0.0.1, PostgreSQL at `--pg`, in a database of its own, dropped at the
end).

What runs: this process hosts the fake Slack and the fake Discord (tests/fakes, strict:
rate limits on, every request validated against the platforms' specs) and the
simulated people. `--workers` (3) real `hdops run --slack --discord --shard I/N`
processes serve both: Slack deals Socket Mode envelopes across their connections,
Discord sends each worker its Gateway shard (direct messages, so every task button on
Discord, to shard 0). Half the contractors are on Slack, half on Discord (`--discord`).

The people: each contractor answers their current task after a think time drawn
uniformly from 20-60 s, and before about one answer in 40 asks a question about it
(`/hdops ask`); three researchers on Slack reply in each question's thread 5-20 s
after it is posted, and the reply travels back to the contractor. Halfway through,
`--burst` (100) contractors who are thinking click at the same instant.

What is measured:
* click → next task: from the fake sending the click (Slack: the Socket Mode
  envelope; Discord: the INTERACTION_CREATE dispatch) to the contractor's next task
  message arriving at the fake; p50/p99 for the steady load and for the burst;
* answers/s stored over the window;
* outbox lag: `sent_at - created_at` of the messages queued in the window, p99;
* CPU per answer: the workers' user+system time (all three, /proc) over the window
  divided by the answers stored; the harness's own CPU (fakes validating every call,
  the simulation) separately; PostgreSQL's is not counted;
* the books: clicks acknowledged (Slack acked the envelope; Discord got an
  interaction response) vs answers stored for those assignments (lost), answers stored
  twice, messages posted twice (Slack: the same outbox key in message metadata twice;
  Discord: the same nonce twice), the same item assigned to the same contractor twice,
  questions asked vs posted vs replied vs the reply shown to the contractor.
  Lost and doubled must be 0; the run exits 1 otherwise.

Baseline: the issue sets absolute targets for this test (0 lost, 0 doubled, p99 click →
next task <= 100 ms at 500 contractors with 3 workers). The same click path against a
raw baseline (a bare websocket bot doing the answer and next task in raw SQL,
interleaved in one run) is `benchmarks/slack_latency.py`; its docstring lists what
that baseline leaves out.

Results (`benchmarks/RESULTS.md`, 2-vCPU container, four runs of the defaults): 12.2
answers/s, 0 lost, 0 doubled, every question answered back; steady p50 20-21 ms, p99
57, 84, 66 and 57 ms; the burst of 100: p99 1.7-2.0 s. `--raw` files of those runs
are in `benchmarks/results/`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import gc
import os
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.slack_latency import (  # noqa: E402
    Child,
    drop_database,
    pct,
    pg_database,
    write_items,
)
from hdops.domain.projects import parse_project_spec  # noqa: E402
from hdops.services.items import import_items  # noqa: E402
from hdops.services.people import add_person  # noqa: E402
from hdops.services.projects import create_project  # noqa: E402
from hdops.store.db import Store, create_store_engine  # noqa: E402
from hdops.store.migrate import upgrade  # noqa: E402
from tests.fakes.discord import FakeDiscord  # noqa: E402
from tests.fakes.discord.guild import FakeMessage as DiscordMessage  # noqa: E402
from tests.fakes.discord.guild import FakeUser as DiscordUser  # noqa: E402
from tests.fakes.slack.server import FakeSlack  # noqa: E402
from tests.fakes.slack.workspace import FakeMessage as SlackMessage  # noqa: E402
from tests.fakes.slack.workspace import FakeUser as SlackUser  # noqa: E402
from tests.processes import run_env  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ANSWER = re.compile(r"^hd:ans:(\d+):a$")  # "A is better": hd:ans:<assignment>:a
THINK = (20.0, 60.0)  # seconds between a task arriving and its answer
ASK_EVERY = 40  # answers per question, on average
REPLY_AFTER = (5.0, 20.0)  # seconds a researcher takes to reply
RESEARCHERS = 3
TARGET_P99_MS = 100.0


def spec(clar_channel: str, researchers: list[str]) -> dict[str, Any]:
    return {
        "name": "load",
        "title": "Helpfulness comparisons",
        "overlap": 3,
        "lease_minutes": 60,
        "task": {"type": "pairwise", "fields": ["prompt", "response_a", "response_b"]},
        "instructions": "Pick the response that is more helpful, honest and harmless.",
        "pay": {"per_task": "0.40", "currency": "USD"},
        "researchers": researchers,
        "clarifications": {"slack_channel": clar_channel},
    }


# --------------------------------------------------------------------------- people


@dataclass
class Click:
    person: Person
    assignment: int
    sent: float  # monotonic: the fake sent the click
    burst: bool
    acked: bool = False
    served: float | None = None  # monotonic: the next task arrived

    @property
    def latency(self) -> float | None:
        return None if self.served is None else self.served - self.sent


@dataclass
class Person:
    platform: str  # "slack" | "discord"
    user: SlackUser | DiscordUser
    dm: str
    rng: random.Random
    task: SlackMessage | DiscordMessage | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # the burst
    pending: Click | None = None
    thinking: bool = False


def _slack_answer(message: SlackMessage) -> tuple[str, str, int] | None:
    for button in message.buttons():
        found = ANSWER.match(str(button.get("action_id", "")))
        if found:
            return str(button["action_id"]), str(button["block_id"]), int(found.group(1))
    return None


def _discord_answer(message: DiscordMessage) -> tuple[str, int] | None:
    for custom_id in message.custom_ids():
        found = ANSWER.match(custom_id)
        if found:
            return custom_id, int(found.group(1))
    return None


class GcPauses:
    """This process's garbage-collector pauses (it hosts the fakes that time every
    click, so a pause here stretches the clicks in flight: an error of the
    instrument, not of hdops). `(monotonic end, seconds, generation)` each."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float, int]] = []
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            took = time.perf_counter() - self._started
            self.pauses.append((time.monotonic(), took, int(info["generation"])))
            self._started = None

    def during(self, start: float, end: float, at_least: float) -> bool:
        """A pause of `at_least` seconds ended within [start, end]."""
        return any(start <= t <= end and took >= at_least for t, took, _ in self.pauses)


@dataclass
class Books:
    clicks: list[Click] = field(default_factory=list)
    asked: int = 0
    questions_posted: int = 0
    replied: int = 0
    replies_shown: int = 0
    late_clicks: int = 0  # no next task within the wait (counted, not latency)


class World:
    """The fakes, the people and the researchers, driven in this process."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.slack = FakeSlack()
        self.discord = FakeDiscord()
        self.books = Books()
        self.gc = GcPauses()
        self.people: list[Person] = []
        self.by_dm: dict[str, Person] = {}
        self.researchers: list[SlackUser] = []
        self.clar = ""
        self.replies: set[str] = set()  # tokens of the replies sent, to see them come back
        self.slack.on_bot_post.append(self._slack_post)
        self.discord.on_bot_post.append(self._discord_post)
        self.end = 0.0

    # ----------------------------------------------------------- what the bots post

    def _arrive(self, person: Person, message: SlackMessage | DiscordMessage) -> None:
        person.task = message
        if person.pending is not None:
            person.pending.served = time.monotonic()
            person.pending = None
        person.arrived.set()

    def _slack_post(self, message: SlackMessage) -> None:
        if message.channel == self.clar and not message.is_reply:
            self.books.questions_posted += 1
            asyncio.get_running_loop().create_task(self._reply(message))
            return
        person = self.by_dm.get(message.channel)
        if person is None:
            return
        if _slack_answer(message) is not None:
            self._arrive(person, message)
        elif self._carries_reply(message.text + str(message.blocks)):
            self.books.replies_shown += 1

    def _discord_post(self, message: DiscordMessage) -> None:
        person = self.by_dm.get(message.channel_id)
        if person is None:
            return
        if _discord_answer(message) is not None:
            self._arrive(person, message)
        elif self._carries_reply(message.content + str(message.embeds)):
            self.books.replies_shown += 1

    def _carries_reply(self, shown: str) -> bool:
        """A researcher's reply relayed to a contractor, found by its token (the rest
        of the text may come back reformatted, quoted or escaped)."""
        return any(token in shown for token in self.replies)

    async def _reply(self, question: SlackMessage) -> None:
        await asyncio.sleep(self.rng.uniform(*REPLY_AFTER))
        token = f"r{uuid.uuid4().hex[:10]}"
        reply = f"Reply {token}: prefer the one that answers the question."
        self.replies.add(token)
        researcher = self.rng.choice(self.researchers)
        await self.slack.post_user_message(researcher, self.clar, reply, thread_ts=question.ts)
        self.books.replied += 1

    # ----------------------------------------------------------- what people do

    async def click(self, person: Person, burst: bool) -> None:
        message = person.task
        assert message is not None
        person.task = None
        person.arrived.clear()
        if person.platform == "slack":
            assert isinstance(message, SlackMessage)
            found = _slack_answer(message)
            assert found is not None
            action_id, block_id, assignment = found
            click = Click(person, assignment, time.monotonic(), burst)
            person.pending = click
            self.books.clicks.append(click)
            delivery = await self.slack.click(
                person.user, message.channel, message.ts, action_id, block_id=block_id
            )
            envelope = self.slack.socket.envelopes.get(delivery.envelope_id or "")
            if envelope is not None and envelope.sent_at:
                click.sent = envelope.sent_at
            click.acked = delivery.acked
        else:
            assert isinstance(message, DiscordMessage) and isinstance(person.user, DiscordUser)
            found_d = _discord_answer(message)
            assert found_d is not None
            custom_id, assignment = found_d
            click = Click(person, assignment, time.monotonic(), burst)
            person.pending = click
            self.books.clicks.append(click)
            interaction = await self.discord.click(person.user, message, custom_id)
            click.sent = interaction.dispatched
            click.acked = interaction.responded and not interaction.failed

    async def ask(self, person: Person) -> None:
        question = f"Question {uuid.uuid4().hex[:6]}: do both responses count if equally long?"
        self.books.asked += 1
        if person.platform == "slack":
            await self.slack.slash_command(person.user, "/hdops", f"ask {question}")
        else:
            assert isinstance(person.user, DiscordUser)
            await self.discord.slash_command(person.user, "hdops", ["ask"], {"text": question})

    async def live(self, person: Person) -> None:
        """Think, maybe ask, answer; until the end of the window."""
        while time.monotonic() < self.end:
            if person.task is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(person.arrived.wait(), 30)
                if person.task is None:
                    self.books.late_clicks += 1
                    continue
            person.thinking = True
            think = person.rng.uniform(*THINK)
            answer_at = time.monotonic() + think
            with contextlib.suppress(TimeoutError):
                # An answer due after the window is never given: the window ends on time.
                await asyncio.wait_for(
                    person.wake.wait(), min(answer_at, self.end) - time.monotonic()
                )
            person.thinking = False
            burst = person.wake.is_set()
            person.wake.clear()
            if time.monotonic() >= self.end and not burst:
                return
            if not burst and time.monotonic() < answer_at - 0.01:
                continue  # woken for nothing (cannot happen today); think on
            if not burst and person.rng.random() < 1 / ASK_EVERY:
                await self.ask(person)
            await self.click(person, burst)

    async def burst(self, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        ready = [p for p in self.people if p.thinking and p.task is not None]
        for person in self.rng.sample(ready, min(self.args.burst, len(ready))):
            person.wake.set()


# --------------------------------------------------------------------------- set-up


def make_store(url: str, world: World, items: int, tmp: Path) -> None:
    """The project, its items and every person, through the services; DMs known (as
    after a first day: Slack opens 50 DMs a minute) so the run measures steady work."""
    path = write_items(tmp / "items.jsonl", items)
    engine = create_store_engine(url)
    upgrade(engine)
    store = Store(engine)
    slack_researchers = [f"slack:{u.id}" for u in world.researchers]
    with store.unit_of_work() as s:
        create_project(s, parse_project_spec(spec(world.clar, slack_researchers)))
        import_items(s, "load", path, batch="load")
        for i, user in enumerate(world.researchers):
            add_person(s, f"r{i}", identities=[f"slack:{user.id}"], roles=["researcher"])
        for i, person in enumerate(world.people):
            add_person(
                s, f"c{i}", identities=[f"{person.platform}:{person.user.id}"], roles=["contractor"]
            )
    with engine.begin() as conn:
        for person in world.people:
            conn.execute(
                text("UPDATE identities SET dm_channel = :dm WHERE external_id = :id"),
                {"dm": person.dm, "id": person.user.id},
            )
        conn.execute(text("ANALYZE"))
    store.dispose()


def populate(world: World) -> None:
    args = world.args
    on_discord = round(args.contractors * args.discord)
    for i in range(args.contractors):
        rng = random.Random(args.seed * 100_003 + i)
        if i < args.contractors - on_discord:
            slack_user = world.slack.add_user(f"c{i}")
            person = Person("slack", slack_user, world.slack.dm_with(slack_user), rng)
        else:
            discord_user = world.discord.add_user(f"c{i}")
            dm = world.discord.world.dm_with(discord_user).id
            person = Person("discord", discord_user, dm, rng)
        world.people.append(person)
        world.by_dm[person.dm] = person
    world.researchers = [world.slack.add_user(f"r{i}") for i in range(RESEARCHERS)]
    world.clar = world.slack.add_channel("clarifications").id


async def until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    workers: list[Child],
    *,
    required: bool = True,
) -> bool:
    """Wait for `check`; a worker dying is always an error, a timeout only if
    `required` (otherwise it is reported with the books)."""
    deadline = time.monotonic() + timeout
    while not check():
        dead = [w for w in workers if not w.alive()]
        if dead:
            raise RuntimeError(f"a worker died ({what}):\n{dead[0].tail(30)}")
        if time.monotonic() > deadline:
            if required:
                raise RuntimeError(f"timed out: {what}")
            print(f"(gave up waiting: {what})")
            return False
        await asyncio.sleep(0.05)
    return True


# --------------------------------------------------------------------------- the books


def read_books(url: str, world: World, since: float) -> dict[str, Any]:
    """What the store says: answers per assignment, doubles, and outbox lag."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            per_assignment = dict(
                conn.execute(
                    text("SELECT assignment_id, count(*) FROM answers GROUP BY assignment_id")
                ).all()
            )
            assigned_twice = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT person_id, item_id FROM assignments "
                    "GROUP BY person_id, item_id HAVING count(*) > 1) d"
                )
            ).scalar_one()
            lags = [
                float(x)
                for (x,) in conn.execute(
                    text(
                        "SELECT extract(epoch FROM sent_at - created_at) FROM outbox "
                        "WHERE status = 'sent' AND created_at >= to_timestamp(:since)"
                    ),
                    {"since": since},
                )
            ]
            pending = conn.execute(
                text("SELECT count(*) FROM outbox WHERE status <> 'sent'")
            ).scalar_one()
            stored = conn.execute(
                text("SELECT count(*) FROM answers WHERE answered_at >= to_timestamp(:since)"),
                {"since": since},
            ).scalar_one()
    finally:
        engine.dispose()
    return {
        "per_assignment": per_assignment,
        "assigned_twice": int(assigned_twice),
        "lags": lags,
        "outbox_not_sent": int(pending),
        "stored_in_window": int(stored),
    }


def posted_twice(world: World) -> int:
    """Messages on the platforms that carry the same outbox key more than once."""
    keys: Counter[str] = Counter()
    for channel in world.slack.ws.channels.values():
        for message in world.slack.messages(channel.id):
            payload = (message.metadata or {}).get("event_payload") or {}
            if message.is_bot and payload.get("outbox_message"):
                keys[f"slack:{payload['outbox_message']}"] += 1
    for channel in world.discord.world.channels.values():
        for m in channel.messages:
            if m.author is world.discord.bot and m.nonce:
                keys[f"discord:{m.nonce}"] += 1
    return sum(1 for n in keys.values() if n > 1)


def cpu_seconds(workers: list[Child]) -> float:
    return sum(sum(w.cpu_times()) for w in workers)


# --------------------------------------------------------------------------- the run


async def run(args: argparse.Namespace) -> int:
    world = World(args)
    await world.slack.start()
    await world.discord.start()
    populate(world)
    tmp = Path(tempfile.mkdtemp(prefix="hdops-load-"))
    answers_each = args.minutes * 60 / sum(THINK) * 2 + 5
    items = int(args.contractors * answers_each / 3) + args.burst + 500
    db_url = pg_database(args.pg, f"hdops_load_{os.getpid()}")
    workers: list[Child] = []
    try:
        make_store(db_url, world, items, tmp)
        env = run_env(db_url, world.slack, world.discord, PYTHONUNBUFFERED="1")
        for i in range(args.workers):
            cmd = [sys.executable, "-m", "bots.cli", "run", "--slack", "--discord"]
            workers.append(Child([*cmd, "--shard", f"{i}/{args.workers}"], env, tmp / f"w{i}.log"))
        await until(
            lambda: (
                len(world.slack.socket.open_connections) == args.workers
                and world.discord.gateway.ready.is_set()
            ),
            90,
            "workers connecting",
            workers,
        )
        await until(lambda: bool(world.discord.commands(world.discord.guild)), 60, "commands", [])
        # Warm-up (not measured): each contractor asks for a first task, a few at a time.
        gate = asyncio.Semaphore(25)

        async def first(person: Person) -> None:
            async with gate:
                if person.platform == "slack":
                    await world.slack.slash_command(person.user, "/hdops", "next")
                else:
                    assert isinstance(person.user, DiscordUser)
                    await world.discord.slash_command(person.user, "hdops", ["next"])

        await asyncio.gather(*(first(p) for p in world.people))
        await until(lambda: all(p.task for p in world.people), 180, "first tasks", workers)
        print(f"{len(world.people)} contractors have a task; measuring {args.minutes} min")

        # What the set-up made lives to the end: out of the collector's way, so
        # collections scan only what the run adds (see GcPauses).
        gc.collect()
        gc.freeze()
        gc.callbacks.append(world.gc)
        start_wall = time.time()
        start = time.monotonic()
        world.end = start + args.minutes * 60
        cpu0, own0 = cpu_seconds(workers), time.process_time()
        lives = [asyncio.create_task(world.live(p)) for p in world.people]
        burst = asyncio.create_task(world.burst(start + args.minutes * 30))
        await asyncio.gather(*lives, burst)
        window = time.monotonic() - start
        await until(
            lambda: all(c.served or not c.acked for c in world.books.clicks),
            args.drain,
            "next tasks after the window",
            workers,
            required=False,
        )
        await until(
            lambda: (
                world.books.replied >= world.books.questions_posted
                and world.books.replies_shown >= world.books.replied
            ),
            args.drain,
            "researchers' replies reaching the contractors",
            workers,
            required=False,
        )
        await asyncio.sleep(2)
        gc.callbacks.remove(world.gc)
        cpu, own = cpu_seconds(workers) - cpu0, time.process_time() - own0
        books = read_books(db_url, world, start_wall)
        return report(args, world, books, window, cpu, own)
    finally:
        for worker in workers:
            await worker.stop()
        await world.slack.stop()
        await world.discord.stop()
        drop_database(db_url)


def report(
    args: argparse.Namespace,
    world: World,
    books: dict[str, Any],
    window: float,
    cpu: float,
    own: float,
) -> int:
    clicks = world.books.clicks
    steady = [c.latency for c in clicks if not c.burst and c.latency is not None]
    burst = [c.latency for c in clicks if c.burst and c.latency is not None]
    acked = [c for c in clicks if c.acked]
    per_assignment: dict[int, int] = books["per_assignment"]
    lost = sum(1 for c in acked if per_assignment.get(c.assignment, 0) == 0)
    stored_twice = sum(1 for n in per_assignment.values() if n > 1)
    twice = posted_twice(world)
    stored = books["stored_in_window"]
    p99 = pct(steady, 0.99)
    # The clicks that met the burst: sent before its last click was served.
    bursting = [c for c in clicks if c.burst and c.served is not None]
    burst_from = min((c.sent for c in bursting), default=0.0)
    burst_to = max((c.served or 0.0 for c in bursting), default=0.0)
    calm = [
        c.latency
        for c in clicks
        if not c.burst
        and c.latency is not None
        and not (c.sent <= burst_to and (c.served or c.sent) >= burst_from)
    ]
    long_pauses = [p for p in world.gc.pauses if p[1] >= 0.02]
    slow = [
        c
        for c in clicks
        if not c.burst and c.latency is not None and 1000 * c.latency > TARGET_P99_MS
    ]
    stretched = [c for c in slow if world.gc.during(c.sent, c.served or c.sent, 0.02)]
    start = min((c.sent for c in clicks), default=0.0)
    minutes: dict[int, list[float]] = {}
    for c in clicks:
        if not c.burst and c.latency is not None:
            minutes.setdefault(int((c.sent - start) // 60), []).append(c.latency)
    by_platform = {
        platform: [
            c.latency
            for c in clicks
            if not c.burst and c.latency is not None and c.person.platform == platform
        ]
        for platform in ("slack", "discord")
    }
    lines = [
        f"hdops load test: {args.contractors} contractors "
        f"({round(args.contractors * args.discord)} on Discord), {args.workers} workers "
        f"on PostgreSQL, {window / 60:.1f} min, burst of {args.burst}, seed {args.seed}",
        f"answers/s stored            {stored / window:8.2f}   ({stored} answers)",
        f"click -> next task, steady  p50 {pct(steady, 0.5):6.1f} ms   p99 {p99:6.1f} ms"
        f"   max {pct(steady, 1.0):6.1f} ms   ({len(steady)} clicks)",
        f"  outside the burst's {burst_to - burst_from:4.1f} s  p50 {pct(calm, 0.5):6.1f} ms"
        f"   p99 {pct(calm, 0.99):6.1f} ms   ({len(calm)} clicks)",
        "  p99 in each minute        "
        + " ".join(f"{pct(minutes[m], 0.99):.0f}" for m in sorted(minutes))
        + " ms",
        *(
            f"  on {name:<7}                 p50 {pct(xs, 0.5):6.1f} ms   p99 "
            f"{pct(xs, 0.99):6.1f} ms   ({len(xs)} clicks)"
            for name, xs in by_platform.items()
        ),
        f"click -> next task, burst   p50 {pct(burst, 0.5):6.1f} ms   p99 "
        f"{pct(burst, 0.99):6.1f} ms   max {pct(burst, 1.0):6.1f} ms   ({len(burst)} clicks)",
        f"outbox lag                  p50 {pct(books['lags'], 0.5):6.1f} ms   p99 "
        f"{pct(books['lags'], 0.99):6.1f} ms   ({len(books['lags'])} messages)",
        f"CPU per answer              workers {1000 * cpu / max(stored, 1):6.1f} ms"
        f"   harness (fakes + people) {1000 * own / max(stored, 1):6.1f} ms",
        f"answers acknowledged        {len(acked)}   stored {len(acked) - lost}   lost {lost}",
        f"answers stored twice        {stored_twice}",
        f"messages sent twice         {twice}",
        f"tasks assigned twice        {books['assigned_twice']}",
        f"questions                   asked {world.books.asked}   posted "
        f"{world.books.questions_posted}   replied {world.books.replied}   reply shown to "
        f"the contractor {world.books.replies_shown}",
        f"not acknowledged            {len(clicks) - len(acked)}   outbox not sent at the end "
        f"{books['outbox_not_sent']}   no task after 30 s {world.books.late_clicks}",
        f"platform violations         slack {len(world.slack.violations)}   discord "
        f"{len(world.discord.violations)}",
        f"harness GC pauses >= 20 ms  {len(long_pauses)}   max "
        f"{1000 * max((p[1] for p in world.gc.pauses), default=0.0):.0f} ms   steady clicks "
        f"over {TARGET_P99_MS:.0f} ms during one: {len(stretched)} of {len(slow)}",
    ]
    for v in [*world.slack.violations[:5], *world.discord.violations[:5]]:
        lines.append(f"  {v}")
    bad = lost or stored_twice or twice or books["assigned_twice"]
    target = p99 <= TARGET_P99_MS
    lines.append(
        f"=> {'0 lost, 0 doubled' if not bad else 'LOST OR DOUBLED'}; steady p99 "
        f"{p99:.1f} ms {'<=' if target else '>'} {TARGET_P99_MS:.0f} ms"
    )
    print("\n".join(lines))
    if args.raw is not None:
        write_raw(args.raw, clicks, start)
    return 1 if bad else 0


def write_raw(path: Path, clicks: list[Click], start: float) -> None:
    """One row per click: seconds from the first click, latency in ms (empty: no
    next task came), platform, whether it was part of the burst."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sent_s", "latency_ms", "platform", "burst"])
        for c in sorted(clicks, key=lambda c: c.sent):
            latency = "" if c.latency is None else f"{1000 * c.latency:.2f}"
            writer.writerow([f"{c.sent - start:.3f}", latency, c.person.platform, int(c.burst)])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contractors", type=int, default=500)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--discord", type=float, default=0.5, help="share on Discord")
    parser.add_argument("--drain", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument(
        "--raw", type=Path, help="write every click (sent at, latency, platform, burst) as CSV"
    )
    args = parser.parse_args(argv)
    if not (1 <= args.contractors <= 2000 and 1 <= args.workers <= 8 and args.minutes <= 30):
        parser.error("bounded: 1-2000 contractors, 1-8 workers, at most 30 minutes")
    return args


def main(argv: list[str] | None = None) -> None:
    sys.exit(asyncio.run(run(parse_args(argv))))


if __name__ == "__main__":
    main()
