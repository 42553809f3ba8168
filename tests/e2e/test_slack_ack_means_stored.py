"""Acknowledged means stored: the moment Slack has the ack for a click, a command or a
thread reply, what it carried is already committed — so a process killed right after
its ack loses nothing Slack was told had arrived (before the ack, Slack still has it
and redelivers). Read at the instant `deliver` returns, before anything else runs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hdops.store.db import Store
from hdops.store.orm import Answer, Clarification, ClarificationMessage
from tests.e2e.slack_system import slack_world
from tests.fakes.slack.server import FakeSlack

pytest_plugins = ["tests.fakes.slack.fixtures"]


def _count(store: Store, what: object) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("transport", ["socket", "http"])
async def test_the_ack_comes_after_the_commit(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with slack_world(store, fake_slack, transport) as w:
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)

        asked = await fake_slack.slash_command(w.alice, "/hdops", "ask which one is shorter?")
        assert asked.acked and _count(store, Clarification) == 1
        await w.settle()
        [post] = [m for m in fake_slack.messages(w.clar) if m.thread_ts in (None, m.ts)]

        reply = await fake_slack.post_user_message(
            w.rita, w.clar, "The second one.", thread_ts=post.ts
        )
        assert reply.acked
        with store.read() as s:
            relayed = s.scalar(
                select(func.count()).where(ClarificationMessage.direction == "to_contractor")
            )
        assert relayed == 1

        clicked = await fake_slack.click_button(w.alice, task, "A is better")
        assert clicked.acked and _count(store, Answer) == 1
        await w.settle()
