"""Inbound never fails Slack: malformed payloads and failures inside hdops are
acknowledged at once (never an HTTP 500, never a missing Socket Mode ack), change
nothing, are counted, and the person is told privately when there is one to tell.

The real slack-bolt app on the fake Slack, over Socket Mode and HTTP."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from bots import metrics
from hdops.store.db import Store
from hdops.store.orm import Answer, Clarification, ClarificationMessage
from tests.e2e.slack_system import SlackWorld, slack_world
from tests.fakes.slack.server import Delivery, FakeSlack
from tests.fakes.slack.workspace import FakeMessage

pytest_plugins = ["tests.fakes.slack.fixtures"]

TRANSPORTS = ["socket", "http"]
UNREADABLE = "could not read that"
FAILED = "did not work"


def acked_at_once(delivery: Delivery) -> None:
    assert delivery.acked, delivery
    assert delivery.ack_seconds is not None and delivery.ack_seconds < 2.0
    if delivery.transport == "http":
        assert delivery.status == 200


def count(store: Store, column: Any) -> int:
    with store.unit_of_work() as s:
        return s.scalar(select(func.count(column))) or 0


def notes(fake: FakeSlack, user: Any) -> list[str]:
    return [m.plain_text for m in fake.ephemerals(user)] + [
        m.plain_text for m in fake.messages(fake.dm_with(user)) if UNREADABLE in m.plain_text
    ]


@asynccontextmanager
async def with_task(store: Store, fake: FakeSlack, transport: str) -> AsyncIterator[Any]:
    async with slack_world(store, fake, transport) as w:
        await fake.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        yield w, task


def click_payload(fake: FakeSlack, w: SlackWorld, task: FakeMessage, label: str) -> dict[str, Any]:
    button = fake.find_button(task, label)
    action = fake.payloads.action(button, None, None)
    channel = fake.ws.channel(task.channel)
    return fake.payloads.block_actions_on_message(fake.ws.user(w.alice), channel, task, action)


# --------------------------------------------------------------------------- forms


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_form_without_state_values_is_acked_with_an_error_and_changes_nothing(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with with_task(store, fake_slack, transport) as (w, task):
        await fake_slack.click_button(w.alice, task, "Ask a question")
        await w.settle()
        view = fake_slack.open_view(w.alice)
        assert view is not None
        payload = fake_slack.payloads.view_submission(fake_slack.ws.user(w.alice), view)
        del payload["view"]["state"]
        before = metrics.value(
            "hdops_events_unreadable_total", platform="slack", kind="view_submission"
        )

        delivery = await fake_slack.deliver("interactive", payload)
        await w.settle()
        acked_at_once(delivery)
        answer = delivery.response or {}
        assert answer.get("response_action") == "errors"
        [(block, error)] = answer["errors"].items()
        assert block in {b["block_id"] for b in view.blocks if b["type"] == "input"}
        assert UNREADABLE in error and len(error) <= 150
        assert count(store, Clarification.id) == 0
        assert (
            metrics.value("hdops_events_unreadable_total", platform="slack", kind="view_submission")
            == before + 1
        )

        # the same form, submitted whole, still works
        done = await fake_slack.submit_view(
            w.alice, values={"question": {"question": "Which is shorter?"}}
        )
        await w.settle()
        assert done.acked and count(store, Clarification.id) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_form_whose_handling_fails_is_acked_with_an_error(
    store: Store, fake_slack: FakeSlack, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with with_task(store, fake_slack, transport) as (w, task):
        await fake_slack.click_button(w.alice, task, "Ask a question")
        await w.settle()

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("database went away")

        monkeypatch.setattr(w.adapter.core, "form", broken)
        before = metrics.value("hdops_event_errors_total", platform="slack", kind="view_submission")
        delivery = await fake_slack.submit_view(
            w.alice, values={"question": {"question": "Which is shorter?"}}
        )
        await w.settle()
        acked_at_once(delivery)
        [error] = delivery.errors.values()
        assert FAILED in error
        assert fake_slack.open_view(w.alice) is not None  # kept open, nothing typed is lost
        assert (
            metrics.value("hdops_event_errors_total", platform="slack", kind="view_submission")
            == before + 1
        )


# --------------------------------------------------------------------------- buttons


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_button_press_missing_pieces_is_acked_and_changes_nothing(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with with_task(store, fake_slack, transport) as (w, task):
        no_user = click_payload(fake_slack, w, task, "Tie")
        del no_user["user"]
        no_actions = click_payload(fake_slack, w, task, "Tie")
        no_actions["actions"] = []
        no_action_id = click_payload(fake_slack, w, task, "Tie")
        del no_action_id["actions"][0]["action_id"]
        bad_option = click_payload(fake_slack, w, task, "Tie")
        bad_option["actions"][0]["selected_option"] = {"text": "Tie"}  # no value

        for payload, told in (
            (no_user, False),  # nobody to tell
            (no_actions, True),  # bolt itself cannot read it
            (no_action_id, True),
            (bad_option, True),
        ):
            shown = len(notes(fake_slack, w.alice))
            delivery = await fake_slack.deliver("interactive", payload)
            await w.settle()
            acked_at_once(delivery)
            assert count(store, Answer.id) == 0
            said = notes(fake_slack, w.alice)[shown:]
            if told:
                assert len(said) == 1 and UNREADABLE in said[0], said
            else:
                assert said == []

        await fake_slack.click_button(w.alice, task, "Tie")  # a whole click still works
        await w.settle()
        assert count(store, Answer.id) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_failure_inside_hdops_is_acked_counted_and_explained(
    store: Store, fake_slack: FakeSlack, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with with_task(store, fake_slack, transport) as (w, task):

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("database went away")

        monkeypatch.setattr(w.adapter.core, "action", broken)
        monkeypatch.setattr(w.adapter.core, "command", broken)
        before = metrics.value("hdops_event_errors_total", platform="slack", kind="action")

        click = await fake_slack.click_button(w.alice, task, "Tie")
        command = await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        acked_at_once(click)
        acked_at_once(command)
        said = [n for n in notes(fake_slack, w.alice) if FAILED in n]
        assert len(said) == 2 and "tell ops" in said[0]
        assert "button press" in said[0] and "command" in said[1]
        assert metrics.value("hdops_event_errors_total", platform="slack", kind="action") == (
            before + 1
        )
        assert count(store, Answer.id) == 0


# --------------------------------------------------------------------------- commands and events


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_command_without_user_and_message_without_channel_are_acked(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with with_task(store, fake_slack, transport) as (w, _task):
        payload = fake_slack.payloads.slash_command(
            fake_slack.ws.user(w.alice), "/hdops", "next", fake_slack.ws.dm_with(w.alice)
        )
        del payload["user_id"]
        delivery = await fake_slack.deliver("slash_commands", payload)
        acked_at_once(delivery)

        await fake_slack.slash_command(w.alice, "/hdops", "ask which one?")
        await w.settle()
        [post] = [m for m in fake_slack.messages(w.clar) if m.thread_ts in (None, m.ts)]
        reply = await fake_slack.post_user_message(w.rita, w.clar, "hello", thread_ts=post.ts)
        event = copy.deepcopy(reply.payload["event"])
        del event["channel"]
        before = metrics.value(
            "hdops_events_unreadable_total", platform="slack", kind="thread_reply"
        )
        broken = await fake_slack.send_event(event)
        await w.settle()
        acked_at_once(broken)
        assert (
            metrics.value("hdops_events_unreadable_total", platform="slack", kind="thread_reply")
            == before + 1
        )
        with store.unit_of_work() as s:
            assert s.scalar(select(func.count(ClarificationMessage.id))) == 2  # question, hello


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_relay_failure_is_explained_to_the_writer(
    store: Store, fake_slack: FakeSlack, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with with_task(store, fake_slack, transport) as (w, _task):
        await fake_slack.slash_command(w.alice, "/hdops", "ask which one?")
        await w.settle()
        [post] = [m for m in fake_slack.messages(w.clar) if m.thread_ts in (None, m.ts)]

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("database went away")

        monkeypatch.setattr(w.adapter.core, "thread_reply", broken)
        reply = await fake_slack.post_user_message(w.rita, w.clar, "hello", thread_ts=post.ts)
        await w.settle()
        acked_at_once(reply)
        [note] = fake_slack.ephemerals(w.rita, w.clar)
        assert "That message did not work" in note.plain_text
