"""Naming people and channels in relayed text: hdops' own names first, then Slack's
(users.info, conversations.info) cached, and a message is never held up by a
lookup that fails. A real AsyncWebClient against the fake Slack."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.names import SlackNames
from tests.fakes.slack.server import FakeSlack

pytest_plugins = ["tests.fakes.slack.fixtures"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def names_for(fake: FakeSlack, known: dict[str, str], clock: Clock) -> SlackNames:
    asked: list[list[str]] = []

    async def hdops_names(ids: Sequence[str]) -> dict[str, str]:
        asked.append(list(ids))
        return {i: known[i] for i in ids if i in known}

    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    return SlackNames(client, hdops_names, ttl=600, clock=clock)


async def test_hdops_names_first_then_slacks_cached(fake_slack: FakeSlack) -> None:
    rita = fake_slack.add_user("rita", "Rita Researcher")
    nina = fake_slack.add_user("nina", "Nina Newcomer")
    clock = Clock()
    names = names_for(fake_slack, {rita.id: "Dr Rita R."}, clock)

    text = f"<@{rita.id}> and <@{nina.id}|nina> and <@U0GONE|gone>"
    assert await names.neutral(text) == "@Dr Rita R. and @nina and @gone"
    assert await names.neutral(text) == "@Dr Rita R. and @nina and @gone"
    looked_up = [c.params["user"] for c in fake_slack.calls_to("users.info")]
    assert looked_up.count(nina.id) == 1  # cached
    assert rita.id not in looked_up  # hdops knows her: Slack is not asked
    assert looked_up.count("U0GONE") == 2  # failures are not cached

    clock.now += 601
    await names.neutral(f"<@{nina.id}>")
    assert [c.params["user"] for c in fake_slack.calls_to("users.info")].count(nina.id) == 2


async def test_a_failed_lookup_falls_back_and_the_text_still_arrives(fake_slack: FakeSlack) -> None:
    nina = fake_slack.add_user("nina", "Nina Newcomer")
    names = names_for(fake_slack, {}, Clock())
    fake_slack.fail_next("users.info", status=500, retry_after=None)
    assert await names.neutral(f"ask <@{nina.id}>") == f"ask @{nina.id}"
    assert await names.neutral(f"ask <@{nina.id}>") == "ask @nina"


async def test_channels_without_a_name_are_looked_up_once(fake_slack: FakeSlack) -> None:
    room = fake_slack.add_channel("labelers")
    names = names_for(fake_slack, {}, Clock())
    for _ in range(2):
        assert await names.neutral(f"in <#{room.id}> or <#{room.id}|>") == (
            "in #labelers or #labelers"
        )
    assert await names.neutral(f"in <#{room.id}|old-name>") == "in #old-name"
    assert len(fake_slack.calls_to("conversations.info")) == 1
    assert await names.neutral("in <#C0NOPE>") == "in #C0NOPE"
