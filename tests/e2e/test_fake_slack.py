"""FakeSlack's own tests: the real slack_sdk and slack-bolt code paths against the fake.

No hdops bot here: a plain AsyncWebClient for the Web API, and a minimal bolt AsyncApp
over Socket Mode and over HTTP for the inbound side.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeMessage, FakeSlack
from tests.fakes.slack.bolt_apps import connected_over_socket_mode, served_over_http
from tests.fakes.slack.rate_limits import (
    POST_MESSAGE_BURST,
    TIER_1_BURST,
    TIER_PER_MINUTE,
    RateLimiter,
    tier_of,
)
from tests.fakes.slack.specs import allowed_errors, sample, specs_dir, web_api_methods
from tests.fakes.slack.workspace import SlackError

pytest_plugins = ["tests.fakes.slack.fixtures"]  # the fake_slack fixture

TASK_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Task 1*: which answer helps more?"}},
    {
        "type": "actions",
        "block_id": "answer",
        "elements": [
            {
                "type": "button",
                "action_id": "hd:answer:1:a",
                "text": {"type": "plain_text", "text": "A is better"},
                "value": "a",
            },
            {
                "type": "button",
                "action_id": "hd:answer:1:b",
                "text": {"type": "plain_text", "text": "B is better"},
                "value": "b",
                "style": "primary",
            },
        ],
    },
]

FORM_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "hd:form:ask",
    "title": {"type": "plain_text", "text": "Ask a question"},
    "submit": {"type": "plain_text", "text": "Send"},
    "private_metadata": json.dumps({"channel": "C1"}),
    "blocks": [
        {
            "type": "input",
            "block_id": "question",
            "label": {"type": "plain_text", "text": "Your question"},
            "element": {
                "type": "plain_text_input",
                "action_id": "text",
                "multiline": True,
                "max_length": 2000,
            },
        },
        {
            "type": "input",
            "block_id": "topic",
            "optional": True,
            "label": {"type": "plain_text", "text": "Topic"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": "Guidelines"}, "value": "guidelines"},
                    {"text": {"type": "plain_text", "text": "Pay"}, "value": "pay"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "tags",
            "optional": True,
            "label": {"type": "plain_text", "text": "Tags"},
            "element": {
                "type": "multi_static_select",
                "action_id": "tags",
                "options": [
                    {"text": {"type": "plain_text", "text": "Urgent"}, "value": "urgent"},
                    {"text": {"type": "plain_text", "text": "Blocking"}, "value": "blocking"},
                ],
            },
        },
    ],
}


PRIVATE_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Is this task clear?"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "hd:private:yes",
                "text": {"type": "plain_text", "text": "Yes"},
            },
            {
                "type": "button",
                "action_id": "hd:private:dismiss",
                "text": {"type": "plain_text", "text": "Dismiss"},
            },
        ],
    },
]


def newest(messages: list[FakeMessage], count: int | None = None) -> FakeMessage | None:
    """The last of `messages` once there are `count` of them (any number if None)."""
    if not messages or (count is not None and len(messages) != count):
        return None
    return messages[-1]


@pytest.fixture
async def client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)


# ----------------------------------------------------------------------------- specs on disk


def test_specs_are_vendored_inside_the_repository() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert specs_dir().resolve().is_relative_to(repo)
    assert (specs_dir() / "slack" / "web-api").is_dir()
    assert "message_ts" in sample("api/chat.postEphemeral.json")


# ----------------------------------------------------------------------------- Web API


async def test_post_update_and_read_back_a_message(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = fake_slack.add_user("alice", "Alice Liddell")
    dm = (await client.conversations_open(users=alice.id))["channel"]["id"]
    posted = await client.chat_postMessage(channel=dm, text="Task 1", blocks=TASK_BLOCKS)
    assert posted["ok"] and posted["channel"] == dm
    assert posted["message"]["bot_id"] == fake_slack.bot.bot_id
    assert set(posted["message"]) >= {"type", "text", "user", "ts", "bot_id", "blocks"}

    updated = await client.chat_update(channel=dm, ts=posted["ts"], text="Task 1: recorded")
    assert updated["ts"] == posted["ts"] and updated["text"] == "Task 1: recorded"

    [message] = fake_slack.messages(dm)
    assert message.text == "Task 1: recorded" and message.edited
    assert message.blocks[1]["elements"][0]["action_id"] == "hd:answer:1:a"  # blocks kept
    assert message.blocks[0]["block_id"]  # Slack fills in missing block ids
    assert "which answer helps more" in message.plain_text

    reply = await client.chat_postMessage(channel=dm, thread_ts=posted["ts"], text="a note")
    assert [m.ts for m in fake_slack.thread(dm, posted["ts"])] == [posted["ts"], reply["ts"]]
    replies = await client.conversations_replies(channel=dm, ts=posted["ts"])
    assert replies["messages"][0]["reply_count"] == 1
    link = await client.chat_getPermalink(channel=dm, message_ts=reply["ts"])
    assert link["permalink"].endswith(reply["ts"].replace(".", ""))
    assert (await client.users_info(user=alice.id))["user"]["real_name"] == "Alice Liddell"
    assert float(reply["ts"]) > float(posted["ts"])


async def test_calls_are_logged_with_their_parameters(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = fake_slack.add_user("alice")
    await client.chat_postMessage(channel=fake_slack.dm_with(alice), text="hi")
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.body == "json" and call.params["text"] == "hi" and call.ok


async def test_the_same_dm_comes_back_for_the_same_person(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    bob = fake_slack.add_user("bob")
    first = await client.conversations_open(users=bob.id)
    again = await client.conversations_open(users=[bob.id])
    assert first["channel"]["id"] == again["channel"]["id"] == fake_slack.dm_with(bob)
    assert first["channel"]["id"].startswith("D") and again["already_open"]


async def test_a_person_who_left_and_an_archived_channel(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    gone = fake_slack.add_user("gone", deleted=True)
    with pytest.raises(SlackApiError) as error:
        await client.conversations_open(users=gone.id)
    assert error.value.response["error"] == "user_disabled"
    assert (await client.users_info(user=gone.id))["user"]["deleted"] is True
    with pytest.raises(SlackApiError) as error:
        await client.users_info(user="U99999999")
    assert error.value.response["error"] == "user_not_found"

    # Slack keeps a departed person's DM: a post to them is answered ok, and read by no
    # one (slackapi/python-slack-sdk#1156).
    assert (await client.chat_postMessage(channel=gone.id, text="still there?"))["ok"]

    old = fake_slack.add_channel("old-project")
    posted = await client.chat_postMessage(channel=old.id, text="hello")
    fake_slack.archive(old)
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=old.id, text="hello?")
    assert error.value.response["error"] == "is_archived"
    with pytest.raises(SlackApiError) as error:  # chat.update names it differently
        await client.chat_update(channel=old.id, ts=posted["ts"], text="edited")
    assert error.value.response["error"] == "is_inactive"
    assert fake_slack.violations == []  # Slack's ordinary answers are not the app's bugs


async def test_a_429_is_retried_by_slack_sdk_when_its_handler_is_attached(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = fake_slack.add_user("alice")
    dm = fake_slack.dm_with(alice)
    fake_slack.fail_next("chat.postMessage", retry_after=0)
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=dm, text="no retry handler")
    assert error.value.response.status_code == 429
    assert error.value.response["error"] == "ratelimited"
    assert error.value.response.headers["Retry-After"] == "0"

    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    fake_slack.fail_next("chat.postMessage", retry_after=0)
    posted = await client.chat_postMessage(channel=dm, text="retried")
    assert posted["ok"]
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 429, 200]
    assert [m.text for m in fake_slack.messages(dm)] == ["retried"]


async def test_a_5xx_is_retried_by_the_server_error_handler(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = fake_slack.add_user("alice")
    fake_slack.fail_next("chat.postMessage", status=503)
    client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=1))
    posted = await client.chat_postMessage(channel=fake_slack.dm_with(alice), text="x")
    assert posted["ok"]
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [503, 200]


async def test_an_unknown_method_and_an_unknown_parameter_are_violations(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = fake_slack.add_user("alice")
    with pytest.raises(SlackApiError) as error:
        await client.api_call("chat.postMessages", json={"channel": "C1", "text": "x"})
    assert error.value.response.status_code == 200  # as Slack answers it
    assert error.value.response.data == {
        "ok": False,
        "error": "unknown_method",
        "req_method": "chat.postMessages",
    }
    # Slack ignores an argument it does not know, so the typo goes unnoticed: answered
    # ok, and recorded as the app's bug.
    posted = await client.chat_postMessage(
        channel=fake_slack.dm_with(alice), text="x", colour="red"
    )
    assert posted["ok"]
    with pytest.raises(SlackApiError) as error:
        await client.api_call("chat.update", json={"channel": fake_slack.dm_with(alice)})
    assert error.value.response["error"] == "invalid_arguments"
    problems = fake_slack.pop_violations()
    assert [v.method for v in problems] == ["chat.postMessages", "chat.postMessage", "chat.update"]
    assert "'colour' is not declared for chat.postMessage (Slack ignores it)" in problems[1].problem
    assert problems[2].problem == "required parameter 'ts' is missing"


async def test_spec_gaps_are_accepted(fake_slack: FakeSlack) -> None:
    """views.* posted as JSON, team_id, and the methods newer than the spec."""
    # Given team_id, slack_sdk adds it to every call (JSON bodies and query strings).
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url, team_id="T0HDOPS01")
    alice = fake_slack.add_user("alice")
    await client.chat_postMessage(channel=fake_slack.dm_with(alice), text="with team_id")
    await client.conversations_open(users=alice.id)
    assert all(c.params["team_id"] == "T0HDOPS01" for c in fake_slack.calls)
    trigger = fake_slack.payloads.trigger(alice)
    await client.views_open(trigger_id=trigger, view=FORM_VIEW)
    assert (fake_slack.calls[-1].http_method, fake_slack.calls[-1].body) == ("POST", "json")
    app_client = AsyncWebClient(base_url=fake_slack.api_url)
    opened = await app_client.apps_connections_open(app_token="xapp-test")
    assert opened["url"].startswith(f"ws://127.0.0.1:{fake_slack.port}/socket?")
    upload = await client.files_upload_v2(
        channel=fake_slack.dm_with(alice),
        content="a,b\n1,2\n",
        filename="answers.csv",
        initial_comment="today's answers",
    )
    assert upload["ok"]
    message = fake_slack.messages(fake_slack.dm_with(alice))[-1]
    assert message.files[0]["name"] == "answers.csv"
    assert message.text == "today's answers"
    assert fake_slack.violations == []


async def test_blocks_breaking_slacks_limits_are_violations(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    dm = fake_slack.dm_with(fake_slack.add_user("alice"))
    long_button = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "go",
                    "text": {"type": "plain_text", "text": "x" * 76},
                }
            ],
        }
    ]
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=dm, text="t", blocks=long_button)
    assert error.value.response["error"] == "invalid_blocks"
    assert any("75" in p for p in error.value.response["errors"])

    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=dm, text="t", blocks=[{"type": "divider"}] * 51)
    assert error.value.response["error"] == "invalid_blocks"

    typo = [{"type": "section", "txt": {"type": "mrkdwn", "text": "hi"}}]
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=dm, text="t", blocks=typo)
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=dm, text="t", blocks="[{not json")
    assert error.value.response["error"] == "invalid_blocks_format"

    problems = [v.problem for v in fake_slack.pop_violations()]
    assert any("button text length is 76 (limit 75)" in p for p in problems)
    assert any("51 blocks (limit 50)" in p for p in problems)
    assert any("unknown field 'txt'" in p for p in problems)
    assert any("blocks is not valid JSON" in p for p in problems)
    assert fake_slack.messages(dm) == []

    # Past 40,000 characters Slack posts the text cut short and answers ok: the lost end
    # is the app's bug. chat.update refuses text past 4,000 ("cannot exceed 4,000").
    long = await client.chat_postMessage(channel=dm, text="x" * 40_001)
    assert long["ok"] and len(fake_slack.messages(dm)[0].text) == 40_000
    assert (await client.chat_update(channel=dm, ts=long["ts"], text="y" * 4_000))["ok"]
    with pytest.raises(SlackApiError) as error:
        await client.chat_update(channel=dm, ts=long["ts"], text="y" * 4_001)
    assert error.value.response["error"] == "msg_too_long"
    problems = [v.problem for v in fake_slack.pop_violations()]
    assert "text is 40001 characters (limit 40000): Slack truncates it" in problems[0]
    assert "4001 characters (limit 4000)" in problems[1]


async def test_tokens_are_checked(fake_slack: FakeSlack) -> None:
    for token, error in (("xoxb-wrong", "invalid_auth"), ("xapp-test", "not_allowed_token_type")):
        with pytest.raises(SlackApiError) as raised:
            await AsyncWebClient(token=token, base_url=fake_slack.api_url).auth_test()
        assert raised.value.response["error"] == error
    assert len(fake_slack.pop_violations()) == 2


async def test_trigger_ids_live_three_seconds_and_serve_once(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = fake_slack.add_user("alice")
    trigger = fake_slack.payloads.trigger(alice)
    opened = await client.views_open(trigger_id=trigger, view=FORM_VIEW)
    view_id = opened["view"]["id"]
    assert fake_slack.open_view(alice) is fake_slack.ws.views[view_id]
    with pytest.raises(SlackApiError) as error:
        await client.views_open(trigger_id=trigger, view=FORM_VIEW)
    assert error.value.response["error"] == "exchanged_trigger_id"

    late = fake_slack.payloads.trigger(alice)
    fake_slack.clock.advance(3.5)
    with pytest.raises(SlackApiError) as error:
        await client.views_push(trigger_id=late, view=FORM_VIEW)
    assert error.value.response["error"] == "expired_trigger_id"
    problems = [v.problem for v in fake_slack.pop_violations()]
    assert "used twice" in problems[0] and "after 3.5 s" in problems[1]

    pushed = await client.views_push(trigger_id=fake_slack.payloads.trigger(alice), view=FORM_VIEW)
    assert pushed["view"]["root_view_id"] == view_id
    assert pushed["view"]["previous_view_id"] == view_id
    with pytest.raises(SlackApiError) as error:
        await client.views_update(view_id=view_id, view=FORM_VIEW, hash="stale")
    assert error.value.response["error"] == "hash_conflict"
    renamed = {**FORM_VIEW, "title": {"type": "plain_text", "text": "Renamed"}}
    current = fake_slack.ws.views[view_id].hash
    updated = await client.views_update(view_id=view_id, view=renamed, hash=current)
    assert updated["view"]["title"]["text"] == "Renamed" and updated["view"]["hash"] != current

    too_long = {**FORM_VIEW, "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError) as error:
        await client.views_update(view_id=view_id, view=too_long)
    assert error.value.response["error"] == "invalid_arguments"
    assert any("24" in p.problem for p in fake_slack.pop_violations())


async def test_threads_replies_pages_reactions_and_deletes(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = fake_slack.add_user("alice")
    room = fake_slack.add_channel("clarifications")
    parent = await client.chat_postMessage(channel=room.id, text="Q: what is a refusal?")
    for n in range(3):
        await client.chat_postMessage(channel=room.id, thread_ts=parent["ts"], text=f"r{n}")
    pages = [
        [m["text"] for m in page["messages"]]
        async for page in await client.conversations_replies(
            channel=room.id, ts=parent["ts"], limit=2
        )
    ]
    assert pages == [["Q: what is a refusal?", "r0"], ["r1", "r2"]]

    await client.reactions_add(channel=room.id, timestamp=parent["ts"], name="eyes")
    assert fake_slack.messages(room)[0].reactions == {"eyes": [fake_slack.bot.id]}
    await client.chat_delete(channel=room.id, ts=parent["ts"])
    assert [m.text for m in fake_slack.messages(room)] == ["r0", "r1", "r2"]

    person = await fake_slack.post_user_message(alice, room, "mine", thread_ts=None)
    assert not person.delivered  # no bot listening: nothing sent, nothing to ack
    assert person.message is not None
    with pytest.raises(SlackApiError) as error:
        await client.chat_update(channel=room.id, ts=person.message.ts, text="edited")
    assert error.value.response["error"] == "cant_update_message"

    fake_slack.clock.advance(2.0)  # ~1 post a second per channel: pace, in fake time
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=room.id, thread_ts="yesterday", text="x")
    assert error.value.response["error"] == "invalid_thread_ts"
    lost = await client.chat_postMessage(channel=room.id, thread_ts="1600000000.000100", text="x")
    assert lost["ok"]  # Slack accepts it, and the reply is visible nowhere: the app's bug
    problems = [v.problem for v in fake_slack.pop_violations()]
    assert "not a valid thread_ts" in problems[0] and "names no message" in problems[1]

    outsider = fake_slack.add_channel("elsewhere", members=[])
    with pytest.raises(SlackApiError) as error:
        await client.chat_postEphemeral(channel=outsider.id, user=alice.id, text="psst")
    assert error.value.response["error"] == "user_not_in_channel"
    closed = fake_slack.add_channel("not-ours", bot_member=False)
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=closed.id, text="hi")
    assert error.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError) as error:
        await client.conversations_history(channel=closed.id)
    assert error.value.response["error"] == "not_in_channel"


async def test_history_lookup_and_methods_the_fake_lacks(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = fake_slack.add_user("alice", email="alice@lab.example")
    room = fake_slack.add_channel("ops")
    first = await client.chat_postMessage(channel=room.id, text="one")
    await client.chat_postMessage(channel=room.id, thread_ts=first["ts"], text="hidden reply")
    await client.chat_postMessage(channel=room.id, text="two")
    history = await client.conversations_history(channel=room.id)
    assert [m["text"] for m in history["messages"]] == ["two", "one"]  # newest first
    found = await client.users_lookupByEmail(email="Alice@lab.example")
    assert found["user"]["id"] == alice.id
    with pytest.raises(SlackApiError) as error:
        await client.pins_add(channel=room.id, timestamp=first["ts"])
    assert error.value.response["error"] == "fake_not_implemented"
    assert "does not implement" in fake_slack.pop_violations()[0].problem


# ----------------------------------------------------------------------------- rate limits


async def test_chat_post_message_is_limited_per_channel_by_default(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """About one post a second per channel, short bursts allowed: the 6th post of a burst
    is 429 + Retry-After (whole seconds) + Slack's exact body, and no message appears."""
    busy, quiet = fake_slack.add_channel("busy"), fake_slack.add_channel("quiet")
    for n in range(POST_MESSAGE_BURST):
        await client.chat_postMessage(channel=busy.id, text=f"m{n}")
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=busy.id, text="one too many")
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "1"
    assert error.value.response.data == {"ok": False, "error": "ratelimited"}
    assert len(fake_slack.messages(busy)) == POST_MESSAGE_BURST
    assert (await client.chat_postMessage(channel=quiet.id, text="elsewhere"))["ok"]
    fake_slack.clock.advance(1.0)
    assert (await client.chat_postMessage(channel=busy.id, text="later"))["ok"]
    alice = fake_slack.add_user("alice")  # a DM by user id counts against the DM
    for n in range(POST_MESSAGE_BURST):
        await client.chat_postMessage(channel=fake_slack.dm_with(alice), text=f"d{n}")
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=alice.id, text="by user id")
    assert error.value.response.status_code == 429
    assert fake_slack.violations == []  # a 429 is Slack's normal answer, not a bug


