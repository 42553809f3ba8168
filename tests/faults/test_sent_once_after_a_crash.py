"""A process that posted a message and died before recording it: the next one asks
the platform before posting again, so the message appears once (issue 11, 10)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hdops import intents
from hdops.chat import Message, Paragraph
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.ports import Send
from hdops.services.delivery import Deliverer
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.orm import MessageRef, OutboxMessage
from tests.fakes.slack.server import FakeSlack
from tests.helpers import T0
from tests.integration.test_delivery import ScriptedPort

pytest_plugins = ["tests.fakes.slack.fixtures"]
CLAR = {"slack": "C0CLAR"}


def _msg(text: str) -> Message:
    return Message(text=text, parts=[Paragraph(text=text)])


def _dies_before_recording(d: Deliverer, monkeypatch: pytest.MonkeyPatch) -> None:
    async def never_recorded(batch: object) -> bool:
        return False  # the process is gone: nothing reaches the store

    monkeypatch.setattr(d, "_record_with_retries", never_recorded)


async def test_posted_then_died_is_found_not_posted_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(T0)
    port = ScriptedPort()
    with store.unit_of_work() as s:
        intents.to_channels(s, CLAR, _msg("question 7"), T0, ref="clar:7")
    first = Deliverer(store, {"slack": port}, Settings(), clock)
    _dies_before_recording(first, monkeypatch)
    await first.deliver_due()
    assert [c.text for c in port.calls] == ["question 7"]  # posted, never recorded
    with store.read() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert (row.status, row.sending) == ("pending", True)

    clock.advance(timedelta(seconds=outbox.CLAIM_SECONDS + 1))  # its claim ran out
    second = Deliverer(store, {"slack": port}, Settings(), clock)
    await second.deliver_due()
    assert [c.text for c in port.calls] == ["question 7"]  # still once
    assert port.lookups == 1
    with store.read() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert (row.status, row.sending) == ("sent", False)
        ref = s.scalars(select(MessageRef)).one()  # replies will find the question
        assert (ref.key, ref.message_id) == ("clar:7", port.calls[0].ref.message_id)


async def test_died_before_posting_is_posted_once(store: Store) -> None:
    clock = FakeClock(T0)
    port = ScriptedPort()
    with store.unit_of_work() as s:
        intents.to_channels(s, CLAR, _msg("question 8"), T0)
        # claimed by a process that died before it reached Slack
        outbox.claim_due(s, T0, T0 + timedelta(seconds=outbox.CLAIM_SECONDS))
    clock.advance(timedelta(seconds=outbox.CLAIM_SECONDS + 1))
    await Deliverer(store, {"slack": port}, Settings(), clock).deliver_due()
    assert [c.text for c in port.calls] == ["question 8"] and port.lookups == 1


async def test_a_row_sent_normally_is_never_looked_up(store: Store) -> None:
    port = ScriptedPort()
    with store.unit_of_work() as s:
        intents.to_channels(s, CLAR, _msg("q"), T0)
    await Deliverer(store, {"slack": port}, Settings(), FakeClock(T0)).deliver_due()
    assert port.lookups == 0


async def test_slack_finds_its_own_messages_by_their_tag(fake_slack: FakeSlack) -> None:
    """The real Slack port on the fake Slack: posts carry the outbox key as message
    metadata, and `find_sent` reads it back from the channel, a DM and a thread."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bots.slack.port import SlackPort

    alice = fake_slack.add_user("alice")
    clar = fake_slack.add_channel("clarifications")
    port = SlackPort(AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url))
    try:
        posted = await port.post_channel(clar.id, _msg("question"), key="41")
        await port.post_channel(clar.id, _msg("another"), key="40")
        dm = await port.send_dm(alice.id, _msg("your task"), key="42")
        reply = await port.post_thread(posted, _msg("a reply"), key="43")
        assert await port.find_sent(Send("slack", "post", clar.id, ""), "41") == posted
        assert await port.find_sent(Send("slack", "dm", "", alice.id), "42") == dm
        assert (
            await port.find_sent(Send("slack", "thread", clar.id, posted.message_id), "43") == reply
        )
        assert await port.find_sent(Send("slack", "post", clar.id, ""), "44") is None
    finally:
        await port.aclose()
