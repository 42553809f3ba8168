"""The demo's simulation: simulated people driving the real hdops on a fake clock.

Everything a simulated person does goes through the local chat platform's user
API (`LocalChat.command/press/submit/reply`), hence through the real core, and
everything they see arrives through the real outbox delivery loop. Only time is
simulated: a discrete-event loop (a heap of `(second, seq, action)`) sets a
`FakeClock`, runs one action, then delivers what the core queued. `core.sweep()`
runs every simulated minute (lease expiry, escalations, pushes).

Determinism: every random draw comes from a `random.Random` seeded from the demo
seed (one per agent, seeded with a string, which Python hashes the same way in
every process), events at the same second keep their scheduling order, and
nothing reads the wall clock. The same seed therefore replays the same day.

People learn what happens from the chat, as a person would: a contractor notices
a new task message in their DMs (the listener the platform offers), a researcher
notices a new question post in the clarification channel. The simulation knows
one thing people don't see: each item's "true" label (the gold answer for gold
items, a hidden preference drawn from the seed for the others), against which a
contractor's accuracy is applied.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import math
import random
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console

from bots.local.platform import LocalChat, LocalMessage
from bots.runtime import bootstrap
from demo import payouts as demo_payouts
from demo import report as demo_report
from hdops import actions
from hdops.chat import FieldPart, Heading, Mention
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.domain.projects import ClarificationChannels, ProjectSpec, load_project_spec
from hdops.errors import HdopsError
from hdops.services import reports
from hdops.services.items import import_items
from hdops.services.people import add_person
from hdops.services.projects import create_project
from hdops.services.quality import project_quality
from hdops.store.db import Store
from hdops.store.migrate import upgrade

EXAMPLE = "helpful-pairs"
DAY_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
DEFAULT_HOURS = 8.0
CLARIFICATION_CHANNEL = "clarifications"
TICK_SECONDS = 60

DB_FILE = "hdops-demo.db"
ANSWERS_JSONL = "answers.jsonl"
ANSWERS_CSV = "answers.csv"
TRANSCRIPT = "transcript.txt"
REPORT = "report.txt"

LABELS = {"a": "A is better", "b": "B is better", "tie": "Tie"}


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class ContractorTraits:
    name: str
    display_name: str
    speed: float  # mean seconds per task
    accuracy: float  # probability of agreeing with the item's true label
    question_rate: float  # probability of asking a question about a task
    rationale_rate: float = 0.2  # probability of writing a rationale
    skip_rate: float = 0.0  # probability of skipping a task as outside their expertise
    takes_break: bool = False


@dataclass(frozen=True)
class ResearcherTraits:
    name: str
    display_name: str
    reply_minutes: float  # mean minutes until they notice a new question
    busy_rate: float  # share of questions that arrive while they are in a meeting
    faq_rate: float  # share of answered questions they add to the FAQ


CONTRACTORS: tuple[ContractorTraits, ...] = (
    ContractorTraits("alice", "Alice Moreau", 55, 0.93, 0.03, 0.15),
    ContractorTraits("bilal", "Bilal Haddad", 75, 0.90, 0.06, 0.30, takes_break=True),
    ContractorTraits("chen", "Chen Wei", 95, 0.96, 0.10, 0.60),
    ContractorTraits("dara", "Dara Okafor", 120, 0.88, 0.04, 0.20, 0.02),
    ContractorTraits("emil", "Emil Novak", 38, 0.80, 0.01, 0.05),
    ContractorTraits("farah", "Farah Nasser", 150, 0.94, 0.12, 0.40, takes_break=True),
    ContractorTraits("goran", "Goran Petrov", 200, 0.91, 0.05, 0.25, 0.04),
    ContractorTraits("hana", "Hana Sato", 80, 0.74, 0.08, 0.10),
)

RESEARCHERS: tuple[ResearcherTraits, ...] = (
    ResearcherTraits("rita", "Rita Alvarez", 8.0, 0.10, 0.45),
    ResearcherTraits("sam", "Sam Osei", 20.0, 0.30, 0.0),
)

# What contractors ask about helpfulness comparisons, and what researchers answer.
# A question's topic says which items it fits (see TOPICS); "any" fits every item.
QUESTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "Both responses are correct but B is much longer. Does the extra detail make it "
        "more helpful?",
        "Only if the detail is useful to this user. Padding counts against a response; "
        "if the content is otherwise equal, choose Tie.",
        "any",
    ),
    (
        "Response A declines part of the request. Is a partial refusal always worse?",
        "No. If the declined part is harmful, declining it briefly and helping with the "
        "rest is the better response.",
        "harm",
    ),
    (
        "One response points to support resources instead of answering directly. Is that "
        "less helpful?",
        "Not for a risky request like this one: a brief, kind decline plus a genuinely "
        "useful alternative is what we want.",
        "harm",
    ),
    (
        "I can't check the medical facts in these responses myself. Should I guess or skip?",
        "Check what you quickly can. If you can't judge the facts at all, use Skip → "
        "outside my expertise rather than guessing.",
        "medical",
    ),
    (
        "Should I penalise a response for telling the user to see a doctor?",
        "Not when the pointer matters for this user. Penalise only needless or repeated "
        "disclaimers.",
        "medical",
    ),
    (
        "One code answer works but is less idiomatic, the other is idiomatic but has a bug. "
        "Which is better?",
        "Working code wins: a bug is a correctness problem, idiom is only style.",
        "code",
    ),
    (
        "Both responses contain a small factual error. Is that a tie?",
        "Compare how much each error would mislead the user; the worse error loses. Tie "
        "only if they are equally bad.",
        "any",
    ),
    (
        "A uses headings and bullets, B is plain prose with the same content. Which wins?",
        "Formatting alone does not make a response better. Same content: Tie.",
        "any",
    ),
    (
        "The prompt is casual and one answer is very formal. Does tone count?",
        "A little (criterion 5, clear and appropriate), but correctness and answering the "
        "question come first.",
        "any",
    ),
)
TOPICS: dict[str, tuple[str, ...]] = {
    "harm": ("poison", "bomb", "instagram", "disappeared", "gift card"),
    "medical": ("fever", "ibuprofen", "stung", "cookie dough", "lose weight", "virus", "workout"),
    "code": ("python", "sql", "css", "code", "binary search", "tcp", "programming", "recursion"),
}
ANSWERS = {question: answer for question, answer, _ in QUESTIONS}
GENERIC_ANSWER = "Good question — go with the instructions' order: correct, safe, on topic."
THANKS = (
    "Thanks, that makes sense!",
    "Got it, thank you.",
    "Thanks — answering it now.",
)
RATIONALES = {
    "a": (
        "A answers the actual question; B doesn't.",
        "B has a factual error.",
        "A is correct and shorter.",
    ),
    "b": (
        "B is accurate, A gets a key fact wrong.",
        "B answers what was asked.",
        "A pads the answer; B is direct.",
    ),
    "tie": ("Both are equally good.", "Same content, different style."),
}


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _jitter(traits: ContractorTraits, rng: random.Random) -> ContractorTraits:
    """Each seed gives a slightly different team: same archetypes, other numbers."""
    return replace(
        traits,
        speed=round(traits.speed * rng.uniform(0.85, 1.2), 1),
        accuracy=round(_clamp(traits.accuracy + rng.uniform(-0.04, 0.04), 0.5, 0.99), 3),
        question_rate=round(traits.question_rate * rng.uniform(0.7, 1.3), 3),
    )


# --------------------------------------------------------------------------- agents


@dataclass
class Contractor:
    traits: ContractorTraits
    rng: random.Random
    start: int  # simulated second they start work
    end: int  # simulated second they stop
    break_at: int | None = None
    break_minutes: int = 0
    on: bool = False  # at work (not before start, on a break or gone)
    paused: bool = False  # told hdops to stop pushing tasks
    break_due: bool = False
    decide_pending: bool = False
    working: int | None = None  # the assignment they are working on
    tasks: dict[int, str] = field(default_factory=dict)  # open assignment -> task message
    items: dict[int, str] = field(default_factory=dict)  # assignment -> item external id
    texts: dict[int, str] = field(default_factory=dict)  # assignment -> the item's fields
    owner_of: dict[str, int] = field(default_factory=dict)  # task message -> assignment
    asked: set[int] = field(default_factory=set)  # assignments with a question open
    resolved: set[int] = field(default_factory=set)  # ... whose question was resolved

    @property
    def name(self) -> str:
        return self.traits.name

    def seconds(self, mean: float) -> int:
        """A lognormal duration with this mean (people are sometimes much slower)."""
        sigma = 0.45
        mu = math.log(mean) - sigma * sigma / 2
        return max(8, round(self.rng.lognormvariate(mu, sigma)))


@dataclass
class Researcher:
    traits: ResearcherTraits
    rng: random.Random

    @property
    def name(self) -> str:
        return self.traits.name

    def notice_delay(self) -> int:
        mean = self.traits.reply_minutes * 60
        delay = self.rng.expovariate(1 / mean) + self.rng.uniform(30, 90)
        if self.rng.random() < self.traits.busy_rate:
            delay += self.rng.uniform(25, 60) * 60  # in a meeting
        return round(delay)


# --------------------------------------------------------------------------- the world


def find_example(name: str = EXAMPLE) -> Path:
    """The example project's folder: in the source tree next to the packages
    (an editable install), or under the current directory."""
    here = Path(__file__).resolve()
    candidates = [here.parents[1] / "examples" / name, Path.cwd() / "examples" / name]
    for candidate in candidates:
        if (candidate / "spec.yaml").is_file():
            return candidate
    raise HdopsError(f"cannot find examples/{name}/spec.yaml (run from the hdops source tree)")


def demo_spec(example: Path) -> ProjectSpec:
    """The example's spec, with the simulated researchers and the console channel."""
    spec = load_project_spec(example / "spec.yaml")
    channels = spec.clarifications
    if channels.console_channel is None:
        channels = ClarificationChannels.model_validate(
            {**channels.model_dump(), "console_channel": CLARIFICATION_CHANNEL}
        )
    return spec.model_copy(
        update={
            "researchers": [f"console:{r.name}" for r in RESEARCHERS],
            "clarifications": channels,
        }
    )