@pytest.mark.parametrize(
    ("method", "args", "allowed", "retry_after"),
    [
        # tier 1: a small burst (3), then one a minute
        ("apps.connections.open", {}, TIER_1_BURST, "60"),
        ("conversations.info", {"channel": "C0"}, 50, "2"),  # tier 3: 50 a minute
        ("users.info", {"user": "U0"}, 100, "1"),  # tier 4: 100 a minute
    ],
)
async def test_methods_are_limited_by_their_tier(
    fake_slack: FakeSlack, method: str, args: dict[str, str], allowed: int, retry_after: str
) -> None:
    token = fake_slack.app_token if method == "apps.connections.open" else fake_slack.bot_token
    client = AsyncWebClient(token=token, base_url=fake_slack.api_url)
    place = fake_slack.add_channel("room").id
    person = fake_slack.add_user("alice").id
    params = {k: place if v == "C0" else person for k, v in args.items()}
    for _ in range(allowed):
        assert (await client.api_call(method, params=params))["ok"]
    with pytest.raises(SlackApiError) as error:
        await client.api_call(method, params=params)
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == retry_after
    fake_slack.clock.advance(float(retry_after))
    assert (await client.api_call(method, params=params))["ok"]


def test_tiers_follow_slacks_published_table() -> None:
    assert TIER_PER_MINUTE == {1: 1, 2: 20, 3: 50, 4: 100}
    assert tier_of("apps.connections.open") == 1
    assert tier_of("pins.add") == 2  # unlisted: "most methods allow at least 20 a minute"
    assert {tier_of(m) for m in ("chat.update", "conversations.open", "reactions.add")} == {3}
    assert {tier_of(m) for m in ("views.open", "chat.postEphemeral", "users.info")} == {4}
    limiter = RateLimiter()
    assert [limiter.retry_after("pins.add", None, 0.0) for _ in range(21)][-2:] == [0, 3]


