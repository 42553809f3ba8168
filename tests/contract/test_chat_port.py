"""The ChatPort contract: every chat port behaves the same where the core relies on it.

Run against each port (the local chat; Slack through the real slack_sdk client
and `SlackPort` against the strict fake Slack; `DiscordPort` against the strict
fake Discord),
the way APScheduler runs one suite against every job store. What the outbox
delivery loop assumes of a port is written down here once: where a message
lands, that a thread reply stays in its thread, that an edit replaces, that a
message posted with a key can be found again after a crash, and how failures
are reported (permanent vs throttled).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hdops.chat import Message, Paragraph
from hdops.ports import DeliveryError, Send
from tests.contract.worlds import DiscordWorld, LocalWorld, SlackWorld, World
from tests.fakes.discord.server import FakeDiscord
from tests.fakes.slack.server import FakeSlack

pytest_plugins = ["tests.fakes.slack.fixtures", "tests.fakes.discord.fixtures"]

PORTS = ["local", "slack", "discord"]


@pytest.fixture(params=PORTS)
async def world(
    request: pytest.FixtureRequest, fake_slack: FakeSlack, fake_discord: FakeDiscord
) -> AsyncIterator[World]:
    """(The fakes start for every port: they are cheap, and it keeps this fixture
    free of async fixture lookups.)"""
    made: World
    if request.param == "slack":
        made = SlackWorld(fake_slack)
    elif request.param == "discord":
        made = DiscordWorld(fake_discord)
    else:
        made = LocalWorld()
    try:
        yield made
    finally:
        await made.close()


def _msg(text: str) -> Message:
    return Message(text=text, parts=[Paragraph(text=text)])


def _needs(world: World, capability: str) -> None:
    if capability not in world.can:
        pytest.skip(f"this platform has no {capability}")


async def test_a_dm_reaches_the_person_and_names_its_channel(world: World) -> None:
    alice = world.user("alice")
    first = await world.port.send_dm(alice, _msg("Your first task"))
    again = await world.port.send_dm(alice, _msg("Your second task"), dm_channel=first.channel)
    assert again.channel == first.channel  # the cached DM channel is the same place
    assert first.message_id != again.message_id
    assert world.dm(alice) == ["Your first task", "Your second task"]


async def test_a_thread_reply_stays_in_its_thread(world: World) -> None:
    room = world.channel("clarifications")
    parent = await world.port.post_channel(room, _msg("alice asks: is a tie allowed?"))
    reply = await world.port.post_thread(parent, _msg("rita (researcher): yes"))
    # (Where the reply lives is the port's business: Slack's is in the parent's
    # channel, Discord's in the thread channel; an edit uses the returned ref.)
    await world.port.edit(reply, _msg("rita (researcher): yes, ties are fine"))
    assert world.top_level(room) == ["alice asks: is a tie allowed?"]
    assert world.thread(parent) == ["rita (researcher): yes, ties are fine"]


async def test_a_reply_under_a_direct_message_stays_with_it(world: World) -> None:
    """The task thread of a DM'd task: Slack and the local chat thread it; Discord,
    which has no threads in DMs, quotes the task message."""
    alice = world.user("alice")
    task = await world.port.send_dm(alice, _msg("Task 1: pick A or B"))
    await world.port.post_thread(task, _msg("rita (researcher): either is fine"))
    assert world.dm(alice) == ["Task 1: pick A or B"]
    assert world.thread(task) == ["rita (researcher): either is fine"]


async def test_an_edit_replaces_the_message_in_place(world: World) -> None:
    alice = world.user("alice")
    ref = await world.port.send_dm(alice, _msg("Task 1: pick A or B"))
    await world.port.edit(ref, _msg("Task 1: answered B"))
    assert world.dm(alice) == ["Task 1: answered B"]


async def test_editing_a_message_that_does_not_exist_is_permanent(world: World) -> None:
    alice = world.user("alice")
    ref = await world.port.send_dm(alice, _msg("hello"))
    missing = type(ref)(ref.channel, ref.message_id + "9")
    with pytest.raises(DeliveryError) as info:
        await world.port.edit(missing, _msg("changed"))
    assert info.value.permanent and not info.value.throttled


async def test_a_dm_to_someone_who_left_is_permanent(world: World) -> None:
    bob = world.user("bob")
    world.gone(bob)
    with pytest.raises(DeliveryError) as info:
        await world.port.send_dm(bob, _msg("hello"))
    assert info.value.permanent and not info.value.throttled


async def test_a_message_posted_with_a_key_is_found_again(world: World) -> None:
    _needs(world, "find_sent")
    alice = world.user("alice")
    room = world.channel("ops")
    dm = await world.port.send_dm(alice, _msg("statement"), key="41")
    post = await world.port.post_channel(room, _msg("summary"), key="42")
    reply = await world.port.post_thread(post, _msg("chart"), key="43")

    assert await world.port.find_sent(Send(world.port.platform, "dm", "", alice), "41") == dm
    assert await world.port.find_sent(Send(world.port.platform, "post", room, ""), "42") == post
    thread = Send(world.port.platform, "thread", post.channel, post.message_id)
    assert await world.port.find_sent(thread, "43") == reply
    assert await world.port.find_sent(Send(world.port.platform, "post", room, ""), "44") is None


async def test_delivering_again_after_a_crash_shows_the_message_once(world: World) -> None:
    """What the delivery loop does with a row a dead process may have sent: ask the
    platform (`find_sent`), and post only if it says no. Whether the port finds the
    message or the platform deduplicates the repeated post (Discord's nonce), the
    person sees it once."""
    alice = world.user("alice")
    room = world.channel("ops")
    first = await world.port.post_channel(room, _msg("summary"), key="77")
    dm = await world.port.send_dm(alice, _msg("statement"), key="78")
    post = Send(world.port.platform, "post", room, "")
    again = await world.port.find_sent(post, "77") or await world.port.post_channel(
        room, _msg("summary"), key="77"
    )
    direct = Send(world.port.platform, "dm", dm.channel, alice)
    dm_again = await world.port.find_sent(direct, "78") or await world.port.send_dm(
        alice, _msg("statement"), dm_channel=dm.channel, key="78"
    )
    assert (again, dm_again) == (first, dm)
    assert world.top_level(room) == ["summary"]
    assert world.dm(alice) == ["statement"]


async def test_rate_limits_are_reported_as_throttling_with_a_wait(world: World) -> None:
    _needs(world, "throttle")
    room = world.channel("ops")
    world.throttle_next_post(retry_after=7)
    with pytest.raises(DeliveryError) as info:
        await world.port.post_channel(room, _msg("summary"))
    assert info.value.throttled and not info.value.permanent
    assert info.value.retry_after == 7
    assert world.top_level(room) == []
    await world.port.post_channel(room, _msg("summary"))  # after the wait it goes through
    assert world.top_level(room) == ["summary"]


async def test_rates_are_keyed_by_platform(world: World) -> None:
    """Limits are (key, rate) pairs whose keys start with the platform, so two
    platforms' buckets never mix in the shared pacer; a platform that rate-limits
    declares at least one limit for posting."""
    room = world.channel("ops")
    declared = []
    for op in ("dm", "post", "thread", "edit"):
        for key, rate in world.port.rates(Send(world.port.platform, op, room, "1")):
            assert key.startswith(world.port.platform + ":"), key
            assert rate.per_second > 0 and rate.burst >= 1
            declared.append((op, key))
    if "throttle" in world.can:
        assert any(op == "post" for op, _ in declared)
