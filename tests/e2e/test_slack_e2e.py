"""hdops on a fake Slack, end to end: real slack-bolt and slack_sdk, real store.

Every request the bot sends is validated by the fake against Slack's official
OpenAPI spec and Block Kit limits; the `fake_slack` fixture fails the test on
any violation.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hdops.store.db import Store
from hdops.store.orm import Answer, Clarification, Project
from tests.e2e.slack_system import slack_world
from tests.fakes.slack.server import FakeSlack

pytest_plugins = ["tests.fakes.slack.fixtures"]

TRANSPORTS = ["socket", "http"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_task_answer_next_task(store: Store, fake_slack: FakeSlack, transport: str) -> None:
    async with slack_world(store, fake_slack, transport) as w:
        delivery = await fake_slack.slash_command(w.alice, "/hdops", "next")
        assert delivery.acked and delivery.ack_seconds < 3
        await w.settle()
        [task] = w.tasks(w.alice)
        assert "Helpfulness comparisons" in str(task.blocks)
        assert any("next task" in e.text for e in fake_slack.ephemerals(w.alice))

        click = await fake_slack.click_button(w.alice, task, "A is better")
        assert click.acked and click.ack_seconds < 3
        await w.settle()
        updated = next(m for m in w.dm(w.alice) if m.ts == task.ts)
        assert updated.edited and "Recorded: A is better" in str(updated.blocks)
        assert not updated.buttons() or all(
            not b["action_id"].startswith("hd:ans:") for b in updated.buttons()
        )
        [following] = w.tasks(w.alice)
        assert following.ts != task.ts
        # DM channel cached: one conversations.open for the whole conversation
        assert len(fake_slack.calls_to("conversations.open")) == 1


async def test_redelivered_click_stores_one_answer(store: Store, fake_slack: FakeSlack) -> None:
    async with slack_world(store, fake_slack) as w:
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        first = await fake_slack.click_button(w.alice, task, "B is better")
        await fake_slack.redeliver(first)
        await w.settle()
        with store.unit_of_work() as s:
            assert s.scalar(select(func.count(Answer.id))) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_text_task_answered_in_a_modal(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    task_spec = {"type": "text", "fields": ["prompt"], "min_chars": 20}
    async with slack_world(store, fake_slack, transport, task=task_spec) as w:
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        await fake_slack.click_button(w.alice, task, "Write answer")
        await w.settle()
        view = fake_slack.open_view(w.alice)
        assert view is not None
        # Slack's client enforces min_length; the core still counts what is really there
        padded = " " * 20 + "short"
        short = await fake_slack.submit_view(w.alice, values={"text": {"text": padded}})
        assert short.errors and "at least 20" in next(iter(short.errors.values()))
        assert fake_slack.open_view(w.alice) is not None  # stays open with the error
        await fake_slack.submit_view(
            w.alice, values={"text": {"text": "A full and careful demonstration answer."}}
        )
        await w.settle()
        assert fake_slack.open_view(w.alice) is None
        with store.unit_of_work() as s:
            answer = s.scalars(select(Answer)).one()
            assert answer.answer == {"text": "A full and careful demonstration answer."}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_question_relay_and_resolve(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with slack_world(store, fake_slack, transport) as w:
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        await fake_slack.click_button(w.alice, task, "Ask a question")
        await w.settle()
        await fake_slack.submit_view(
            w.alice, values={"question": {"question": "Is a refusal helpful? <!channel> @here"}}
        )
        await w.settle()
        [post] = [m for m in fake_slack.messages(w.clar) if m.thread_ts in (None, m.ts)]
        assert "Is a refusal helpful?" in str(post.blocks)
        assert "<!channel>" not in str(post.blocks)  # escaped, inert

        await fake_slack.post_user_message(
            w.rita, w.clar, "Yes if the request is harmful <!everyone>", thread_ts=post.ts
        )
        await w.settle()
        relayed = fake_slack.thread(fake_slack.dm_with(w.alice), task.ts)
        assert any("Yes if the request is harmful" in str(m.blocks) for m in relayed)
        assert not any("<!everyone>" in str(m.blocks) for m in relayed)

        await fake_slack.post_user_message(
            w.alice, None, "Thanks, and partial ones?", thread_ts=task.ts
        )
        await w.settle()
        back = fake_slack.thread(w.clar, post.ts)
        assert any("Thanks, and partial ones?" in str(m.blocks) for m in back)

        await fake_slack.click_button(w.rita, post, "Resolve")
        await w.settle()
        with store.unit_of_work() as s:
            clar = s.scalars(select(Clarification)).one()
            assert clar.status == "resolved" and clar.first_answered_at is not None
        assert any(
            "resolved by" in str(m.blocks)
            for m in fake_slack.thread(fake_slack.dm_with(w.alice), task.ts)
        )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_pause_and_project_pause_roles(
    store: Store, fake_slack: FakeSlack, transport: str
) -> None:
    async with slack_world(store, fake_slack, transport) as w:
        await fake_slack.slash_command(w.alice, "/hdops", "pause")
        await w.settle()
        assert any("Paused" in e.text or "paused" in e.text for e in fake_slack.ephemerals(w.alice))

        await fake_slack.slash_command(w.alice, "/hdops", "project pause helpful-pairs")
        await w.settle()
        assert any("Only researcher or ops" in e.text for e in fake_slack.ephemerals(w.alice))
        with store.unit_of_work() as s:
            assert s.scalars(select(Project.status)).one() == "active"

        await fake_slack.slash_command(w.otto, "/hdops", "project pause helpful-pairs")
        await w.settle()
        with store.unit_of_work() as s:
            assert s.scalars(select(Project.status)).one() == "paused"
        assert any("paused" in e.text for e in fake_slack.ephemerals(w.otto))


async def test_mentions_in_commands_resolve_to_people(store: Store, fake_slack: FakeSlack) -> None:
    async with slack_world(store, fake_slack) as w:
        await fake_slack.slash_command(w.otto, "/hdops", "project status @rita")
        await w.settle()
        notes = [e.text for e in fake_slack.ephemerals(w.otto)]
        assert any(f"no project named 'slack:{w.rita.id}'" in n for n in notes), notes


@pytest.mark.parametrize("signature", ["unsigned", "bad", "stale"])
async def test_unsigned_or_stale_http_requests_are_rejected(
    store: Store, fake_slack: FakeSlack, signature: str
) -> None:
    async with slack_world(store, fake_slack, "http") as w:
        payload = fake_slack.payloads.slash_command(
            fake_slack.ws.user(w.otto),
            "/hdops",
            "project pause helpful-pairs",
            fake_slack.ws.dm_with(fake_slack.ws.user(w.otto)),
        )
        delivery = await fake_slack.deliver("slash_commands", payload, signature=signature)
        assert delivery.status == 401
        with store.unit_of_work() as s:
            assert s.scalars(select(Project.status)).one() == "active"


async def test_unknown_user_gets_one_clear_message(store: Store, fake_slack: FakeSlack) -> None:
    async with slack_world(store, fake_slack) as w:
        eve = fake_slack.add_user("eve")
        await fake_slack.slash_command(eve, "/hdops", "next")
        await w.settle()
        [note] = fake_slack.ephemerals(eve)
        assert "not registered" in note.text and f"slack:{eve.id}" in note.text


async def test_rate_limit_and_server_errors_are_retried(
    store: Store, fake_slack: FakeSlack
) -> None:
    async with slack_world(store, fake_slack) as w:
        fake_slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
        fake_slack.fail_next("chat.update", status=503)
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        await fake_slack.click_button(w.alice, task, "Tie")
        await w.settle()
        for _ in range(40):
            if len(w.tasks(w.alice)) == 1 and w.tasks(w.alice)[0].ts != task.ts:
                break
            await w.settle()
        assert len(w.tasks(w.alice)) == 1 and w.tasks(w.alice)[0].ts != task.ts


async def test_user_who_left_is_a_logged_error_not_a_crash(
    store: Store, fake_slack: FakeSlack
) -> None:
    async with slack_world(store, fake_slack) as w:
        fake_slack.deactivate(w.bob)
        await fake_slack.slash_command(w.bob, "/hdops", "next")
        await w.settle()
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        assert len(w.tasks(w.alice)) == 1  # the bot still works for everyone else


async def test_event_retries_relay_a_thread_reply_once(store: Store, fake_slack: FakeSlack) -> None:
    async with slack_world(store, fake_slack) as w:
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        [task] = w.tasks(w.alice)
        await fake_slack.slash_command(w.alice, "/hdops", "ask which one is shorter?")
        await w.settle()
        [post] = [m for m in fake_slack.messages(w.clar) if m.thread_ts in (None, m.ts)]
        reply = await fake_slack.post_user_message(w.rita, w.clar, "The second.", thread_ts=post.ts)
        await fake_slack.redeliver(reply, reason="http_timeout")  # X-Slack-Retry-Num: 1
        await w.settle()
        relayed = [
            m
            for m in fake_slack.thread(fake_slack.dm_with(w.alice), task.ts)
            if "The second." in str(m.blocks)
        ]
        assert len(relayed) == 1


async def test_archived_clarification_channel_is_surfaced_to_ops(
    store: Store, fake_slack: FakeSlack
) -> None:
    async with slack_world(store, fake_slack) as w:
        fake_slack.archive(w.clar)
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        await fake_slack.slash_command(w.alice, "/hdops", "ask is this still on?")
        await w.settle()
        notes = [m for m in fake_slack.messages(w.ops) if "Message not delivered" in str(m.blocks)]
        assert notes and "is_archived" in str(notes[0].blocks)
        # the bot keeps working: her next task (the asked-about one waits) can be answered
        task = w.tasks(w.alice)[-1]
        await fake_slack.click_button(w.alice, task, "Tie")
        await w.settle()
        with store.unit_of_work() as s:
            assert s.scalar(select(func.count(Answer.id))) == 1


async def test_http_mode_serves_health_and_metrics(store: Store, fake_slack: FakeSlack) -> None:
    import aiohttp

    async with slack_world(store, fake_slack, "http") as w:
        await fake_slack.slash_command(w.alice, "/hdops", "next")
        await w.settle()
        base = (fake_slack.app_url or "").rsplit("/slack/events", 1)[0]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
                body = await resp.json()
                assert body["ok"] is True and body["platforms"] == ["slack"]
            async with http.get(f"{base}/metrics") as resp:
                text = await resp.text()
                assert resp.status == 200
                assert 'hdops_events_total{kind="command",platform="slack"}' in text
                assert fake_slack.bot_token not in text


async def test_charts_are_uploaded_as_files_next_to_the_message(
    store: Store, fake_slack: FakeSlack
) -> None:
    import base64
    from datetime import UTC, datetime

    from hdops import intents
    from hdops.chat import Image, Message, Paragraph

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
    async with slack_world(store, fake_slack) as w:
        with store.unit_of_work() as s:
            message = Message(
                text="Weekly digest",
                parts=[
                    Paragraph(text="Coverage this week"),
                    Image(filename="coverage.png", title="Coverage", png_base64=png),
                ],
            )
            intents.to_ops(s, message, datetime.now(UTC))
        await w.settle()
        posts = [m for m in fake_slack.messages(w.ops) if "Coverage this week" in str(m.blocks)]
        assert len(posts) == 1  # posted once, chart alongside
        assert fake_slack.calls_to("files.getUploadURLExternal")
        [done] = fake_slack.calls_to("files.completeUploadExternal")
        assert done.params.get("channel_id") == w.ops.id