async def test_a_reconnect_loop_meets_tier_1(fake_slack: FakeSlack, client: AsyncWebClient) -> None:
    """slack_sdk's Socket Mode client calls apps.connections.open on every reconnect:
    the first connect and two prompt reconnects go, a loop is told to wait a minute."""
    app, _ = make_app(fake_slack)
    async with connected_over_socket_mode(fake_slack, app):
        await fake_slack.disconnect_socket()
        await fake_slack.wait_for(lambda: len(fake_slack.socket.connections) == 2)
        await fake_slack.disconnect_socket()
        await fake_slack.wait_for(lambda: len(fake_slack.socket.connections) == 3)
        app_client = AsyncWebClient(base_url=fake_slack.api_url)
        with pytest.raises(SlackApiError) as error:
            await app_client.apps_connections_open(app_token=fake_slack.app_token)
        assert error.value.response.headers["Retry-After"] == "60"
    assert [c.status for c in fake_slack.calls_to("apps.connections.open")] == [200] * 3 + [429]


async def test_leniency_is_asked_for_by_name_with_a_reason() -> None:
    reason = "measures the fake's own throughput"
    async with FakeSlack(lenient={"rate_limits": reason}) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        room = fake.add_channel("firehose")
        for n in range(POST_MESSAGE_BURST + 2):
            assert (await client.chat_postMessage(channel=room.id, text=f"m{n}"))["ok"]
        assert len(fake.forgiven) == 2 and reason in fake.forgiven[0].problem
        assert fake.violations == []
    with pytest.raises(ValueError, match="unknown leniency"):
        FakeSlack(lenient={"rate_limit": reason})
    with pytest.raises(ValueError, match="needs its reason"):
        FakeSlack(lenient={"rate_limits": " "})
    assert FakeSlack().lenient == {}  # strict unless asked


