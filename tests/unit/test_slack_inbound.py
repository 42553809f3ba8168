"""Which Slack message events are a person's words in a thread, and reading the
fields listeners need without ever raising anything but `Unreadable`."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.slack import inbound
from bots.slack.inbound import ThreadDeletion, ThreadPost, Unreadable
from hdops.domain.relay import SharedFile


def reply(**extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "user": "U0RITA",
        "text": "The second.",
        "ts": "1700000000.000300",
        "thread_ts": "1700000000.000100",
        "channel": "C0CLAR",
        **extra,
    }


def test_replies_broadcasts_file_shares_and_me_messages_are_posts() -> None:
    assert inbound.thread_message(reply()) == ThreadPost(
        "U0RITA", "C0CLAR", "1700000000.000100", "The second."
    )
    assert inbound.thread_message(reply(subtype="thread_broadcast")) is not None
    assert inbound.thread_message(reply(subtype="me_message")) is not None
    shared = inbound.thread_message(
        reply(
            subtype="file_share",
            text="",
            files=[
                {"name": "a.png", "title": "A", "permalink": "https://p/a", "url_private": "u"},
                {"title": "only a title", "url_private": "https://u/b"},
                {"id": "F1", "mode": "tombstone"},
                "not a file",
            ],
        )
    )
    assert isinstance(shared, ThreadPost) and shared.text == ""
    assert shared.files == (
        SharedFile("a.png", "https://p/a"),
        SharedFile("only a title", "https://u/b"),
        SharedFile("a file", None),
    )


@pytest.mark.parametrize(
    "event",
    [
        reply(thread_ts=None),  # top level
        reply(thread_ts="1700000000.000300"),  # the thread's parent itself
        reply(bot_id="B0BOT"),
        reply(subtype="bot_message"),
        reply(subtype="channel_join"),
        reply(subtype="message_replied"),
    ],
)
def test_other_messages_are_not_posts(event: dict[str, Any]) -> None:
    assert inbound.thread_message(event) is None


def changed(message: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C0CLAR",
        "message": message,
        "ts": "1700000000.000900",
    }
    if previous is not None:
        event["previous_message"] = previous
    return event


def test_an_edit_is_a_post_marked_edited() -> None:
    edited = {**reply(text="The first."), "edited": {"user": "U0RITA", "ts": "1700000000.0005"}}
    post = inbound.thread_message(changed(edited, reply()))
    assert post == ThreadPost(
        "U0RITA", "C0CLAR", "1700000000.000100", "The first.", (), edited=True
    )
    assert inbound.thread_message(changed(edited, None)) is not None  # no previous: relay


@pytest.mark.parametrize(
    ("message", "previous"),
    [
        (reply(text="new text"), reply()),  # no `edited`: Slack's own update
        (reply(text="new text"), None),  # … even without a previous version
        ({**reply(), "edited": {"ts": "1"}}, reply()),  # edited but the same text and files
        ({**reply(bot_id="B0BOT", text="x"), "edited": {"ts": "1"}}, reply()),
        ({**reply(thread_ts=None, text="x"), "edited": {"ts": "1"}}, reply(thread_ts=None)),
    ],
)
def test_updates_that_are_not_edits_in_a_thread_are_not_relayed(
    message: dict[str, Any], previous: dict[str, Any] | None
) -> None:
    assert inbound.thread_message(changed(message, previous)) is None


def test_a_deleted_reply_is_a_deletion_other_deletes_are_nothing() -> None:
    deleted = {"type": "message", "subtype": "message_deleted", "channel": "C0CLAR"}
    assert inbound.thread_message({**deleted, "previous_message": reply()}) == ThreadDeletion(
        "U0RITA", "C0CLAR", "1700000000.000100"
    )
    assert inbound.thread_message(deleted) is None
    assert inbound.thread_message({**deleted, "previous_message": reply(bot_id="B1")}) is None
    assert inbound.thread_message({**deleted, "previous_message": reply(thread_ts=None)}) is None


@pytest.mark.parametrize(
    ("event", "missing"),
    [
        ({k: v for k, v in reply().items() if k != "channel"}, "channel"),
        ({k: v for k, v in reply().items() if k != "user"}, "user"),
        (reply(text=["not", "text"]), "text"),
        (changed("not a message", None), "message"),  # type: ignore[arg-type]
    ],
)
def test_a_thread_reply_missing_what_relaying_needs_is_unreadable(
    event: dict[str, Any], missing: str
) -> None:
    with pytest.raises(Unreadable) as raised:
        inbound.thread_message(event)
    assert raised.value.missing == missing


def test_clicks_commands_and_submissions_name_what_is_missing() -> None:
    with pytest.raises(Unreadable, match=re.escape("user.id")):
        inbound.click({"actions": [{"action_id": "hd:x"}]})
    with pytest.raises(Unreadable, match=re.escape("actions.0")):
        inbound.click({"user": {"id": "U1"}, "actions": []})
    with pytest.raises(Unreadable, match=re.escape("selected_option.value")):
        inbound.click(
            {"user": {"id": "U1"}, "actions": [{"action_id": "a", "selected_option": {}}]}
        )
    with pytest.raises(Unreadable, match="user_id"):
        inbound.command({"command": "/hdops", "text": "next"})
    with pytest.raises(Unreadable, match=re.escape("view.state.values")):
        inbound.submission({"user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "hd:f"}})
    with pytest.raises(Unreadable, match=re.escape("view.state.values")):
        inbound.submission(
            {"user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "c", "state": {"values": 3}}}
        )


def test_a_whole_click_is_read() -> None:
    click = inbound.click(
        {
            "user": {"id": "U1"},
            "trigger_id": "t",
            "container": {"channel_id": "D1"},
            "actions": [
                {"action_id": "hd:a", "action_ts": "5", "selected_options": [{"value": "x"}]}
            ],
        }
    )
    assert click == inbound.Click("U1", "hd:a", ["x"], "5", "D1", "t")


def test_logs_describe_payloads_without_values() -> None:
    body = {"type": "block_actions", "token": "secret-verification-token", "user": {"id": "U1"}}
    described = inbound.describe(body)
    assert "block_actions" in described and "token" in described
    assert "secret" not in described


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=6,
)
keys = st.sampled_from(
    [
        "type",
        "subtype",
        "user",
        "channel",
        "text",
        "ts",
        "thread_ts",
        "message",
        "files",
        "previous_message",
        "edited",
        "bot_id",
        "actions",
        "view",
        "state",
        "values",
        "id",
        "callback_id",
        "user_id",
        "action_id",
        "selected_option",
        "value",
        "0",
    ]
)
payloads = st.recursive(
    json_values,
    lambda inner: st.dictionaries(keys, inner, max_size=8) | st.lists(inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, payloads, max_size=8))
def test_readers_raise_nothing_but_unreadable(body: dict[str, Any]) -> None:
    for read in (inbound.thread_message, inbound.click, inbound.command, inbound.submission):
        with contextlib.suppress(Unreadable):
            read(body)
    inbound.asker(body)
    inbound.describe(body)