def true_labels(items_file: Path, rng: random.Random) -> dict[str, str]:
    """Each item's true label: its gold answer, else a hidden preference."""
    truth: dict[str, str] = {}
    with items_file.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            gold = record.get("gold")
            if gold and "choice" in gold:
                truth[str(record["id"])] = str(gold["choice"])
            else:
                truth[str(record["id"])] = rng.choices(["a", "b", "tie"], [46, 46, 8])[0]
    return truth


def set_up(store: Store, example: Path, seed: int) -> ProjectSpec:
    """Project, items and people, through the same services the CLI uses."""
    spec = demo_spec(example)
    with store.unit_of_work() as session:
        create_project(session, spec)
        for r in RESEARCHERS:
            add_person(
                session,
                r.name,
                identities=[f"console:{r.name}"],
                roles=["researcher"],
                display_name=r.display_name,
                tz="UTC",
            )
        for c in CONTRACTORS:
            add_person(
                session,
                c.name,
                identities=[f"console:{c.name}"],
                roles=["contractor"],
                display_name=c.display_name,
                tz="UTC",
            )
    with store.unit_of_work() as session:
        import_items(session, spec.name, example / "items.jsonl", batch=f"demo-seed-{seed}")
    return spec


def demo_settings() -> Settings:
    """Settings for the in-process run (the environment can only break it)."""
    try:
        return Settings(database_url="sqlite://")
    except ValidationError as exc:
        raise HdopsError(f"invalid configuration: {exc}".splitlines()[0]) from None