@pytest.mark.slack_lenient(rate_limits="shows the fixture reading the marker")
async def test_the_fixture_takes_leniency_from_a_marker(fake_slack: FakeSlack) -> None:
    assert fake_slack.lenient == {"rate_limits": "shows the fixture reading the marker"}


async def test_the_fixture_is_strict_without_a_marker(fake_slack: FakeSlack) -> None:
    assert fake_slack.lenient == {}


# ----------------------------------------------------------------------------- the wire


async def raw_call(
    fake: FakeSlack,
    method: str,
    *,
    verb: str = "POST",
    headers: dict[str, str] | None = None,
    data: str | bytes | aiohttp.FormData | None = None,
    query: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """One request exactly as given (no slack_sdk): (HTTP status, JSON body). Bytes with
    no Content-Type go without one (aiohttp would add application/octet-stream)."""
    untyped = isinstance(data, bytes) and "Content-Type" not in (headers or {})
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            verb,
            f"{fake.api_url}{method}",
            headers=headers,
            data=data,
            params=query,
            skip_auto_headers=["Content-Type"] if untyped else None,
        ) as resp,
    ):
        body: dict[str, Any] = await resp.json()
        return resp.status, body


BEARER = {"Authorization": "Bearer xoxb-test"}
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}
JSON_TYPE = {"Content-Type": "application/json; charset=utf-8"}


