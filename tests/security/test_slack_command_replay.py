"""Issue 11, point 4: a signed slash command replayed runs once.

Before: the same signed `/hdops payouts adjust` sent three times within five
minutes (inside the signature's validity window) booked three adjustments. Slash
commands are now deduplicated like events and clicks (`processed_events`), by
Slack's `trigger_id`; a replay changes nothing and gets no second reply."""

from __future__ import annotations

import urllib.parse

import aiohttp
import pytest
from sqlalchemy import select

from bots.slack import inbound
from bots.slack.app import command_event_id
from hdops.store.db import Store
from hdops.store.orm import Adjustment
from tests.e2e.slack_system import slack_world
from tests.fakes.slack.server import FakeSlack
from tests.fakes.slack.signing import signed_headers

pytest_plugins = ["tests.fakes.slack.fixtures"]

ADJUST = "payouts adjust alice 5 --reason bonus"


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_the_same_signed_payouts_adjust_sent_three_times_books_one_adjustment(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with slack_world(store, fake_slack, transport) as w:
        otto = fake_slack.ws.user(w.otto)
        payload = fake_slack.payloads.slash_command(
            otto, "/hdops", ADJUST, fake_slack.ws.dm_with(otto)
        )
        if transport == "http":
            # The very same bytes and headers, as an eavesdropper would replay them.
            body = urllib.parse.urlencode(payload).encode()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **signed_headers(fake_slack.signing_secret, body),
            }
            async with aiohttp.ClientSession() as http:
                for _ in range(3):
                    async with http.post(fake_slack.app_url, data=body, headers=headers) as resp:
                        assert resp.status == 200
        else:
            for _ in range(3):
                assert (await fake_slack.deliver("slash_commands", payload)).acked
        await w.settle()
        with store.read() as s:
            booked = s.scalars(select(Adjustment)).all()
        assert [(a.amount, a.reason) for a in booked] == [(5, "bonus")]
        assert len(fake_slack.ephemerals(w.otto)) == 1  # one answer, none for the replays

        # A new invocation of the same command (its own trigger_id) is booked.
        await fake_slack.slash_command(w.otto, "/hdops", ADJUST)
        await w.settle()
        with store.read() as s:
            assert len(s.scalars(select(Adjustment)).all()) == 2


def test_without_a_trigger_id_the_signed_timestamp_tells_a_replay_from_a_new_command() -> None:
    body = {"user_id": "U1", "command": "/hdops", "text": ADJUST}
    cmd = inbound.command(body)
    assert cmd.trigger_id is None
    first = command_event_id(cmd, body, "1700000000")
    assert first is not None
    assert command_event_id(cmd, dict(body), "1700000000") == first
    assert command_event_id(cmd, body, "1700000001") != first
    assert command_event_id(cmd, body, None) is None
