"""`hdops run --slack` (and `--slack --discord`) as a real process, on the fakes: the
composition root wires the store, the core, the outbox delivery loop, Socket Mode and
the Discord Gateway together."""

from __future__ import annotations

from pathlib import Path

from hdops.services.people import add_person
from hdops.store.db import Store
from tests.e2e.discord_system import tasks, until
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack.server import FakeSlack
from tests.fakes.slack.workspace import FakeUser
from tests.helpers import add_items, make_project
from tests.processes import hdops_run, run_env

pytest_plugins = ["tests.fakes.slack.fixtures", "tests.fakes.discord.fixtures"]


def _has_slack_task(fake: FakeSlack, user: FakeUser) -> bool:
    return any(
        b["action_id"].startswith("hd:ans:")
        for m in fake.messages(fake.dm_with(user))
        for b in m.buttons()
    )


async def test_hdops_run_serves_slack_until_stopped(
    store: Store, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    alice = fake_slack.add_user("alice")
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 3)
        add_person(s, "alice", identities=[f"slack:{alice.id}"], roles=["contractor"])
    env = run_env(db_url, fake_slack)
    async with hdops_run(["--slack"], env, tmp_path / "run.log") as worker:
        await fake_slack.wait_for_socket(1, timeout=30)
        await fake_slack.slash_command(alice, "/hdops", "next")
        await fake_slack.wait_for(lambda: _has_slack_task(fake_slack, alice), timeout=20)
    assert worker.code == 0, worker.output()
    assert fake_slack.bot_token not in worker.output()
    assert fake_slack.app_token not in worker.output()


async def test_hdops_run_serves_slack_and_discord_in_one_process(
    store: Store, db_url: str, fake_slack: FakeSlack, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Both platforms from one `hdops run`: each person gets their task where they are,
    and the Gateway URL comes from the API (`GET /gateway/bot`), not a test patch."""
    alice = fake_slack.add_user("alice")
    dora = fake_discord.add_user("dora")
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 4)
        add_person(s, "alice", identities=[f"slack:{alice.id}"], roles=["contractor"])
        add_person(s, "dora", identities=[f"discord:{dora.id}"], roles=["contractor"])
    env = run_env(db_url, fake_slack, fake_discord)
    async with hdops_run(["--slack", "--discord"], env, tmp_path / "run.log") as worker:
        await fake_slack.wait_for_socket(1, timeout=30)
        await fake_discord.wait_ready(timeout=30)
        await until(lambda: bool(fake_discord.commands(fake_discord.guild)), timeout=20)
        await fake_slack.slash_command(alice, "/hdops", "next")
        await fake_discord.slash_command(dora, "hdops", ["next"])
        await fake_slack.wait_for(lambda: _has_slack_task(fake_slack, alice), timeout=20)
        await until(lambda: len(tasks(fake_discord, dora)) == 1, timeout=20)
    assert worker.code == 0, worker.output()
    for secret in (fake_slack.bot_token, fake_slack.app_token, fake_discord.token):
        assert secret not in worker.output()