async def test_any_method_is_read_by_get_or_post_form_or_a_mix(fake_slack: FakeSlack) -> None:
    """Arguments travel as a GET query string, a POST form body, or both, whatever verb
    the spec prefers; a form body may carry the token."""
    room = fake_slack.add_channel("room")
    status, body = await raw_call(
        fake_slack, "conversations.info", verb="GET", headers=BEARER, query={"channel": room.id}
    )
    assert (status, body["ok"]) == (200, True)
    form = f"token=xoxb-test&text=hi&channel={room.id}"
    _, posted = await raw_call(fake_slack, "chat.postMessage", headers=FORM_TYPE, data=form)
    assert posted["ok"]
    _, mixed = await raw_call(
        fake_slack,
        "chat.postMessage",
        headers={**BEARER, **FORM_TYPE},
        data="text=mixed",
        query={"channel": room.id},
    )
    assert mixed["ok"]
    multipart = aiohttp.FormData(
        {"channel": room.id, "text": "multipart"}, default_to_multipart=True
    )
    multipart.add_field("token", "xoxb-test")
    _, parts = await raw_call(fake_slack, "chat.postMessage", data=multipart)
    assert parts["ok"]
    assert [m.text for m in fake_slack.messages(room)] == ["hi", "mixed", "multipart"]
    assert [c.body for c in fake_slack.calls] == ["query", "form", "form", "multipart"]
    assert fake_slack.violations == []


