"""One bot process serving Slack and Discord at once, with the real slack-bolt and the
real discord.py against both strict fakes: a contractor on Discord asks about a task,
the question goes to the project's home clarifications channel on Slack, a researcher
answers in the Slack thread, and the contractor reads the answer on Discord, replying
to her task message. Both fakes check every request against their platform's spec."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bots.discord.client import attach
from bots.runtime import bootstrap
from bots.slack.app import SlackAdapter, make_client
from hdops.config import Settings
from hdops.services.people import add_person
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.orm import ClarificationMessage
from tests.e2e.discord_system import control, restore_discord_py, tasks, until
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack.bolt_apps import connected_over_socket_mode
from tests.fakes.slack.server import FakeSlack
from tests.helpers import add_items, make_project

pytestmark = pytest.mark.timeout(90)
pytest_plugins = ["tests.fakes.discord.fixtures", "tests.fakes.slack.fixtures"]


def _drained(store: Store) -> bool:
    """Nothing left in the outbox: every message sent and its platform id recorded
    (a reply in a thread is matched to its question by the recorded id)."""
    with store.read() as s:
        return outbox.pending_count(s) == 0


async def test_a_discord_contractor_asks_and_a_slack_researcher_answers(
    fake_discord: FakeDiscord,
    fake_slack: FakeSlack,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = fake_discord.add_user("alice")
    rita = fake_slack.add_user("rita", "Rita Researcher")
    clar = fake_slack.add_channel("clarifications")
    with store.unit_of_work() as s:
        project = make_project(
            s,
            researchers=[f"slack:{rita.id}"],
            clarifications={"slack_channel": clar.id, "home": "slack"},
        )
        add_items(s, project, 3)
        add_person(s, "alice", identities=[f"discord:{alice.id}"], roles=["contractor"])
        add_person(s, "rita", identities=[f"slack:{rita.id}"], roles=["researcher"])

    settings = Settings(
        slack_api_url=fake_slack.api_url,
        slack_bot_token=SecretStr(fake_slack.bot_token),
        slack_app_token=SecretStr(fake_slack.app_token),
        slack_signing_secret=SecretStr(fake_slack.signing_secret),
        discord_bot_token=fake_discord.token,
        discord_api_url=fake_discord.api_base,
        discord_guilds=fake_discord.guild.id,
    )
    restore_discord_py(monkeypatch)
    runtime = bootstrap(settings, store)
    slack = SlackAdapter(runtime.core, settings, make_client(settings))
    runtime.add_port(slack.port)
    discord_side = attach(runtime)
    running = [asyncio.create_task(t()) for t in runtime.tasks]
    running.append(asyncio.create_task(runtime.deliverer.run_forever(interval=0.1)))
    try:
        async with connected_over_socket_mode(fake_slack, slack.app):
            await asyncio.wait_for(discord_side.client.wait_until_ready(), 15)
            await fake_discord.slash_command(alice, "hdops", ["next"])
            await until(lambda: len(tasks(fake_discord, alice)) == 1)
            [task] = tasks(fake_discord, alice)

            await fake_discord.click(alice, task, control(task, "hd:ask:"))
            modal = fake_discord.open_modal(alice)
            assert modal is not None
            [field] = [str(i["custom_id"]) for i in modal.inputs()]
            await fake_discord.submit_modal(alice, modal, {field: "Is a tie allowed?"})

            def posted() -> list[object]:
                return [m for m in fake_slack.messages(clar) if m.thread_ts in (None, m.ts)]

            await until(lambda: len(posted()) == 1)
            [post] = [m for m in fake_slack.messages(clar) if m.thread_ts in (None, m.ts)]
            await until(lambda: _drained(store), timeout=30)  # the post's ts recorded
            assert "Is a tie allowed?" in post.text + str(post.blocks)

            await fake_slack.post_user_message(
                "rita", clar.id, "Yes, ties are fine. @here", thread_ts=post.ts
            )

            def replies() -> list[str]:
                return [
                    m.shown()
                    for m in fake_discord.dms(alice)
                    if m.reference == task.id and "ties are fine" in m.shown()
                ]

            await until(lambda: len(replies()) == 1, timeout=30)
            [reply] = replies()
            assert "rita (researcher)" in reply
            relayed = [m for m in fake_discord.dms(alice) if m.reference == task.id]
            assert all(m.content == "" for m in relayed)  # nothing outside the embed
            assert not any("@here" in str(m.embeds) for m in relayed)  # defanged: no ping
            await fake_slack.settle()
    finally:
        await discord_side.client.close()
        for task_ in running:
            task_.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await slack.port.aclose()
        await discord_side.port.aclose()
    with store.read() as s:
        count = select(func.count(ClarificationMessage.id))
        assert s.scalar(count.where(ClarificationMessage.direction == "to_contractor")) == 1
