"""`hdops chat` beside `hdops run`: a message goes only to the platform it was
addressed to, and only a process serving that platform sends it (issue 11, 1)."""

from __future__ import annotations

from sqlalchemy import select

from bots.local.platform import LocalChat
from bots.runtime import bootstrap
from hdops import intents
from hdops.chat import Message, Paragraph
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.services.people import add_person
from hdops.store.db import Store
from hdops.store.orm import OutboxMessage
from tests.helpers import T0, add_items, make_project
from tests.integration.test_delivery import ScriptedPort


def _alice_on_slack_and_console(store: Store) -> None:
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 4)
        add_person(s, "alice", identities=["slack:U0ALICE", "console:alice"], roles=["contractor"])


def _rows(store: Store) -> list[OutboxMessage]:
    with store.read() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_the_terminal_never_takes_a_message_addressed_to_slack(store: Store) -> None:
    _alice_on_slack_and_console(store)
    clock = FakeClock(T0)
    settings = Settings(slack_bot_token="xoxb-x", slack_ops_channel="C0OPS")
    # `hdops chat` runs beside the Slack bot: it serves the console only.
    terminal = bootstrap(settings, store, [LocalChat], clock, claims_unaddressed=False)
    chat = terminal.port("console")
    assert isinstance(chat, LocalChat)
    port = ScriptedPort()
    bot = bootstrap(settings, store, [port], clock)
    bot.core.command("slack:U0ALICE", "next", None, "slack")  # alice works on Slack
    with store.unit_of_work() as s:
        intents.to_ops(s, Message(text="digest", parts=[Paragraph(text="digest")]), T0)
    assert await terminal.deliverer.deliver_due() == 0
    assert chat.messages == {}
    assert {(r.status, r.attempts, r.next_attempt_at) for r in _rows(store)} == {
        ("pending", 0, T0)
    }  # untouched: not even claimed, so the bot is not kept waiting
    # The Slack bot sends both: the task to alice's DM, the digest to the ops channel.
    assert await bot.deliverer.deliver_due() == 2
    assert [(c.op, c.channel) for c in port.calls] == [("dm", "D-U0ALICE"), ("post", "C0OPS")]


async def test_messages_follow_the_platform_the_person_used_last(store: Store) -> None:
    _alice_on_slack_and_console(store)
    clock = FakeClock(T0)
    core = bootstrap(Settings(), store, clock=clock).core
    core.command("slack:U0ALICE", "next", None, "slack")
    core.command("console:alice", "pause", None, "console")  # now in the terminal
    core.command("console:alice", "next", None, "console")
    platforms = [r.platform for r in _rows(store)]
    assert platforms[0] == "slack" and platforms[-1] == "console", platforms


async def test_a_terminal_alone_shows_ops_notices_and_channel_posts(store: Store) -> None:
    clock = FakeClock(T0)
    terminal = bootstrap(Settings(), store, [LocalChat], clock)  # no bot configured
    chat = terminal.port("console")
    assert isinstance(chat, LocalChat)
    with store.unit_of_work() as s:
        intents.to_ops(s, Message(text="digest", parts=[Paragraph(text="digest")]), T0)
    assert await terminal.deliverer.deliver_due() == 1
    assert [m.channel for m in chat.messages.values()] == ["ops"]