async def test_a_json_body_to_a_form_only_method_is_not_read(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """users.info takes form data only: Slack ignores a JSON body and answers as if no
    user had been named (kortix-ai/suna#6616, seen live)."""
    alice = fake_slack.add_user("alice")
    with pytest.raises(SlackApiError) as error:
        await client.api_call("users.info", json={"user": alice.id})
    assert error.value.response["error"] == "user_not_found"
    [problem] = fake_slack.pop_violations()
    assert problem.method == "users.info" and "takes no JSON body" in problem.problem
    assert (await client.users_info(user=alice.id))["ok"]  # slack_sdk sends it right


async def test_json_needs_the_token_in_the_authorization_header(fake_slack: FakeSlack) -> None:
    body = json.dumps({"token": "xoxb-test", "channel": "C1", "text": "x"})
    status, answer = await raw_call(fake_slack, "chat.postMessage", headers=JSON_TYPE, data=body)
    assert (status, answer) == (200, {"ok": False, "error": "not_authed"})
    problems = [v.problem for v in fake_slack.pop_violations()]
    assert "token in a JSON body is not read" in problems[0]
    assert problems[1].startswith("no token Slack reads")


async def test_a_token_in_the_query_string_is_not_read(fake_slack: FakeSlack) -> None:
    _, answer = await raw_call(fake_slack, "auth.test", verb="GET", query={"token": "xoxb-test"})
    assert answer == {"ok": False, "error": "not_authed"}
    problems = [v.problem for v in fake_slack.pop_violations()]
    assert "token sent in the query string" in problems[0] and len(problems) == 2


async def test_json_and_query_string_arguments_do_not_mix(fake_slack: FakeSlack) -> None:
    room = fake_slack.add_channel("room")
    _, answer = await raw_call(
        fake_slack,
        "chat.postMessage",
        headers={**BEARER, **JSON_TYPE},
        data=json.dumps({"text": "where to?"}),
        query={"channel": room.id},
    )
    assert answer["error"] == "invalid_arguments"  # the channel in the query is not read
    problems = [v.problem for v in fake_slack.pop_violations()]
    assert "Slack reads the JSON only" in problems[0]
    assert problems[1] == "required parameter 'channel' is missing"


@pytest.mark.parametrize(
    ("headers", "data", "error"),
    [
        ({}, b"channel=C1&text=x", "missing_post_type"),
        ({"Content-Type": "text/xml"}, "<channel>C1</channel>", "invalid_post_type"),
        (
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-16"},
            "text=x",
            "invalid_charset",
        ),
        (FORM_TYPE, "channel=C1&&text", "invalid_form_data"),
        (JSON_TYPE, "{not json", "invalid_json"),
        (JSON_TYPE, '["C1", "x"]', "json_not_object"),
        # Slack lists text/plain as a valid type but says nothing of how it is read:
        # refused by name rather than guessed.
        ({"Content-Type": "text/plain"}, "channel=C1&text=x", "fake_not_implemented"),
    ],
)
async def test_a_body_slack_cannot_read_is_refused_as_slack_refuses_it(
    fake_slack: FakeSlack, headers: dict[str, str], data: str | bytes, error: str
) -> None:
    status, answer = await raw_call(
        fake_slack, "chat.postMessage", headers={**BEARER, **headers}, data=data
    )
    assert (status, answer) == (200, {"ok": False, "error": error})
    assert len(fake_slack.pop_violations()) == 1
    assert fake_slack.calls[-1].error == error


async def test_apps_connections_open_takes_post_and_a_header_token_only(
    fake_slack: FakeSlack,
) -> None:
    app_bearer = {"Authorization": f"Bearer {fake_slack.app_token}"}
    _, by_get = await raw_call(fake_slack, "apps.connections.open", verb="GET", headers=app_bearer)
    assert by_get["error"] == "insecure_request"
    form = f"token={fake_slack.app_token}"
    _, in_body = await raw_call(fake_slack, "apps.connections.open", headers=FORM_TYPE, data=form)
    assert in_body["error"] == "missing_args"  # "An app-level token wasn't provided"
    problems = [v.problem for v in fake_slack.pop_violations()]
    assert "must be called by POST" in problems[0] and "header only" in problems[1]
    _, right = await raw_call(fake_slack, "apps.connections.open", headers=app_bearer)
    assert right["ok"]


async def test_an_http_verb_slack_does_not_document_is_refused_by_name(
    fake_slack: FakeSlack,
) -> None:
    _, answer = await raw_call(fake_slack, "auth.test", verb="PUT", headers=BEARER)
    assert answer["error"] == "fake_not_implemented"
    assert "HTTP PUT" in fake_slack.pop_violations()[0].problem


async def test_a_get_requests_body_is_not_read(fake_slack: FakeSlack) -> None:
    room = fake_slack.add_channel("room")
    _, answer = await raw_call(
        fake_slack,
        "conversations.info",
        verb="GET",
        headers={**BEARER, **FORM_TYPE},
        data=f"channel={room.id}",
    )
    assert answer["error"] == "channel_not_found"  # answered as if no channel was named
    assert "GET request's body is not read" in fake_slack.pop_violations()[0].problem


# ----------------------------------------------------------------------------- Slack's errors


async def test_retired_methods_and_revoked_tokens_answer_as_slack_does(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as error, pytest.warns(UserWarning, match="deprecated"):
        await client.api_call("channels.history", params={"channel": "C1"})
    assert error.value.response["error"] == "method_deprecated"
    fake_slack.pop_violations()
    fake_slack.revoke_tokens()
    with pytest.raises(SlackApiError) as error:
        await client.auth_test()
    assert error.value.response["error"] == "token_revoked"
    fake_slack.revoke_tokens("account_inactive")
    with pytest.raises(SlackApiError) as error:
        await client.auth_test()
    assert error.value.response["error"] == "account_inactive"
    assert fake_slack.violations == []  # an uninstalled app is not the app's bug


async def test_the_fake_answers_only_error_codes_slack_lists(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """Every error the fake answers is checked against the codes Slack lists for the
    method: a code Slack never sends is flagged as the fake's own bug."""

    def invents(params: dict[str, Any]) -> dict[str, Any]:
        raise SlackError("no_such_slack_error")

    fake_slack.web_api.handlers["auth.test"] = invents
    with pytest.raises(SlackApiError):
        await client.auth_test()
    [problem] = fake_slack.pop_violations()
    assert problem.method == "FakeSlack" and "'no_such_slack_error'" in problem.problem
    known = web_api_methods()
    for name in fake_slack.web_api.handlers:
        assert "not_authed" in allowed_errors(known[name])
    assert "is_inactive" in allowed_errors(known["chat.update"])
    assert "is_archived" not in allowed_errors(known["chat.update"])


async def test_errors_are_the_codes_slacks_pages_give_for_each_situation(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    async def error_of(method: str, **params: Any) -> str:
        with pytest.raises(SlackApiError) as raised:
            await client.api_call(method, json=params)
        return str(raised.value.response["error"])

    alice = fake_slack.add_user("alice")
    room, elsewhere = fake_slack.add_channel("room"), fake_slack.add_channel("x", bot_member=False)
    posted = await client.chat_postMessage(channel=room.id, text="hi")
    assert await error_of("reactions.add", channel=room.id, timestamp="noon", name="eyes") == (
        "bad_timestamp"
    )
    assert await error_of("chat.postEphemeral", channel=elsewhere.id, user=alice.id, text="x") == (
        "not_in_channel"
    )
    assert await error_of("views.publish", user_id="U404", view={"type": "home", "blocks": []}) == (
        "invalid_arguments"
    )
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}
    huge = {"type": "modal", "title": FORM_VIEW["title"], "blocks": [section] * 90}
    trigger = fake_slack.payloads.trigger(alice)
    assert await error_of("views.open", trigger_id=trigger, view=huge) == "view_too_large"
    fake_slack.archive(room)
    assert await error_of("reactions.add", channel=room.id, timestamp=posted["ts"], name="x") == (
        "is_archived"
    )
    with pytest.raises(SlackApiError) as error:  # a case Slack's page leaves open
        await client.files_upload_v2(channel=room.id, content="a,b", filename="a.csv")
    assert error.value.response["error"] == "fake_not_implemented"
    problems = [v.problem for v in fake_slack.pop_violations()]
    assert any("bytes (limit 250000)" in p for p in problems)
    assert "archived channel" in problems[-1]
    assert not [p for p in problems if "FakeSlack" in p]


# ----------------------------------------------------------------------------- faults


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_can_be_injected(
    fake_slack: FakeSlack, client: AsyncWebClient, status: int
) -> None:
    fake_slack.fail_next("auth.test", status=status)
    with pytest.raises(SlackApiError) as error:
        await client.auth_test()
    assert error.value.response.status_code == status
    assert (await client.auth_test())["ok"]


async def test_a_stalled_answer_times_the_client_out(fake_slack: FakeSlack) -> None:
    """`fail_next(delay=)`: the client gives up and nothing happened. `stall_next`: the
    client gives up although Slack posted the message (a blind retry posts it twice)."""
    impatient = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url, timeout=1)
    dm = fake_slack.dm_with(fake_slack.add_user("alice"))
    fake_slack.fail_next("chat.postMessage", status=503, delay=2.0)
    with pytest.raises(asyncio.TimeoutError):
        await impatient.chat_postMessage(channel=dm, text="lost")
    assert fake_slack.messages(dm) == []
    fake_slack.stall_next("chat.postMessage", 2.0)
    with pytest.raises(asyncio.TimeoutError):
        await impatient.chat_postMessage(channel=dm, text="posted all the same")
    assert [m.text for m in fake_slack.messages(dm)] == ["posted all the same"]


# ----------------------------------------------------------------------------- a bolt app


def make_app(fake: FakeSlack) -> tuple[AsyncApp, list[dict[str, Any]]]:
    """A minimal bolt app: /hdops posts a task or opens a form; buttons record answers."""
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    app = AsyncApp(client=client, signing_secret=fake.signing_secret)
    seen: list[dict[str, Any]] = []

    async def is_help(command: dict[str, Any]) -> bool:
        return bool(command["text"] == "help")

    @app.command("/hdops", matchers=[is_help])
    async def on_help(ack: Any) -> None:
        await ack("Usage: /hdops next | ask | private")

    @app.command("/hdops")
    async def on_command(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        seen.append(command)
        if command["text"] == "ask":
            await client.views_open(trigger_id=command["trigger_id"], view=FORM_VIEW)
        elif command["text"] == "private":
            await client.chat_postEphemeral(
                channel=command["channel_id"],
                user=command["user_id"],
                text="Only you can see this",
                blocks=PRIVATE_BLOCKS,
            )
        else:
            await client.chat_postMessage(
                channel=command["channel_id"], text="Task 1", blocks=TASK_BLOCKS
            )

    @app.action(re.compile(r"^hd:answer:"))
    async def on_answer(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        seen.append(body)
        await client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"Task 1: you chose {action['value']}",
            blocks=[],
        )

    @app.action(re.compile(r"^hd:private:"))
    async def on_private(ack: Any, action: dict[str, Any], respond: Any) -> None:
        await ack()
        if action["action_id"] == "hd:private:dismiss":
            await respond(delete_original=True)
        else:
            await respond(replace_original=True, text="Thanks, noted.")

    @app.view("hd:form:ask")
    async def on_form(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        seen.append(body)
        text = view["state"]["values"]["question"]["text"]["value"]
        if len(text) < 10:
            await ack(response_action="errors", errors={"question": "Please say a bit more."})
        elif text == "more questions please":
            page_two = {**FORM_VIEW, "title": {"type": "plain_text", "text": "Page 2"}}
            await ack(response_action="update", view=page_two)
        elif text == "blame the wrong block":
            await ack(response_action="errors", errors={"no-such-block": "?"})
        else:
            await ack()

    @app.event("message")
    async def on_message(event: dict[str, Any], say: Any) -> None:
        seen.append(event)
        if event.get("thread_ts"):
            await say(text=f"noted: {event['text']}", thread_ts=event["thread_ts"])

    return app, seen


@pytest.fixture
async def socket_app(
    fake_slack: FakeSlack,
) -> AsyncIterator[tuple[AsyncApp, list[dict[str, Any]]]]:
    app, seen = make_app(fake_slack)
    async with connected_over_socket_mode(fake_slack, app):
        yield app, seen


@pytest.fixture
async def http_app(fake_slack: FakeSlack) -> AsyncIterator[tuple[AsyncApp, list[dict[str, Any]]]]:
    app, seen = make_app(fake_slack)
    async with served_over_http(fake_slack, app):
        yield app, seen


# ----------------------------------------------------------------------------- Socket Mode


async def test_socket_mode_slash_command_and_button_click(
    fake_slack: FakeSlack, socket_app: tuple[AsyncApp, list[dict[str, Any]]]
) -> None:
    _, seen = socket_app
    alice = fake_slack.add_user("alice")
    dm = fake_slack.dm_with(alice)

    command = await fake_slack.slash_command(alice, "/hdops", "next")
    assert command.acked and command.ack_seconds is not None and command.ack_seconds < 1
    assert seen[0]["user_id"] == alice.id and seen[0]["text"] == "next"
    task = await fake_slack.wait_for(lambda: newest(fake_slack.messages(dm)))
    assert task.text == "Task 1" and task.is_bot

    click = await fake_slack.click_button(alice, task, "B is better")
    assert click.acked and click.response is None
    action_body = seen[1]
    assert action_body["type"] == "block_actions"
    assert action_body["actions"][0]["value"] == "b"
    assert action_body["message"]["ts"] == task.ts
    assert action_body["container"] == {
        "type": "message",
        "message_ts": task.ts,
        "channel_id": dm,
        "is_ephemeral": False,
    }
    await fake_slack.wait_for(lambda: task.edited)
    assert task.text == "Task 1: you chose b" and task.blocks == []
    envelope = fake_slack.socket.envelopes[click.envelope_id or ""]
    assert envelope.ack_seconds is not None and envelope.type == "interactive"


async def test_socket_mode_modal_errors_then_success(
    fake_slack: FakeSlack, socket_app: tuple[AsyncApp, list[dict[str, Any]]]
) -> None:
    alice = fake_slack.add_user("alice")
    await fake_slack.slash_command(alice, "/hdops", "ask")
    view = await fake_slack.wait_for(lambda: fake_slack.open_view(alice))
    assert view.callback_id == "hd:form:ask"

    short = await fake_slack.submit_view(alice, view.id, {"question": {"text": "why?"}})
    assert short.response == {
        "response_action": "errors",
        "errors": {"question": "Please say a bit more."},
    }
    assert short.errors == {"question": "Please say a bit more."}
    assert fake_slack.open_view(alice) is view  # errors keep the modal open
    with pytest.raises(ValueError, match="required"):
        await fake_slack.submit_view(alice, view.id, {})  # Slack's client would refuse
    with pytest.raises(ValueError, match="offers no option"):
        await fake_slack.submit_view(
            alice, view.id, {"question": {"text": "?"}, "topic": {"pick": "x"}}
        )

    values: dict[str, dict[str, Any]] = {
        "question": {"text": "What counts as a refusal?"},
        "topic": {"pick": "guidelines"},
        "tags": {"tags": ["urgent", "blocking"]},
    }
    done = await fake_slack.submit_view(alice, view.id, values)
    assert done.acked and done.response is None and done.view is None
    state = done.payload["view"]["state"]["values"]
    assert state["question"]["text"] == {
        "type": "plain_text_input",
        "value": values["question"]["text"],
    }
    assert state["topic"]["pick"]["selected_option"]["value"] == "guidelines"
    assert [o["value"] for o in state["tags"]["tags"]["selected_options"]] == ["urgent", "blocking"]

    with pytest.raises(LookupError):
        await fake_slack.submit_view(alice)  # nothing open any more


async def test_socket_mode_thread_reply_event_and_redelivery(
    fake_slack: FakeSlack, socket_app: tuple[AsyncApp, list[dict[str, Any]]]
) -> None:
    _, seen = socket_app
    alice = fake_slack.add_user("alice")
    dm = fake_slack.dm_with(alice)
    top = await fake_slack.post_user_message(alice, None, "hello <bot> & you")
    assert top.acked and top.message is not None
    assert top.message.text == "hello &lt;bot&gt; &amp; you"  # Slack escapes &, <, >
    reply = await fake_slack.post_user_message(alice, None, "a question", thread_ts=top.message.ts)
    assert reply.payload["event"]["thread_ts"] == top.message.ts
    answer = await fake_slack.wait_for(lambda: newest(fake_slack.messages(dm), 3))
    assert answer.thread_ts == top.message.ts and answer.text == "noted: a question"

    again = await fake_slack.redeliver(reply)
    assert again.event_id == reply.event_id and again.payload is reply.payload
    envelope = fake_slack.socket.envelopes[again.envelope_id or ""]
    assert (envelope.retry_attempt, envelope.retry_reason) == (1, "timeout")
    assert sum(1 for e in seen if e.get("text") == "a question") == 2


async def test_socket_mode_reconnects_after_disconnect(
    fake_slack: FakeSlack, socket_app: tuple[AsyncApp, list[dict[str, Any]]]
) -> None:
    alice = fake_slack.add_user("alice")
    await fake_slack.disconnect_socket()
    await fake_slack.wait_for(lambda: len(fake_slack.socket.connections) == 2)
    await fake_slack.wait_for(lambda: len(fake_slack.socket.open_connections) == 1)
    assert len(fake_slack.calls_to("apps.connections.open")) == 2
    command = await fake_slack.slash_command(alice, "/hdops", "next")
    assert command.acked


async def test_socket_mode_ephemeral_buttons_and_response_url(
    fake_slack: FakeSlack, socket_app: tuple[AsyncApp, list[dict[str, Any]]]
) -> None:
    alice = fake_slack.add_user("alice")
    room = fake_slack.add_channel("labelers")
    help_ = await fake_slack.slash_command(alice, "/hdops", "help", channel=room)
    assert help_.response == {"text": "Usage: /hdops next | ask | private"}
    assert fake_slack.ephemerals(alice, room)[0].text == "Usage: /hdops next | ask | private"

    await fake_slack.slash_command(alice, "/hdops", "private", channel=room)
    prompt = await fake_slack.wait_for(lambda: newest(fake_slack.ephemerals(alice), 2))
    assert prompt.ephemeral_to == alice.id and fake_slack.messages(room) == []
    click = await fake_slack.click_button(alice, prompt, "Yes")
    assert click.payload["container"]["is_ephemeral"] and "message" not in click.payload
    await fake_slack.wait_for(lambda: prompt.text == "Thanks, noted.")
    assert prompt.blocks == [] and prompt.edited

    await fake_slack.slash_command(alice, "/hdops", "private", channel=room)
    second = await fake_slack.wait_for(lambda: newest(fake_slack.ephemerals(alice), 3))
    await fake_slack.click_button(alice, second, "Dismiss")
    await fake_slack.wait_for(lambda: second.deleted)
    assert [c.method for c in fake_slack.calls if c.method == "response_url"] == [
        "response_url"
    ] * 2


async def test_socket_mode_modal_update_and_bad_errors(
    fake_slack: FakeSlack, socket_app: tuple[AsyncApp, list[dict[str, Any]]]
) -> None:
    alice = fake_slack.add_user("alice")
    await fake_slack.slash_command(alice, "/hdops", "ask")
    view = await fake_slack.wait_for(lambda: fake_slack.open_view(alice))
    updated = await fake_slack.submit_view(
        alice, view.id, {"question": {"text": "more questions please"}}
    )
    assert updated.view is view and view.payload["title"]["text"] == "Page 2"
    await fake_slack.submit_view(alice, view.id, {"question": {"text": "blame the wrong block"}})
    [problem] = fake_slack.pop_violations()
    assert problem.method == "view_submission ack" and "'no-such-block'" in problem.problem


async def test_socket_mode_bot_messages_echo_with_bot_id(
    fake_slack: FakeSlack, socket_app: tuple[AsyncApp, list[dict[str, Any]]]
) -> None:
    _, seen = socket_app
    fake_slack.echo_bot_messages = True
    alice = fake_slack.add_user("alice")
    await fake_slack.slash_command(alice, "/hdops", "next")
    echo = await fake_slack.wait_for(
        lambda: [d for d in fake_slack.deliveries if d.kind == "events_api" and d.acked]
    )
    assert echo[0].payload["event"]["bot_id"] == fake_slack.bot.bot_id
    assert not [e for e in seen if e.get("bot_id")]  # bolt drops the app's own messages


async def test_socket_mode_mentions_and_app_home(
    fake_slack: FakeSlack, socket_app: tuple[AsyncApp, list[dict[str, Any]]]
) -> None:
    _, seen = socket_app
    fake_slack.bot_events |= {"app_mention", "app_home_opened"}
    # Events nobody listens to are never acked: wait less than 3 s for them, but leave
    # the acked message event room on a loaded machine.
    fake_slack.ack_timeout = 1.5
    alice = fake_slack.add_user("alice")
    fake_slack.add_user("bob")
    room = fake_slack.add_channel("labelers")
    said = await fake_slack.post_user_message(alice, room, "@hdops can @bob help? <3")
    assert said.message is not None
    assert (
        said.message.text
        == f"<@{fake_slack.bot.id}> can <@{fake_slack.user('bob').id}> help? &lt;3"
    )
    mention = fake_slack.deliveries[-1]
    assert mention.payload["event"]["type"] == "app_mention"
    assert not mention.acked  # the app has no app_mention listener: bolt does not ack
    home = await fake_slack.open_app_home(alice)
    assert home.payload["event"]["channel"] == fake_slack.dm_with(alice)
    assert seen[-1]["type"] == "message"


# ----------------------------------------------------------------------------- HTTP


async def test_http_mode_signed_requests_are_accepted(
    fake_slack: FakeSlack, http_app: tuple[AsyncApp, list[dict[str, Any]]]
) -> None:
    _, seen = http_app
    alice = fake_slack.add_user("alice")
    dm = fake_slack.dm_with(alice)
    command = await fake_slack.slash_command(alice, "/hdops", "next")
    assert command.status == 200 and command.acked
    task = await fake_slack.wait_for(lambda: newest(fake_slack.messages(dm)))
    click = await fake_slack.click_button(alice, task, "A is better")
    assert click.status == 200
    await fake_slack.wait_for(lambda: task.edited)
    assert task.text == "Task 1: you chose a"
    event = await fake_slack.post_user_message(alice, None, "hi")
    assert event.status == 200 and seen[-1]["text"] == "hi"
    retry = await fake_slack.redeliver(event)
    assert retry.status == 200 and retry.retry_attempt == 1
    help_ = await fake_slack.slash_command(alice, "/hdops", "help")
    assert help_.response == {"text": "Usage: /hdops next | ask | private"}
    assert await fake_slack.verify_url()


@pytest.mark.parametrize("signature", ["bad", "stale", "unsigned"])
async def test_http_mode_rejects_bad_or_stale_signatures(
    fake_slack: FakeSlack,
    http_app: tuple[AsyncApp, list[dict[str, Any]]],
    signature: Any,
) -> None:
    _, seen = http_app
    alice = fake_slack.add_user("alice")
    payload = fake_slack.payloads.slash_command(
        alice, "/hdops", "next", fake_slack.ws.dm_with(alice)
    )
    delivery = await fake_slack.deliver("slash_commands", payload, signature=signature)
    assert delivery.status == 401 and not delivery.acked
    assert seen == []
