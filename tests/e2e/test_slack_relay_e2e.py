"""Relaying what people write in Slack, end to end: the real slack-bolt app on the
fake Slack (Socket Mode and HTTP), the real outbox and store.

rita (researcher) answers alice's question in the clarification thread; alice reads
the answers in the thread of her task message."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from hdops.store.db import Store
from hdops.store.orm import ClarificationMessage
from tests.e2e.slack_system import SlackWorld, slack_world
from tests.fakes.slack.server import FakeSlack
from tests.fakes.slack.workspace import FakeMessage

pytest_plugins = ["tests.fakes.slack.fixtures"]

TRANSPORTS = ["socket", "http"]
LABEL = re.compile(r"^\*(?P<label>[^\n]*)\*\n")


@dataclass
class Asked:
    w: SlackWorld
    task: FakeMessage  # alice's task message; relayed answers arrive in its thread
    post: FakeMessage  # the question in the clarification channel

    def answers(self) -> list[tuple[str, str]]:
        """(label, text) of every relayed answer in alice's task thread, oldest first,
        read back from the blocks as alice sees them (Slack's escapes undone)."""
        fake = self.w.fake
        found = []
        for message in fake.thread(fake.dm_with(self.w.alice), self.task.ts)[1:]:
            sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
            match = LABEL.match(sections[0]) if sections else None
            if match and "(researcher)" in match["label"]:
                body = sections[0][match.end() :] + "".join(sections[1:])
                found.append((_unescape(match["label"]), _unescape(body)))
        return found


def _unescape(text: str) -> str:
    return html.unescape(text)


@asynccontextmanager
async def asked(store: Store, fake: FakeSlack, transport: str) -> AsyncIterator[Asked]:
    async with slack_world(store, fake, transport) as w:
        await fake.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        await fake.slash_command(w.alice, "/hdops", "ask which one is shorter?")
        await w.settle()
        [post] = [m for m in fake.messages(w.clar) if m.thread_ts in (None, m.ts)]
        yield Asked(w, task, post)


def relayed_count(store: Store) -> int:
    with store.unit_of_work() as s:
        return (
            s.scalar(
                select(func.count(ClarificationMessage.id)).where(
                    ClarificationMessage.direction == "to_contractor"
                )
            )
            or 0
        )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_reply_also_sent_to_channel_is_relayed_once(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with asked(store, fake_slack, transport) as q:
        reply = await fake_slack.post_user_message(
            q.w.rita, q.w.clar, "The second one is shorter.", thread_ts=q.post.ts, broadcast=True
        )
        assert reply.acked and [f.acked for f in reply.follow_ups] == [True]
        await q.w.settle()
        assert q.answers() == [("Rita Researcher (researcher)", "The second one is shorter.")]
        assert relayed_count(store) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_image_only_reply_relays_the_file(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with asked(store, fake_slack, transport) as q:
        reply = await fake_slack.post_user_message(
            q.w.rita, q.w.clar, "", thread_ts=q.post.ts, files=["annotated.png"]
        )
        await q.w.settle()
        [file] = reply.payload["event"]["files"]
        [(_, text)] = q.answers()
        assert text == f"File: annotated.png ({file['permalink']})"
        assert not fake_slack.ephemerals(q.w.rita)  # not told "the message is empty"

        await fake_slack.post_user_message(
            q.w.rita, q.w.clar, "Both, see:", thread_ts=q.post.ts, files=["a.pdf", "b.pdf"]
        )
        await q.w.settle()
        text = q.answers()[-1][1]
        assert text.startswith("Both, see:\n\nFile: a.pdf (https://")
        assert "\nFile: b.pdf (https://" in text


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_links_mentions_and_channels_arrive_readable(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with asked(store, fake_slack, transport) as q:
        fake_slack.add_user("nina", "Nina Newcomer")  # in Slack, unknown to hdops
        await fake_slack.post_user_message(
            q.w.rita,
            q.w.clar,
            "Read [the FAQ](https://example.com/faq) or https://example.com/guide, "
            "ask @otto or @nina in #clarifications. A & B <ok> @here",
            thread_ts=q.post.ts,
        )
        await q.w.settle()
        [(_, text)] = q.answers()
        assert text == (
            "Read the FAQ (https://example.com/faq) or https://example.com/guide, "
            "ask @Otto Ops or @nina in #clarifications. A & B <ok> @\u200bhere"
        )
        message = fake_slack.thread(fake_slack.dm_with(q.w.alice), q.task.ts)[-1]
        assert "<@" not in str(message.blocks) and "<!" not in str(message.blocks)
        assert "<https" not in str(message.blocks)
        # and back: the contractor's mention of the researcher reads as her name
        await fake_slack.post_user_message(q.w.alice, None, "Thanks @rita!", thread_ts=q.task.ts)
        await q.w.settle()
        back = fake_slack.thread(q.w.clar, q.post.ts)[-1]
        assert "Thanks @Rita Researcher!" in html.unescape(str(back.blocks))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_ten_thousand_character_reply_arrives_whole(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    paragraph = "A careful answer keeps every caveat & every <detail> in order. " * 16
    long_reply = "\n\n".join(f"{i}. {paragraph}".strip() for i in range(10))
    long_reply = (long_reply + "\n\n" + "x" * 10_000)[:10_000].strip()
    assert len(long_reply) == 10_000
    async with asked(store, fake_slack, transport) as q:
        await fake_slack.post_user_message(q.w.rita, q.w.clar, long_reply, thread_ts=q.post.ts)
        await q.w.settle()
        answers = q.answers()
        count = len(answers)
        assert count >= 6
        assert [label for label, _ in answers] == [
            f"Rita Researcher (researcher) ({n}/{count})" for n in range(1, count + 1)
        ]
        assert "".join(text for _, text in answers) == long_reply
        assert relayed_count(store) == 1
        assert not fake_slack.ephemerals(q.w.rita)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_edits_are_relayed_marked_deletes_are_explained(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with asked(store, fake_slack, transport) as q:
        reply = await fake_slack.post_user_message(
            q.w.rita, q.w.clar, "The first one.", thread_ts=q.post.ts
        )
        await q.w.settle()
        assert reply.message is not None
        await fake_slack.edit_user_message(q.w.rita, reply.message, "The second one, sorry.")
        await q.w.settle()
        assert q.answers() == [
            ("Rita Researcher (researcher)", "The first one."),
            ("Rita Researcher (researcher), edited", "The second one, sorry."),
        ]
        await fake_slack.delete_user_message(q.w.rita, reply.message)
        await q.w.settle()
        assert len(q.answers()) == 2  # nothing unsent, nothing new relayed
        [note] = fake_slack.ephemerals(q.w.rita, q.w.clar)
        assert "does not remove what hdops already relayed" in note.plain_text


async def test_reply_over_slacks_limit_is_refused_with_a_clear_message(
    store: Store, fake_slack: FakeSlack
) -> None:
    async with asked(store, fake_slack, "socket") as q:
        await fake_slack.post_user_message(q.w.rita, q.w.clar, "y" * 40_001, thread_ts=q.post.ts)
        await q.w.settle()
        assert q.answers() == []
        [note] = fake_slack.ephemerals(q.w.rita, q.w.clar)
        assert "too long to relay (40,001 characters; at most 40,000)" in note.plain_text
