"""Two `hdops run` workers on one PostgreSQL store serve one Slack app: Slack spreads
Socket Mode envelopes across the app's connections (the fake deals them round-robin),
either worker may take any click, and both drain the outbox.

A burst of 100 clicks, split across the two, with a tenth of them redelivered (to the
other worker, as a retry lands wherever Slack sends it): every answer stored once,
every next task posted once, and no call over Slack's limits (the fake is strict)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from hdops.services.people import add_person
from hdops.store.db import Store
from hdops.store.orm import Answer, Identity
from tests.e2e.discord_system import control, tasks, until
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.gateway import shard_of
from tests.fakes.slack.server import FakeSlack
from tests.fakes.slack.workspace import FakeUser
from tests.helpers import add_items, make_project
from tests.processes import hdops_run, run_env

pytest_plugins = ["tests.fakes.slack.fixtures", "tests.fakes.discord.fixtures"]
pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(240)]

CONTRACTORS = 100


def _task_posts(fake: FakeSlack) -> Counter[str]:
    """Task messages posted, per DM channel (edits are not posts)."""
    posts: Counter[str] = Counter()
    for call in fake.calls_to("chat.postMessage"):
        if call.ok and "hd:ans:" in str(call.params.get("blocks", "")):
            posts[str(call.params["channel"])] += 1
    return posts


async def test_a_burst_of_clicks_across_two_workers(
    store: Store, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    users: list[FakeUser] = [fake_slack.add_user(f"c{n:03d}") for n in range(CONTRACTORS)]
    with store.unit_of_work() as s:
        add_items(s, make_project(s, overlap=1), 3 * CONTRACTORS)
        for user in users:
            add_person(s, user.name, identities=[f"slack:{user.id}"], roles=["contractor"])
            # Their DMs were opened long ago (conversations.open is 50 a minute).
            s.execute(
                update(Identity)
                .where(Identity.external_id == user.id)
                .values(dm_channel=fake_slack.dm_with(user))
            )
    env = run_env(db_url, fake_slack)
    async with (
        hdops_run(["--slack"], env, tmp_path / "w1.log") as first,
        hdops_run(["--slack"], env, tmp_path / "w2.log") as second,
    ):
        await fake_slack.wait_for_socket(2, timeout=60)
        asked = await asyncio.gather(
            *(fake_slack.slash_command(u, "/hdops", "next") for u in users)
        )
        assert all(d.acked for d in asked)

        def first_tasks() -> bool:
            return len(_task_posts(fake_slack)) == CONTRACTORS

        await fake_slack.wait_for(first_tasks, timeout=60)

        async def click(user: FakeUser):  # type: ignore[no-untyped-def]
            (task,) = [
                m
                for m in fake_slack.messages(fake_slack.dm_with(user))
                if any(b["action_id"].startswith("hd:ans:") for b in m.buttons())
            ]
            button = next(b for b in task.buttons() if b["action_id"].startswith("hd:ans:"))
            return await fake_slack.click(
                user, task.channel, task.ts, button["action_id"], block_id=button["block_id"]
            )

        clicks = await asyncio.gather(*(click(u) for u in users))
        again = await asyncio.gather(*(fake_slack.redeliver(d) for d in clicks[::10]))
        assert all(d.acked for d in [*clicks, *again])

        def next_tasks() -> bool:
            posts = _task_posts(fake_slack)
            return len(posts) == CONTRACTORS and all(n >= 2 for n in posts.values())

        await fake_slack.wait_for(next_tasks, timeout=90)
        await fake_slack.settle(quiet=1.0, timeout=20)

    assert first.code == 0 and second.code == 0, first.output() + second.output()
    # Both workers took clicks.
    by_connection = Counter(
        fake_slack.socket.envelopes[d.envelope_id].connection for d in clicks if d.envelope_id
    )
    assert len(by_connection) == 2 and min(by_connection.values()) >= 30, by_connection
    with store.read() as s:
        answers = s.execute(
            select(Answer.person_id, Answer.item_id, func.count()).group_by(
                Answer.person_id, Answer.item_id
            )
        ).all()
    assert len(answers) == CONTRACTORS and all(n == 1 for *_, n in answers)
    posts = _task_posts(fake_slack)
    assert sorted(posts.values()) == [2] * CONTRACTORS, posts
    assert fake_slack.pop_violations() == []


async def test_discord_shards_split_across_workers(
    store: Store, db_url: str, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Two workers, each one Gateway shard of the same bot: the guild's events (its
    slash commands) reach the worker of the guild's shard, direct messages (task
    buttons) shard 0's, and the task flow works across them, each step once."""
    dora = fake_discord.add_user("dora")
    with store.unit_of_work() as s:
        add_items(s, make_project(s, overlap=1), 4)
        add_person(s, "dora", identities=[f"discord:{dora.id}"], roles=["contractor"])
    env = run_env(db_url, discord=fake_discord)
    guild_shard = shard_of(fake_discord.guild.id, 2)
    async with (
        hdops_run(["--discord", "--shard", "0/2"], env, tmp_path / "s0.log") as zero,
        hdops_run(["--discord", "--shard", "1/2"], env, tmp_path / "s1.log") as one,
    ):
        await fake_discord.wait_ready(timeout=60)
        await until(lambda: bool(fake_discord.commands(fake_discord.guild)), timeout=30)
        command = await fake_discord.slash_command(dora, "hdops", ["next"])
        await until(lambda: len(tasks(fake_discord, dora)) == 1, timeout=30)
        first = tasks(fake_discord, dora)[0]
        clicked = await fake_discord.click(dora, first, control(first, "hd:ans:"))
        assert command.responded and clicked.responded
        await until(lambda: any(m.id != first.id for m in tasks(fake_discord, dora)), timeout=30)
    assert zero.code == 0 and one.code == 0, zero.output() + one.output()
    gateway = fake_discord.gateway
    assert sorted(gateway.sessions) == [0, 1] and gateway.shard_count == 2

    def events(shard: int, name: str) -> list[dict[str, Any]]:
        return [p["d"] for p in gateway.dispatched(shard) if p["t"] == name]

    assert [g["id"] for g in events(guild_shard, "GUILD_CREATE")] == [fake_discord.guild.id]
    assert events(1 - guild_shard, "GUILD_CREATE") == []
    assert [i.get("guild_id") for i in events(guild_shard, "INTERACTION_CREATE")][:1] == [
        fake_discord.guild.id
    ]
    assert any("guild_id" not in i for i in events(0, "INTERACTION_CREATE"))  # the DM click
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(Answer)) == 1
    assert len(fake_discord.dms(dora)) == 2  # two tasks, no message twice
    assert fake_discord.pop_violations() == []