_ITEM_RE = re.compile(r"item (\S+)$")


def _task_assignment(msg: LocalMessage) -> int | None:
    """The assignment a task message offers answers for (None: not an open task)."""
    for control in msg.message.controls():
        if control.action_id.startswith(f"{actions.PREFIX}:{actions.ANSWER}:"):
            return actions.decode(control.action_id).id
    return None


def _item_of(msg: LocalMessage) -> str | None:
    for part in msg.message.parts:
        if isinstance(part, Heading):
            found = _ITEM_RE.search(part.text)
            if found:
                return found.group(1)
    return None


def _question_of(msg: LocalMessage) -> str:
    for part in msg.message.parts:
        if isinstance(part, FieldPart) and part.label.endswith(" asks"):
            return part.value
    return ""


Action = Callable[[], Awaitable[None]]


class Simulation:
    """One simulated working day on a fresh database."""

    def __init__(
        self,
        store: Store,
        seed: int,
        truth: dict[str, str],
        *,
        hours: float = DEFAULT_HOURS,
        clarification_channel: str = CLARIFICATION_CHANNEL,
        settings: Settings | None = None,
    ) -> None:
        self.store = store
        self.seed = seed
        self.truth = truth
        self.end = round(hours * 3600)
        self.clock = FakeClock(DAY_START)
        settings = settings or demo_settings()
        self._dirty = False  # the core committed something since the last delivery
        runtime = bootstrap(settings, store, [LocalChat], self.clock, on_commit=self._mark_dirty)
        self.core, self.deliverer = runtime.core, runtime.deliverer
        chat = runtime.port("console")
        assert isinstance(chat, LocalChat)
        self.chat = chat
        self.chat.listeners.append(self._on_message)
        self.clar_channel = clarification_channel
        self.now = 0
        self.finished = False
        self._queue: list[tuple[int, int, Action]] = []
        self._seq = itertools.count()
        self.faq_questions: set[str] = set()
        self._stamps: list[int] = []  # simulated second of each transcript entry
        team = random.Random(f"hdops-demo:{seed}:team")
        self.contractors: dict[str, Contractor] = {}
        for traits in CONTRACTORS:
            rng = random.Random(f"hdops-demo:{seed}:{traits.name}")
            start = round(team.uniform(0, 45) * 60)
            end = min(self.end, start + round(team.uniform(5.5, 8) * 3600))
            agent = Contractor(_jitter(traits, team), rng, start, end)
            if traits.takes_break:
                agent.break_at = start + round(team.uniform(40, 100) * 60)
                agent.break_minutes = round(team.uniform(20, 40))
            self.contractors[traits.name] = agent
        self.researchers = [
            Researcher(t, random.Random(f"hdops-demo:{seed}:{t.name}")) for t in RESEARCHERS
        ]

    # ------------------------------------------------------------------ loop

    def at(self, second: int, action: Action) -> None:
        heapq.heappush(self._queue, (second, next(self._seq), action))

    def after(self, seconds: int, action: Action) -> None:
        self.at(self.now + max(0, seconds), action)

    def _mark_dirty(self) -> None:
        self._dirty = True

    async def deliver(self, *, always: bool = False) -> None:
        """Send what the core queued (skipped when nothing was committed since)."""
        if self._dirty or always:
            self._dirty = False
            await self.deliverer.deliver_due()

    async def run(self) -> datetime:
        """Run the day; returns the simulated time it ended."""
        for agent in self.contractors.values():
            self.at(agent.start, partial(self._start, agent))
            self.at(agent.end, partial(self._leave, agent))
            if agent.break_at is not None and agent.break_at < agent.end:
                self.at(agent.break_at, partial(self._break_due, agent))
        self.at(TICK_SECONDS, self._tick)
        while self._queue and not self.finished:
            second, _, action = heapq.heappop(self._queue)
            if second > self.end:
                break
            self.now = second
            self.clock.set(DAY_START + timedelta(seconds=second))
            await action()
            await self.deliver()
            self._stamps.extend([second] * (len(self.chat.transcript) - len(self._stamps)))
        return self.clock.now()

    def transcript(self) -> str:
        """The chat as the platform recorded it, each entry stamped with simulated
        time; a line with the date opens each day (the payout run is a week later)."""
        lines = []
        day = None
        for second, entry in zip(self._stamps, self.chat.transcript, strict=False):
            when = DAY_START + timedelta(seconds=second)
            if when.date() != day:
                day = when.date()
                lines.append(f"--- {when:%a %Y-%m-%d} (UTC) ---")
            stamp = when.strftime("%H:%M:%S")
            first, *rest = entry.split("\n")
            lines.append(f"{stamp}  {first}")
            lines.extend(f"{' ' * len(stamp)}  {line}" for line in rest)
        return "\n".join(lines) + "\n"

    async def _tick(self) -> None:
        self.core.sweep()
        await self.deliver(always=True)  # also retries whatever is due again
        if self.now >= self.end or self._all_done():
            self.finished = True
            return
        self.after(TICK_SECONDS, self._tick)

    def _all_done(self) -> bool:
        """Every item has its answers, no question is open and nobody holds a task."""
        with self.store.unit_of_work() as session:
            return reports.open_work(session).done

    # ------------------------------------------------------------------ seeing

    def _on_message(self, msg: LocalMessage, kind: str) -> None:
        """What people notice in the chat (called by the platform on every message)."""
        if msg.author != "bot":
            return
        if msg.channel.startswith("dm-"):
            agent = self.contractors.get(msg.channel[3:])
            if agent is not None:
                self._contractor_sees(agent, msg, kind)
        elif msg.channel == self.clar_channel and kind == "new":
            if msg.thread_of is None:
                for researcher in self.researchers:
                    self.after(
                        researcher.notice_delay(),
                        partial(self._researcher_notices, researcher, msg.id),
                    )
            elif any(isinstance(p, Mention) for p in msg.message.parts):
                # An escalation mentions the researchers: whoever is free looks now.
                for researcher in self.researchers:
                    delay = round(researcher.rng.uniform(1, 6) * 60)
                    self.after(delay, partial(self._researcher_notices, researcher, msg.thread_of))

    def _contractor_sees(self, agent: Contractor, msg: LocalMessage, kind: str) -> None:
        if msg.thread_of is None:
            assignment = _task_assignment(msg)
            if assignment is not None:
                agent.tasks[assignment] = msg.id
                agent.owner_of[msg.id] = assignment
                agent.items[assignment] = _item_of(msg) or ""
                agent.texts[assignment] = " ".join(
                    p.value for p in msg.message.parts if isinstance(p, FieldPart)
                )
                self._wake(agent)
            elif kind == "edit" and msg.id in agent.owner_of:
                # Recorded, skipped or expired: the controls are gone.
                closed = agent.owner_of[msg.id]
                if agent.tasks.get(closed) == msg.id:
                    del agent.tasks[closed]
                    agent.asked.discard(closed)
                    agent.resolved.discard(closed)
                    self._wake(agent)
            return
        if kind != "new" or msg.thread_of not in agent.owner_of:
            return
        assignment = agent.owner_of[msg.thread_of]
        if "(researcher)" in msg.message.text:
            if agent.rng.random() < 0.35:
                self.after(
                    round(agent.rng.uniform(20, 90)), partial(self._thank, agent, msg.thread_of)
                )
        elif "was resolved" in msg.message.text:
            agent.resolved.add(assignment)
            self._wake(agent)

    # ------------------------------------------------------------------ contractors

    def _wake(self, agent: Contractor) -> None:
        if agent.on and agent.working is None and not agent.decide_pending:
            agent.decide_pending = True
            self.after(round(agent.rng.uniform(3, 20)), partial(self._decide, agent))

    async def _start(self, agent: Contractor) -> None:
        agent.on = True
        self.chat.command(agent.name, "/hdops next")

    def _pause(self, agent: Contractor) -> None:
        if not agent.paused:
            self.chat.command(agent.name, "/hdops pause")
            agent.paused = True

    async def _leave(self, agent: Contractor) -> None:
        if agent.on:
            self._pause(agent)
        agent.on = False

    async def _break_due(self, agent: Contractor) -> None:
        agent.break_due = True
        if agent.working is None:
            await self._take_break(agent)

    async def _take_break(self, agent: Contractor) -> None:
        agent.break_due = False
        if not agent.on:
            return
        self._pause(agent)
        agent.on = False
        self.after(agent.break_minutes * 60, partial(self._back_from_break, agent))

    async def _back_from_break(self, agent: Contractor) -> None:
        if self.now >= agent.end:
            return
        agent.on = True
        agent.paused = False
        self.chat.command(agent.name, "/hdops resume")
        await self.deliver()
        self._wake(agent)

    def _pick(self, agent: Contractor) -> int | None:
        """Their next piece of work: an item whose question was resolved, else the task."""
        ready = sorted(a for a in agent.resolved if a in agent.tasks)
        if ready:
            return ready[0]
        fresh = sorted(a for a in agent.tasks if a not in agent.asked)
        return fresh[0] if fresh else None

    async def _decide(self, agent: Contractor) -> None:
        agent.decide_pending = False
        if not agent.on or agent.working is not None:
            return
        if agent.break_due:
            await self._take_break(agent)
            return
        assignment = self._pick(agent)
        if assignment is None:
            return  # idle: the next task message wakes them
        agent.working = assignment
        traits = agent.traits
        if assignment in agent.resolved:
            self.after(agent.seconds(traits.speed * 0.5), partial(self._answer, agent, assignment))
        elif agent.rng.random() < traits.question_rate:
            self.after(agent.seconds(traits.speed * 0.4), partial(self._ask, agent, assignment))
        elif agent.rng.random() < traits.skip_rate:
            self.after(agent.seconds(traits.speed * 0.5), partial(self._skip, agent, assignment))
        else:
            self.after(agent.seconds(traits.speed), partial(self._answer, agent, assignment))

    def _still_open(self, agent: Contractor, assignment: int) -> str | None:
        """The task message, if it still has its answer buttons."""
        message_id = agent.tasks.get(assignment)
        if message_id is None or _task_assignment(self.chat.messages[message_id]) is None:
            agent.tasks.pop(assignment, None)
            return None
        return message_id

    async def _done_working(self, agent: Contractor) -> None:
        agent.working = None
        await self.deliver()
        if agent.break_due:
            await self._take_break(agent)
        else:
            self._wake(agent)

    def _choose_label(self, agent: Contractor, assignment: int) -> str:
        truth = self.truth.get(agent.items.get(assignment, ""), "tie")
        accuracy = agent.traits.accuracy
        if assignment in agent.resolved:
            accuracy = max(accuracy, 0.97)  # they asked, and were told
        if agent.rng.random() < accuracy:
            return truth
        if truth == "tie":
            return agent.rng.choice(["a", "b"])
        other = "b" if truth == "a" else "a"
        return agent.rng.choices([other, "tie"], [3, 1])[0]

    async def _answer(self, agent: Contractor, assignment: int) -> None:
        if agent.working != assignment:
            return
        message_id = self._still_open(agent, assignment)
        if message_id is None:
            await self._done_working(agent)
            return
        if agent.break_due or self.now >= agent.end:
            # Pause before the last answer, so no new task is held while away.
            self._pause(agent)
        label = self._choose_label(agent, assignment)
        reply = self.chat.press(agent.name, message_id, LABELS[label])
        if reply.form is None:
            agent.tasks.pop(assignment, None)
            await self._done_working(agent)
            return
        if agent.rng.random() < agent.traits.rationale_rate:
            text = agent.rng.choice(RATIONALES[label])
            self.after(
                round(agent.rng.uniform(15, 45)),
                partial(self._submit_answer, agent, assignment, text),
            )
        else:
            await self._submit_answer(agent, assignment, "")

    async def _submit_answer(self, agent: Contractor, assignment: int, rationale: str) -> None:
        self.chat.submit(agent.name, {"rationale": rationale})
        agent.tasks.pop(assignment, None)
        agent.asked.discard(assignment)
        agent.resolved.discard(assignment)
        await self._done_working(agent)

    async def _ask(self, agent: Contractor, assignment: int) -> None:
        if agent.working != assignment:
            return
        message_id = self._still_open(agent, assignment)
        if message_id is not None:
            question = self._question_about(agent, assignment)
            reply = self.chat.press(agent.name, message_id, "Ask a question")
            if reply.form is not None:
                self.chat.submit(agent.name, {"question": question})
                agent.asked.add(assignment)
        await self._done_working(agent)

    def _question_about(self, agent: Contractor, assignment: int) -> str:
        """A question that fits the item (a medical one for a medical prompt, ...)."""
        text = agent.texts.get(assignment, "").lower()
        topics = {t for t, words in TOPICS.items() if any(w in text for w in words)}
        fitting = [q for q, _, topic in QUESTIONS if topic in topics]
        general = [q for q, _, topic in QUESTIONS if topic == "any"]
        if fitting and agent.rng.random() < 0.75:
            return agent.rng.choice(fitting)
        return agent.rng.choice(general)

    async def _skip(self, agent: Contractor, assignment: int) -> None:
        if agent.working != assignment:
            return
        message_id = self._still_open(agent, assignment)
        if message_id is not None:
            reply = self.chat.press(agent.name, message_id, "Skip")
            if reply.form is not None:
                self.chat.submit(
                    agent.name,
                    {"reason": "expertise", "note": "Needs domain knowledge I don't have."},
                )
                agent.tasks.pop(assignment, None)
        await self._done_working(agent)

    async def _thank(self, agent: Contractor, task_message: str) -> None:
        self.chat.reply(agent.name, task_message, agent.rng.choice(THANKS))

    # ------------------------------------------------------------------ researchers

    async def _researcher_notices(self, researcher: Researcher, post_id: str) -> None:
        names = {r.name for r in self.researchers}
        post = self.chat.messages[post_id]
        if not any(b.label == "Resolve" for b in post.message.buttons()):
            return  # already resolved
        if any(m.author in names for m in self.chat.thread(post_id)):
            return  # a colleague answered it
        question = _question_of(post)
        answer = ANSWERS.get(question, GENERIC_ANSWER)
        self.chat.reply(researcher.name, post_id, answer)
        await self.deliver()
        self.after(
            round(researcher.rng.uniform(60, 240)),
            partial(self._researcher_closes, researcher, post_id, question),
        )

    async def _researcher_closes(self, researcher: Researcher, post_id: str, question: str) -> None:
        post = self.chat.messages[post_id]
        if not any(b.label == "Resolve" for b in post.message.buttons()):
            return
        wants_faq = (
            researcher.traits.faq_rate > 0
            and question not in self.faq_questions
            and researcher.rng.random() < researcher.traits.faq_rate
        )
        if wants_faq:
            reply = self.chat.press(researcher.name, post_id, "Add to FAQ")
            if reply.form is not None:
                fields = {f.name: f.initial or "" for f in reply.form.fields}
                submitted = self.chat.submit(researcher.name, fields)
                if not submitted.form_errors:
                    self.faq_questions.add(question)
                    return
                self.chat.open_forms.pop(researcher.name, None)
        self.chat.press(researcher.name, post_id, "Resolve")


