"""The rest of the product on Discord, end to end with the real discord.py client:
text answers in a modal (and a short one sent back to be fixed, what was typed kept),
a weekly statement in a DM and a dispute that reaches ops and comes back, and a
Gateway connection dropped mid-session that loses and doubles nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hdops.services import clarifications, payouts
from hdops.services.people import add_person
from hdops.store.db import Store
from hdops.store.orm import Answer, Clarification, Dispute, Shift
from tests.e2e.discord_system import control, discord_settings, running, tasks, until, with_ids
from tests.fakes.discord import FakeDiscord
from tests.helpers import T0, add_items, make_project
from tests.payout_data import answer

pytestmark = pytest.mark.timeout(60)
pytest_plugins = ["tests.fakes.discord.fixtures"]


async def test_a_text_answer_is_written_in_a_modal_and_a_short_one_is_sent_back(
    fake_discord: FakeDiscord, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    with store.unit_of_work() as s:
        project = make_project(
            s, name="replies", task={"type": "text", "fields": ["ticket"], "min_chars": 20}
        )
        add_items(s, project, 2)
        add_person(s, "alice", identities=[f"discord:{alice.id}"], roles=["contractor"])

    async with running(fake_discord, store, monkeypatch):
        await fake_discord.slash_command(alice, "hdops", ["next"])
        await until(lambda: len(with_ids(fake_discord, alice, "hd:text:")) == 1)
        [task] = with_ids(fake_discord, alice, "hd:text:")
        opened = await fake_discord.click(alice, task, control(task, "hd:text:"))
        assert opened.response_type == 9
        modal = fake_discord.open_modal(alice)
        assert modal is not None
        [field] = [str(i["custom_id"]) for i in modal.inputs()]

        # too short: an ephemeral answer says what to fix, and a button reopens the
        # form with what was typed still in it
        short = await fake_discord.submit_modal(alice, modal, {field: "Too short."})
        assert short.responded
        said = fake_discord.ephemerals(alice)[-1]
        assert "20" in said.shown()
        reopen = (
            control(said, "hdreopen:")
            if any(c.startswith("hdreopen:") for c in said.custom_ids())
            else said.custom_ids()[0]
        )
        await fake_discord.click(alice, said, reopen)
        again = fake_discord.open_modal(alice)
        assert again is not None
        assert [i.get("value") for i in again.inputs()] == ["Too short."]
        with store.read() as s:
            assert s.scalar(select(func.count(Answer.id))) == 0

        written = "A careful reply that explains the refund policy."
        done = await fake_discord.submit_modal(alice, again, {field: written})
        assert done.responded
        await until(lambda: task.edited is not None)
        assert "hd:text:" not in " ".join(task.custom_ids())
    with store.read() as s:
        [stored] = s.scalars(select(Answer)).all()
        assert stored.answer == {"text": written}


async def test_a_statement_arrives_in_a_dm_and_a_dispute_goes_to_ops_and_back(
    fake_discord: FakeDiscord, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    olga = fake_discord.add_user("olga")
    ops_room = fake_discord.add_channel("ops")
    with store.unit_of_work() as s:
        items = add_items(s, make_project(s), 3)
        a = add_person(s, "alice", identities=[f"discord:{alice.id}"], roles=["contractor"])
        add_person(s, "olga", identities=[f"discord:{olga.id}"], roles=["ops"])
        answer(s, a, items[0], T0 + timedelta(hours=1))
        answer(s, a, items[1], T0 + timedelta(hours=2), status="rejected", reason="ignored B")
    settings = discord_settings(fake_discord, discord_ops_channel=ops_room.id)
    with store.unit_of_work() as s:
        run = payouts.run_weekly_payouts(s, T0 + timedelta(days=7), settings)
    assert run.statements == 1

    async with running(fake_discord, store, monkeypatch, settings):
        await until(lambda: len(with_ids(fake_discord, alice, "hd:dispute:")) == 1)
        [statement] = with_ids(fake_discord, alice, "hd:dispute:")
        shown = statement.shown()
        assert "0.40 USD" in shown and "ignored B" in shown
        await until(lambda: len(fake_discord.channel_messages(ops_room)) == 1)
        summary = fake_discord.channel_messages(ops_room)[0]
        assert "Payouts 2026-W10" in summary.shown()
        # the chart came as a PNG uploaded with the message, shown by its embed
        [chart] = summary.attachments
        assert chart["data"].startswith(b"\x89PNG") and chart["filename"].endswith(".png")
        shown_images = [e["image"]["url"] for e in summary.embeds if "image" in e]
        assert shown_images == [f"attachment://{chart['filename']}"]

        # her own statement on demand, privately; nobody else's
        await fake_discord.slash_command(alice, "hdops", ["payouts", "show"], {"week": "2026-W10"})
        mine = fake_discord.ephemerals(alice)[-1]
        assert "Your statement 2026-W10" in mine.shown()

        opened = await fake_discord.click(alice, statement, control(statement, "hd:dispute:"))
        assert opened.response_type == 9
        modal = fake_discord.open_modal(alice)
        assert modal is not None
        [field] = [str(i["custom_id"]) for i in modal.inputs()]
        await fake_discord.submit_modal(alice, modal, {field: "I followed the FAQ @everyone"})
        await until(lambda: len(fake_discord.channel_messages(ops_room)) == 2)
        post = fake_discord.channel_messages(ops_room)[-1]
        assert "Dispute #1" in post.shown() and "I followed the FAQ" in post.shown()
        assert "@everyone" not in str(post.embeds) + post.content  # defanged: pings nobody

        thread = fake_discord.world.add_thread(ops_room, "Dispute", olga, post.id)
        await fake_discord.dispatch("THREAD_CREATE", {**thread.to_json(), "newly_created": True})
        await fake_discord.post_in_thread(olga, thread, "Which FAQ entry?")

        def relayed() -> bool:
            return any("Which FAQ entry?" in m.shown() for m in fake_discord.dms(alice))

        await until(relayed)
    with store.read() as s:
        assert s.scalar(select(func.count(Dispute.id))) == 1


async def test_a_dropped_gateway_resumes_and_no_click_is_lost_or_doubled(
    fake_discord: FakeDiscord, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 5)
        add_person(s, "alice", identities=[f"discord:{alice.id}"], roles=["contractor"])

    async with running(fake_discord, store, monkeypatch):
        await fake_discord.slash_command(alice, "hdops", ["next"])
        await until(lambda: len(tasks(fake_discord, alice)) == 1)
        [first] = tasks(fake_discord, alice)

        # the connection drops; alice clicks while the bot is away: Discord keeps the
        # event in the session and replays it on RESUME
        await fake_discord.drop_gateway()
        clicked = await fake_discord.click(alice, first, control(first, "hd:ans:"))
        await fake_discord.wait_resumed()
        assert clicked.responded, "the click made during the outage was answered"
        assert fake_discord.gateway.resumes == 1 and fake_discord.gateway.identifies == 1
        await until(lambda: any(m.id != first.id for m in tasks(fake_discord, alice)))
        [second] = [m for m in tasks(fake_discord, alice) if m.id != first.id]

        # Discord may deliver an event again (a replay overlapping what the bot saw):
        # the same interaction stores nothing twice
        await fake_discord.dispatch("INTERACTION_CREATE", clicked.payload)
        callback = "/interactions/{interaction_id}/{interaction_token}/callback"

        def answered_again() -> list[int]:
            return [
                c.status for c in fake_discord.calls_to("POST", callback) if clicked.id in c.path
            ]

        # the bot saw the replay (Discord refuses a second answer to one interaction)
        await until(lambda: len(answered_again()) == 2)
        assert answered_again()[1] == 400
        await fake_discord.drop_gateway()
        await fake_discord.wait_resumed()
        await fake_discord.click(alice, second, control(second, "hd:ans:"))
        await until(lambda: second.edited is not None)
    with store.read() as s:
        assert s.scalar(select(func.count(Answer.id))) == 2


async def test_the_on_call_researcher_is_pinged_and_an_escalation_pings_every_researcher(
    fake_discord: FakeDiscord, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pings are what Discord decides from content and allowed_mentions: the question
    pings the researcher on a shift, an unanswered one pings every researcher in its
    thread, and nothing a contractor wrote pings anyone."""
    alice = fake_discord.add_user("alice")
    rita = fake_discord.add_user("rita")
    sam = fake_discord.add_user("sam")
    room = fake_discord.add_channel("questions")
    now = datetime.now(UTC)
    with store.unit_of_work() as s:
        project = make_project(
            s,
            researchers=[f"discord:{rita.id}", f"discord:{sam.id}"],
            clarifications={"discord_channel": room.id, "home": "discord"},
        )
        add_items(s, project, 3)
        add_person(s, "alice", identities=[f"discord:{alice.id}"], roles=["contractor"])
        add_person(s, "rita", identities=[f"discord:{rita.id}"], roles=["researcher"])
        on_call = add_person(s, "sam", identities=[f"discord:{sam.id}"], roles=["researcher"])
        s.add(
            Shift(
                person_id=on_call.id,
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=3),
                role="researcher",
                status="scheduled",
                tz="UTC",
                created_at=now,
            )
        )

    async with running(fake_discord, store, monkeypatch):
        await fake_discord.slash_command(alice, "hdops", ["next"])
        await until(lambda: len(tasks(fake_discord, alice)) == 1)
        await fake_discord.slash_command(alice, "hdops", ["ask"], {"text": "Tie? @everyone"})
        await until(lambda: len(fake_discord.channel_messages(room)) == 1)
        [post] = fake_discord.channel_messages(room)
        assert post.pinged == {sam.id} and not post.pinged_everyone

        with store.unit_of_work() as s:  # the question has waited 31 min
            [question] = s.scalars(select(Clarification)).all()
            question.opened_at -= timedelta(minutes=31)
        with store.unit_of_work() as s:
            assert clarifications.due_escalations(s, datetime.now(UTC))
        await until(lambda: bool(fake_discord.threads(room)))
        [thread] = fake_discord.threads(room)
        await until(lambda: len(fake_discord.thread_messages(thread)) == 1)
        [escalation] = fake_discord.thread_messages(thread)
        assert escalation.pinged == {rita.id, sam.id} and not escalation.pinged_everyone
