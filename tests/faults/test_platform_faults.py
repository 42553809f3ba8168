"""Slack and Discord failing under hdops: a 500/503, a Socket Mode connection dropped
without a word, an answer that comes after the client's timeout although the platform
did the work. Each time the message is delivered exactly once, nothing is lost, and the
failure is counted on the outbox row, not a crash.

Not repeated here (already covered): Slack 429 and 503 on a click's path
(tests/e2e/test_slack_e2e.py), 429 pacing (test_slack_delivery.py), Discord 429
(tests/contract, test_fake_discord.py), a dropped Gateway resumed
(test_discord_flows.py), a re-IDENTIFY after an invalid session
(test_fake_discord.py)."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select

from hdops.services.people import add_person
from hdops.store.db import Store
from hdops.store.orm import Answer, OutboxMessage
from tests.e2e.discord_system import running, tasks, until
from tests.e2e.slack_system import slack_world
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack.server import FakeSlack
from tests.helpers import add_items, make_project

pytest_plugins = ["tests.fakes.slack.fixtures", "tests.fakes.discord.fixtures"]


def _task_rows(store: Store) -> list[OutboxMessage]:
    with store.read() as s:
        return list(
            s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind == "send",
                    OutboxMessage.payload["ref"].as_string().like("assignment:%"),
                )
            )
        )


@pytest.mark.parametrize("status", [500, 503])
async def test_a_slack_server_error_is_retried_and_the_task_sent_once(
    store: Store, fake_slack: FakeSlack, status: int
) -> None:
    async with slack_world(store, fake_slack) as w:
        fake_slack.fail_next("chat.postMessage", status=status, retry_after=None)
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await fake_slack.wait_for(lambda: w.tasks(w.alice), timeout=15)
        await w.settle()
        assert len(w.tasks(w.alice)) == 1
        statuses = [c.status for c in fake_slack.calls_to("chat.postMessage")]
        assert statuses == [status, 200]
        [row] = _task_rows(store)
        assert (row.status, row.attempts) == ("sent", 2)  # the failure counted


async def test_a_dropped_socket_mode_connection_reconnects_and_loses_no_click(
    store: Store, fake_slack: FakeSlack
) -> None:
    async with slack_world(store, fake_slack) as w:
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        await fake_slack.socket.close()  # gone, without Slack's `disconnect` notice
        await fake_slack.wait_for_socket(1, timeout=30)  # slack_sdk notices, reconnects
        click = await fake_slack.click_button(w.alice, task, "A is better")
        assert click.acked
        again = await fake_slack.redeliver(click)  # and Slack sent it twice
        assert again.acked
        await w.settle()
        with store.read() as s:
            assert s.scalar(select(func.count(Answer.id))) == 1
        assert len(w.tasks(w.alice)) == 1 and w.tasks(w.alice)[0].ts != task.ts


@pytest.mark.parametrize("status", [500, 503])
async def test_a_discord_server_error_is_retried_and_the_task_sent_once(
    fake_discord: FakeDiscord,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
) -> None:
    dora = fake_discord.add_user("dora")
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 3)
        add_person(s, "dora", identities=[f"discord:{dora.id}"], roles=["contractor"])
    async with running(fake_discord, store, monkeypatch):
        fake_discord.fail_next("POST /channels/{channel_id}/messages", status)
        await fake_discord.slash_command(dora, "hdops", ["next"])
        await until(lambda: len(tasks(fake_discord, dora)) >= 1, timeout=20)
        await until(lambda: _task_rows(store)[0].status == "sent", timeout=10)
        assert len(tasks(fake_discord, dora)) == 1
        sends = fake_discord.calls_to("POST", "/channels/{channel_id}/messages")
        assert [c.status for c in sends] == [status, 200]
        [row] = _task_rows(store)
        assert row.attempts == 2


async def test_a_slack_post_that_times_out_after_posting_is_not_posted_again(
    store: Store, fake_slack: FakeSlack
) -> None:
    """Slack posted the task but its answer came too late: the client timed out and
    cannot know. The next attempt asks Slack first (the post carries its outbox key)
    and finds it, instead of posting the task a second time."""
    async with slack_world(store, fake_slack) as w:
        w.adapter.client.timeout = 1  # slack_sdk's default is 30 s; the same, sooner
        fake_slack.stall_next("chat.postMessage", 2.5)
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await fake_slack.wait_for(lambda: w.tasks(w.alice), timeout=15)

        def recorded() -> bool:
            rows = _task_rows(store)
            return len(rows) == 1 and rows[0].status == "sent"

        await fake_slack.wait_for(recorded, timeout=40)
        await w.settle()
        posts = [c for c in fake_slack.calls_to("chat.postMessage") if c.status == 200]
        assert len(posts) == 1, [c.params.get("channel") for c in posts]
        assert len(w.tasks(w.alice)) == 1


async def test_a_discord_post_that_times_out_after_posting_is_not_posted_again(
    fake_discord: FakeDiscord, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord created the task message but its answer came too late: the retry
    carries the same nonce with `enforce_nonce`, and Discord hands back the message it
    already made instead of a second one."""
    dora = fake_discord.add_user("dora")
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 3)
        add_person(s, "dora", identities=[f"discord:{dora.id}"], roles=["contractor"])
    async with running(fake_discord, store, monkeypatch) as (_, adapter):
        adapter.port.timeout = aiohttp.ClientTimeout(total=1)  # 30 s in production
        fake_discord.stall_next("POST /channels/{channel_id}/messages", 2.5)
        await fake_discord.slash_command(dora, "hdops", ["next"])
        await until(lambda: bool(_task_rows(store)) and _task_rows(store)[0].status == "sent", 40)
        sends = fake_discord.calls_to("POST", "/channels/{channel_id}/messages")
        assert len(sends) == 2  # timed out, then tried again
        assert len(tasks(fake_discord, dora)) == 1  # one message all the same
        assert not fake_discord.pop_violations()