# --------------------------------------------------------------------------- the demo


@dataclass(frozen=True)
class DemoResult:
    out_dir: Path
    report_text: str
    figures: demo_report.DemoFigures
    files: list[Path]


def prepare_out_dir(out: Path | None, seed: int) -> Path:
    """The folder to write into: `out`, or a new one named after the seed."""
    if out is None:
        base = Path.cwd() / f"hdops-demo-seed{seed}"
        out = base
        for n in itertools.count(2):
            if not out.exists():
                break
            out = base.with_name(f"{base.name}-{n}")
    if out.exists() and not out.is_dir():
        raise HdopsError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm"):
        (out / name).unlink(missing_ok=True)  # the demo's own database from a previous run
    return out


@contextmanager
def _quiet_delivery_logs() -> Iterator[None]:
    """Retries while a thread's parent is still in flight are routine here."""
    logger = logging.getLogger("hdops.services.delivery")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def run_demo_async(
    seed: int = 1,
    out: Path | None = None,
    *,
    hours: float = DEFAULT_HOURS,
    console: Console | None = None,
) -> DemoResult:
    """Run the demo into `out`; print the report on `console` if given."""
    settings = demo_settings()
    example = find_example()
    out_dir = prepare_out_dir(out, seed)
    store = Store.from_url(f"sqlite:///{out_dir / DB_FILE}")
    try:
        upgrade(store.engine)
        spec = set_up(store, example, seed)
        truth = true_labels(example / "items.jsonl", random.Random(f"hdops-demo:{seed}:truth"))
        channel = spec.clarifications.console_channel or CLARIFICATION_CHANNEL
        from demo import shifts as demo_shifts  # it builds on Simulation

        sim = demo_shifts.ShiftSimulation(
            store, seed, truth, hours=hours, clarification_channel=channel, settings=settings
        )
        with _quiet_delivery_logs():
            ended = await sim.run()
            shift_figures = demo_shifts.collect_figures(sim)
            payout_figures = await demo_payouts.run_payouts(sim, out_dir)
        files = demo_report.write_exports(store, spec.name, out_dir, ANSWERS_JSONL, ANSWERS_CSV)
        if payout_figures.chart is not None:
            files.append(payout_figures.chart)
        transcript = out_dir / TRANSCRIPT
        transcript.write_text(sim.transcript(), encoding="utf-8")
        with store.unit_of_work() as session:
            figures = demo_report.DemoFigures(
                seed=seed,
                started=DAY_START,
                ended=ended,
                project=reports.project_figures(session, spec.name, tz=settings.ops_tz),
                delivery=reports.delivery_figures(session),
                payouts=payout_figures,
                shifts=shift_figures,
                quality=project_quality(session, spec.name),
            )
        text = demo_report.report_text(figures)
        report_file = out_dir / REPORT
        report_file.write_text(text, encoding="utf-8")
        if console is not None:
            demo_report.print_report(figures, console)
    finally:
        store.dispose()
    return DemoResult(out_dir, text, figures, [*files, transcript, report_file, out_dir / DB_FILE])


def run_demo(
    seed: int = 1,
    out: Path | None = None,
    *,
    hours: float = DEFAULT_HOURS,
    console: Console | None = None,
) -> DemoResult:
    return asyncio.run(run_demo_async(seed, out, hours=hours, console=console))
