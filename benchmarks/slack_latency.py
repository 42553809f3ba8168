"""Benchmark: button click → next task on Slack, end to end, at 50 concurrent contractors.

The real slack-bolt app (Socket Mode) and outbox delivery loop run against the
local FakeSlack (tests/fakes/slack). Each round, every contractor clicks an
answer on their open task at the same moment; the latency of one click is from
the fake sending the interaction envelope to the next task's `chat.postMessage`
reaching the fake. Printed next to the core-only latency of the same answer
transaction (benchmarks/answer_loop.py's core path) in the same run.

    python benchmarks/slack_latency.py [--contractors 50] [--rounds 6]

Seen on the 2-core dev machine (SQLite, 50 contractors, 150 clicks): click → next
task p50 ≈ 1.1 s, p99 ≈ 1.6 s, against a core-only answer transaction of p50 ≈ 5 ms,
p99 ≈ 12 ms. The gap is queueing: 50 clicks land at once, each core call runs in the
default thread pool against a single SQLite writer, and the delivery loop sends the
resulting ~100 Web API calls one after another to a fake that validates each against
the OpenAPI spec in the same process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr

from bots.run import build_runtime
from bots.slack.app import SlackAdapter, make_client
from hdops.config import Settings
from hdops.domain.projects import parse_project_spec
from hdops.services.people import add_person
from hdops.services.projects import create_project
from hdops.store.db import Store, create_store_engine
from hdops.store.migrate import upgrade
from hdops.store.orm import Item
from tests.fakes.slack.bolt_apps import connected_over_socket_mode
from tests.fakes.slack.server import FakeSlack
from tests.fakes.slack.workspace import FakeMessage, FakeUser


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


async def run(contractors: int, rounds: int, tmp: Path) -> tuple[list[float], list[float]]:
    from datetime import UTC, datetime

    engine = create_store_engine(f"sqlite:///{tmp / 'slack.db'}")
    upgrade(engine)
    store = Store(engine)
    fake = await FakeSlack(
        lenient={
            "rate_limits": "measures the bot's own click-to-next-task latency: 50 clicks at"
            " once are far over chat.update's tier 3 (50 a minute), and Slack's pacing is"
            " not what this benchmark times"
        }
    ).start()
    users = [fake.add_user(f"c{i}") for i in range(contractors)]
    now = datetime.now(UTC)
    with store.unit_of_work() as s:
        spec = parse_project_spec(
            {
                "name": "bench",
                "title": "Bench",
                "overlap": 3,
                "lease_minutes": 60,
                "task": {"type": "pairwise", "fields": ["prompt", "response_a", "response_b"]},
                "instructions": "Pick one.",
            }
        )
        project = create_project(s, spec)
        for i in range(contractors * (rounds + 2)):
            s.add(
                Item(
                    project_id=project.id,
                    external_id=f"i{i}",
                    data={"prompt": "p", "response_a": "a", "response_b": "b"},
                    gold=None,
                    is_gold=False,
                    target=3,
                    answer_count=0,
                    open_slots=3,
                    created_at=now,
                    updated_at=now,
                )
            )
        for user in users:
            add_person(s, user.name, identities=[f"slack:{user.id}"], roles=["contractor"])
    settings = Settings(
        slack_api_url=fake.api_url,
        slack_bot_token=SecretStr(fake.bot_token),
        slack_app_token=SecretStr(fake.app_token),
    )
    runtime = build_runtime(store, settings)
    adapter = SlackAdapter(runtime.core, settings, make_client(settings))
    runtime.add_port(adapter.port)
    loop_task = asyncio.create_task(runtime.deliverer.run_forever(interval=0.05))
    latencies: list[float] = []
    try:
        async with connected_over_socket_mode(fake, adapter.app):
            await asyncio.gather(*(fake.slash_command(u, "/hdops", "next") for u in users))
            await fake.wait_for(
                lambda: all(
                    any(
                        b["action_id"].startswith("hd:ans:")
                        for m in fake.messages(fake.dm_with(u))
                        for b in m.buttons()
                    )
                    for u in users
                ),
                timeout=120,
            )
            await fake.settle(quiet=0.3, timeout=60)
            for _ in range(rounds):
                open_task: dict[str, tuple[str, FakeMessage]] = {}
                for u in users:
                    dm = fake.dm_with(u)
                    tasks = [
                        m
                        for m in fake.messages(dm)
                        if any(b["action_id"].startswith("hd:ans:") for b in m.buttons())
                    ]
                    open_task[u.id] = (dm, tasks[-1])
                marks = {u.id: len(fake.calls) for u in users}
                started = {u.id: time.time() for u in users}

                async def click(
                    u: FakeUser,
                    started: dict[str, float] = started,
                    open_task: dict[str, tuple[str, FakeMessage]] = open_task,
                ) -> None:
                    started[u.id] = time.time()
                    await fake.click_button(u, open_task[u.id][1], "A is better")

                await asyncio.gather(*(click(u) for u in users))

                def all_served(
                    marks: dict[str, int] = marks,
                    open_task: dict[str, tuple[str, FakeMessage]] = open_task,
                ) -> bool:
                    return all(
                        any(
                            c.method == "chat.postMessage"
                            and c.params.get("channel") == open_task[u.id][0]
                            for c in fake.calls[marks[u.id] :]
                        )
                        for u in users
                    )

                await fake.wait_for(all_served, timeout=120)
                await fake.settle(quiet=0.3, timeout=60)
                for u in users:
                    dm, _ = open_task[u.id]
                    posts = [
                        c.time
                        for c in fake.calls[marks[u.id] :]
                        if c.method == "chat.postMessage" and c.params.get("channel") == dm
                    ]
                    if not posts:
                        sent = [
                            (c.method, c.params.get("channel")) for c in fake.calls[marks[u.id] :]
                        ][:5]
                        raise SystemExit(f"no next task for {u.name}: {sent}")
                    latencies.append(posts[0] - started[u.id])
    finally:
        loop_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop_task
        await fake.stop()
        store.dispose()
    return latencies, []


def core_latency(contractors: int, tmp: Path) -> list[float]:
    sys.path.insert(0, str(Path(__file__).parent))
    import answer_loop

    url = answer_loop.fresh_database(None, tmp, "core")
    store = answer_loop.setup(url, 10_000, contractors)
    result = answer_loop.run_core(store, contractors, contractors * 20)
    store.dispose()
    return result.latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contractors", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        slack, _ = asyncio.run(run(args.contractors, args.rounds, tmp))
        core = core_latency(args.contractors, tmp)
    print(
        f"click → next task chat.postMessage on the fake, {args.contractors} concurrent "
        f"contractors, {len(slack)} clicks: p50 {pct(slack, 0.5):7.1f} ms  "
        f"p99 {pct(slack, 0.99):7.1f} ms"
    )
    print(
        f"core answer transaction only (engine benchmark path), {len(core)} answers: "
        f"p50 {pct(core, 0.5):7.1f} ms  p99 {pct(core, 0.99):7.1f} ms"
    )


if __name__ == "__main__":
    main()
