"""Delivery under Slack's rate limits, end to end: the real slack-bolt app and the
real outbox loop against the fake Slack with its limits on (about one message a
second per channel, method tiers, 429 with Retry-After)."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import select

from hdops.store.db import Store
from hdops.store.orm import Clarification, OutboxMessage
from tests.conftest import ON_POSTGRES
from tests.e2e.slack_system import slack_world
from tests.fakes.slack.server import FakeSlack

pytest_plugins = ["tests.fakes.slack.fixtures"]

QUESTION = re.compile(r"Question #(\d+) ")
# Enough to queue well past the channel's burst of three (one post a second after).
ASKERS = 24


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_a_crowd_of_questions_at_once_are_all_posted_in_order(store: Store) -> None:
    """ASKERS contractors ask at the same moment; the clarification channel takes about
    one post a second (so the test takes about ASKERS seconds). Every question is
    posted, in the order they were asked, none is marked failed, and ops hear nothing
    (nothing is past the maximum age)."""
    fake = await FakeSlack().start()  # strict: Slack's rate limits on
    try:
        async with slack_world(store, fake, crowd=ASKERS, items=ASKERS + 10, overlap=1) as w:
            await asyncio.gather(*(fake.slash_command(c, "/hdops", "next") for c in w.crowd))
            await w.settle()
            assert all(w.tasks(c) for c in w.crowd)  # nobody left without work
            asked = await asyncio.gather(
                *(fake.slash_command(c, "/hdops", f"ask question from {c.name}") for c in w.crowd)
            )
            assert all(d.acked for d in asked)

            def posted() -> list[int]:
                heads = [QUESTION.search(str(m.blocks)) for m in fake.messages(w.clar)]
                return [int(h.group(1)) for h in heads if h]

            await fake.wait_for(lambda: len(posted()) >= ASKERS, timeout=150)
            await w.settle()
            with store.read() as s:
                asked_order = list(s.scalars(select(Clarification.id).order_by(Clarification.id)))
                statuses = set(s.scalars(select(OutboxMessage.status)))
            assert len(asked_order) == ASKERS and sorted(posted()) == asked_order
            if not ON_POSTGRES:
                # SQLite commits one writer at a time, so the order the questions were
                # stored in is the order they were asked, and the channel shows that
                # order. (On PostgreSQL questions asked at the same moment commit in
                # any order; each lane still sends in the order rows became visible.)
                assert posted() == asked_order
            assert statuses == {"sent"}
            assert not [m for m in fake.messages(w.ops) if "not delivered" in str(m.blocks)]
            throttled = [c for c in fake.calls if c.status == 429]
            posts = fake.calls_to("chat.postMessage")
            # The pacer kept us (almost) inside the limit: 429s are rare, not the norm.
            assert len(throttled) <= 5, [(c.method, c.params.get("channel")) for c in throttled]
            assert len([c for c in posts if c.ok]) >= ASKERS
        problems = [v for v in fake.violations]
        assert not problems, problems
    finally:
        await fake.stop()


async def test_the_clicked_message_is_edited_through_its_response_url(
    store: Store, fake_slack: FakeSlack
) -> None:
    """The "Recorded" edit uses the click's response_url, not the Tier 3 chat.update."""
    async with slack_world(store, fake_slack) as w:
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        await fake_slack.click_button(w.alice, task, "A is better")
        await w.settle()
        edited = next(m for m in w.dm(w.alice) if m.ts == task.ts)
        assert "Recorded: A is better" in str(edited.blocks)
        assert fake_slack.calls_to("chat.update") == []
        [used] = fake_slack.calls_to("response_url")
        assert used.params.get("replace_original") is True


async def test_a_refused_response_url_falls_back_to_chat_update(
    store: Store, fake_slack: FakeSlack
) -> None:
    from bots.slack.response_urls import ResponseUrls
    from hdops.chat import Message, Paragraph
    from hdops.ports import SentRef

    async with slack_world(store, fake_slack) as w:
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        # A click whose edit the bot has not sent yet: keep its URL, then let it age.
        port = w.adapter.port
        port.response_urls = ResponseUrls()
        url = fake_slack.payloads.response_url(
            {"kind": "action", "channel": task.channel, "user": w.alice.id, "message_ts": task.ts}
        )
        port.response_urls.remember(task.channel, task.ts, url)
        fake_slack.clock.advance(31 * 60)  # Slack refuses a response_url after 30 minutes
        text = "Edited after the URL expired"
        await port.edit(
            SentRef(task.channel, task.ts), Message(text=text, parts=[Paragraph(text=text)])
        )
        assert [v.method for v in fake_slack.pop_violations()] == ["response_url"]
        assert len(fake_slack.calls_to("chat.update")) == 1
        edited = next(m for m in w.dm(w.alice) if m.ts == task.ts)
        assert text in str(edited.blocks)
