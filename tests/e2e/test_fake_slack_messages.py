"""FakeSlack's own tests for what a person writes: markup as the composer makes it,
replies also sent to the channel, file shares, edits and deletes, each shaped like
the real payload samples (tests/specs/slack/samples/events) and read by a minimal
bolt app over Socket Mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack
from tests.fakes.slack.bolt_apps import connected_over_socket_mode
from tests.fakes.slack.specs import sample

pytest_plugins = ["tests.fakes.slack.fixtures"]

MESSAGE_KEYS = set(sample("events/MessagePayload.json")["event"])


def sample_keys(name: str, *inner: str) -> set[str]:
    event = sample(f"events/{name}.json")["event"]
    for key in inner:
        event = event[key]
    return set(event)


@pytest.fixture
async def seen(fake_slack: FakeSlack) -> AsyncIterator[list[dict[str, Any]]]:
    """Message events as a bolt app receives them (over Socket Mode)."""
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    app = AsyncApp(client=client, signing_secret=fake_slack.signing_secret)
    events: list[dict[str, Any]] = []

    @app.event("message")
    async def on_message(event: dict[str, Any]) -> None:
        events.append(event)

    async with connected_over_socket_mode(fake_slack, app):
        yield events


async def test_typed_links_mentions_and_channels_become_markup(
    fake_slack: FakeSlack, seen: list[dict[str, Any]]
) -> None:
    alice = fake_slack.add_user("alice")
    bob = fake_slack.add_user("bob", "Bob Lee")
    room = fake_slack.add_channel("labelers")
    said = await fake_slack.post_user_message(
        alice,
        room,
        "@bob see [the FAQ](https://example.com/faq?a=1&b=2), https://example.com/x. "
        "in #labelers @here; mail bob@example.com #nochannel & <3",
    )
    assert said.acked and said.message is not None
    assert said.message.text == (
        f"<@{bob.id}> see <https://example.com/faq?a=1&amp;b=2|the FAQ>, "
        f"<https://example.com/x>. in <#{room.id}|labelers> <!here>; "
        "mail bob@example.com #nochannel &amp; &lt;3"
    )
    elements = said.message.blocks[0]["elements"][0]["elements"]
    kinds = [e["type"] for e in elements]
    assert kinds.count("link") == 2 and "user" in kinds and "channel" in kinds
    assert {"type": "broadcast", "range": "here"} in elements
    await fake_slack.wait_for(lambda: seen)
    assert seen[-1]["text"] == said.message.text


async def test_reply_also_sent_to_channel(
    fake_slack: FakeSlack, seen: list[dict[str, Any]]
) -> None:
    rita = fake_slack.add_user("rita")
    room = fake_slack.add_channel("clarifications")
    top = await fake_slack.post_user_message(rita, room, "Question?")
    assert top.message is not None
    with pytest.raises(ValueError):
        await fake_slack.post_user_message(rita, room, "not in a thread", broadcast=True)

    reply = await fake_slack.post_user_message(
        rita, room, "Answer for everyone", thread_ts=top.message.ts, broadcast=True
    )
    event = reply.payload["event"]
    assert event["subtype"] == "thread_broadcast" and event["thread_ts"] == top.message.ts
    assert event["root"]["ts"] == top.message.ts and event["root"]["text"] == "Question?"
    assert "parent_user_id" not in event
    assert set(event) <= sample_keys("MessageThreadBroadcastPayload") | {"team"}
    assert set(event["root"]) <= sample_keys("MessageThreadBroadcastPayload", "root") | {
        "blocks",
        "client_msg_id",
    }
    # Slack follows a broadcast with a message_changed of the same message (no `edited`)
    [follow_up] = reply.follow_ups
    changed = follow_up.payload["event"]
    assert changed["subtype"] == "message_changed"
    assert changed["message"]["ts"] == event["ts"] and "edited" not in changed["message"]
    assert changed["message"]["subtype"] == "thread_broadcast"
    assert set(changed) <= sample_keys("MessageChangedPayload")
    await fake_slack.wait_for(lambda: len(seen) >= 3)
    assert [e.get("subtype") for e in seen] == [None, "thread_broadcast", "message_changed"]


async def test_file_share_with_and_without_text(
    fake_slack: FakeSlack, seen: list[dict[str, Any]]
) -> None:
    rita = fake_slack.add_user("rita")
    room = fake_slack.add_channel("clarifications")
    top = await fake_slack.post_user_message(rita, room, "Question?")
    assert top.message is not None
    only = await fake_slack.post_user_message(
        rita, room, "", thread_ts=top.message.ts, files=["example.png"]
    )
    event = only.payload["event"]
    assert event["subtype"] == "file_share" and event["text"] == ""
    assert event["thread_ts"] == top.message.ts and "client_msg_id" not in event
    assert set(event) <= sample_keys("MessageFileSharePayload") | {"team"}
    [file] = event["files"]
    file_keys = set(sample("events/MessageFileSharePayload.json")["event"]["files"][0])
    assert set(file) <= file_keys
    assert file["name"] == "example.png" and file["mimetype"] == "image/png"
    assert file["permalink"].startswith("https://") and file["url_private"].endswith("example.png")

    both = await fake_slack.post_user_message(
        rita,
        room,
        "See the notes",
        thread_ts=top.message.ts,
        files=["notes.pdf", {"name": "gone.txt", "mode": "tombstone"}],
    )
    files = both.payload["event"]["files"]
    assert [f["name"] for f in files] == ["notes.pdf", "gone.txt"]
    assert files[0]["mimetype"] == "application/pdf" and files[1]["mode"] == "tombstone"
    assert both.payload["event"]["text"] == "See the notes"


async def test_edit_and_delete(fake_slack: FakeSlack, seen: list[dict[str, Any]]) -> None:
    rita = fake_slack.add_user("rita")
    bob = fake_slack.add_user("bob")
    room = fake_slack.add_channel("clarifications")
    top = await fake_slack.post_user_message(rita, room, "Question?")
    assert top.message is not None
    reply = await fake_slack.post_user_message(rita, room, "First", thread_ts=top.message.ts)
    assert reply.message is not None
    with pytest.raises(LookupError):
        await fake_slack.edit_user_message(bob, reply.message, "not his")

    edit = await fake_slack.edit_user_message(rita, reply.message, "Second, see @bob")
    event = edit.payload["event"]
    assert set(event) == sample_keys("MessageChangedPayload")
    assert event["message"]["text"] == f"Second, see <@{bob.id}>"
    assert event["message"]["edited"]["user"] == rita.id
    assert event["message"]["thread_ts"] == top.message.ts
    assert event["previous_message"]["text"] == "First"
    assert "edited" not in event["previous_message"]
    assert set(event["message"]) <= sample_keys("MessageChangedPayload", "message")

    gone = await fake_slack.delete_user_message(rita, reply.message)
    event = gone.payload["event"]
    assert set(event) == sample_keys("MessageDeletedPayload")
    assert event["deleted_ts"] == reply.message.ts
    assert event["previous_message"]["text"] == f"Second, see <@{bob.id}>"
    assert reply.message not in fake_slack.messages(room)
    with pytest.raises(LookupError):
        await fake_slack.delete_user_message(rita, reply.message)
    await fake_slack.wait_for(lambda: len(seen) >= 4)
    assert [e.get("subtype") for e in seen[-2:]] == ["message_changed", "message_deleted"]
