"""The Discord adapter end to end: the real discord.py client and `DiscordPort`
against the strict fake Discord, with the real core, outbox and store.

A contractor runs `/hdops command: next`, gets a task in a DM, presses an answer
button: the answer is stored once, the task message is edited, the next task
arrives — and a button on a message sent before the bot restarted still works.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hdops.services.people import add_person
from hdops.store.db import Store
from hdops.store.orm import Answer, Shift
from tests.e2e.discord_system import running, tasks, until
from tests.fakes.discord import FakeDiscord, FakeMessage
from tests.helpers import add_items, make_project

pytestmark = pytest.mark.timeout(60)
pytest_plugins = ["tests.fakes.discord.fixtures"]


async def test_a_task_is_answered_with_a_button_and_survives_a_restart(
    fake_discord: FakeDiscord, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 4)
        add_person(s, "alice", identities=[f"discord:{alice.id}"], roles=["contractor"])

    async with running(fake_discord, store, monkeypatch):
        asked = await fake_discord.slash_command(alice, "hdops", ["next"])
        assert asked.responded and (asked.responded_after or 9) < 3
        await until(lambda: len(tasks(fake_discord, alice)) == 1)
        first = tasks(fake_discord, alice)[0]
        answer = next(c for c in first.custom_ids() if c.startswith("hd:ans:"))
        clicked = await fake_discord.click(alice, first, answer)
        assert clicked.responded, clicked
        await until(
            lambda: (
                first.edited is not None
                and any(m.id != first.id for m in tasks(fake_discord, alice))
            )
        )
        assert "hd:ans:" not in " ".join(first.custom_ids())  # answered: no buttons left
        second = next(m for m in tasks(fake_discord, alice) if m.id != first.id)
    with store.read() as s:
        assert s.scalar(select(func.count(Answer.id))) == 1

    # A new process: the button on the message sent before the restart still works.
    async with running(fake_discord, store, monkeypatch):
        answer = next(c for c in second.custom_ids() if c.startswith("hd:ans:"))
        clicked = await fake_discord.click(alice, second, answer)
        assert clicked.responded
        await until(lambda: second.edited is not None)
    with store.read() as s:
        assert s.scalar(select(func.count(Answer.id))) == 2


def test_run_discord_names_the_missing_token(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from bots.cli import app

    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    monkeypatch.delenv("DISCORD_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["run", "--discord"])
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        "error: missing configuration: set DISCORD_BOT_TOKEN"
    ]


async def test_a_question_goes_to_the_channel_and_the_answer_comes_back_without_pings(
    fake_discord: FakeDiscord, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    rita = fake_discord.add_user("rita")
    room = fake_discord.add_channel("questions")
    with store.unit_of_work() as s:
        project = make_project(
            s,
            researchers=[f"discord:{rita.id}"],
            clarifications={"discord_channel": room.id, "home": "discord"},
        )
        add_items(s, project, 3)
        add_person(s, "alice", identities=[f"discord:{alice.id}"], roles=["contractor"])
        add_person(s, "rita", identities=[f"discord:{rita.id}"], roles=["researcher"])

    async with running(fake_discord, store, monkeypatch):
        await fake_discord.slash_command(alice, "hdops", ["next"])
        await until(lambda: len(tasks(fake_discord, alice)) == 1)
        task = tasks(fake_discord, alice)[0]
        ask = next(c for c in task.custom_ids() if c.startswith("hd:ask:"))
        opened = await fake_discord.click(alice, task, ask)
        assert opened.response_type == 9  # the question form, as a modal
        modal = fake_discord.open_modal(alice)
        assert modal is not None
        field = next(str(i.get("custom_id")) for i in modal.inputs())
        await fake_discord.submit_modal(alice, modal, {field: "Is a tie allowed? @everyone"})
        await until(lambda: len(fake_discord.channel_messages(room)) == 1)
        [post] = fake_discord.channel_messages(room)

        # rita answers in a thread on the question, as Discord's client lets her
        thread = fake_discord.world.add_thread(room, "Question", rita, post.id)
        await fake_discord.dispatch("THREAD_CREATE", {**thread.to_json(), "newly_created": True})
        await fake_discord.post_in_thread(rita, thread, "Yes, ties are fine. @everyone <@123>")

        def relayed() -> list[FakeMessage]:
            return [m for m in fake_discord.dms(alice) if m.reference == task.id]

        await until(lambda: any("ties are fine" in str(m.embeds) for m in relayed()))
        reply = next(m for m in relayed() if "ties are fine" in str(m.embeds))
        shown = str(reply.embeds)
        assert "rita (researcher)" in shown
        assert "@everyone" not in shown and "<@123>" not in shown  # defanged
        assert reply.content == ""  # nothing outside the embed that could ping


async def test_ops_add_a_shift_and_a_contractor_is_refused(
    fake_discord: FakeDiscord, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    olga = fake_discord.add_user("olga")
    with store.unit_of_work() as s:
        add_person(s, "alice", identities=[f"discord:{alice.id}"], roles=["contractor"])
        add_person(s, "olga", identities=[f"discord:{olga.id}"], roles=["ops"])

    async with running(fake_discord, store, monkeypatch):
        # typed options: a member from Discord's picker, a date, a time, a zone, a count
        typed = {
            "user": alice,
            "date": "2030-01-07",
            "time": "09:00-13:00",
            "weekly": 2,
            "tz": "Europe/Paris",
        }
        await fake_discord.slash_command(olga, "hdops", ["shift", "add"], typed)
        await fake_discord.slash_command(alice, "hdops", ["shift", "add"], typed)
        said = {u.name: fake_discord.ephemerals(u)[-1].shown() for u in (olga, alice)}
        # a command typed as on Slack still works
        await fake_discord.slash_command(
            olga, "hdops", ["text"], {"command": "shift list alice --week 2030-W02"}
        )
        listed = fake_discord.ephemerals(olga)[-1].shown()
    assert "Only" in said["alice"] and "ops" in said["alice"]
    assert "alice" in said["olga"] and "Europe/Paris" in said["olga"]
    assert "alice" in listed and "08:00–12:00" in listed  # olga reads UTC
    with store.read() as s:
        shifts = list(s.scalars(select(Shift)))
    assert len(shifts) == 2  # weekly: 2
    assert {(sh.starts_at.hour, sh.starts_at.minute) for sh in shifts} == {(8, 0)}  # 09:00 CET


async def test_options_autocomplete_within_what_each_person_may_see(
    fake_discord: FakeDiscord, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    olga = fake_discord.add_user("olga")
    with store.unit_of_work() as s:
        make_project(s, name="helpful-pairs")
        make_project(s, name="harmless-ratings")
        add_person(s, "alice", identities=[f"discord:{alice.id}"], roles=["contractor"])
        add_person(s, "olga", identities=[f"discord:{olga.id}"], roles=["ops"])
        add_person(s, "albert", roles=["contractor"])

    async with running(fake_discord, store, monkeypatch):
        projects = await fake_discord.autocomplete(
            olga, "hdops", ["project", "status"], {"name": "HARM"}, "name"
        )
        assert [c["value"] for c in projects] == ["harmless-ratings"]
        names = await fake_discord.autocomplete(
            olga, "hdops", ["payouts", "adjust"], {"person": "al"}, "person"
        )
        assert [c["value"] for c in names] == ["albert", "alice"]
        weeks = await fake_discord.autocomplete(
            olga, "hdops", ["payouts", "show"], {"week": ""}, "week"
        )
        assert [c["value"] for c in weeks][:3] == ["last", "this", "next"]
        zones = await fake_discord.autocomplete(alice, "hdops", ["tz"], {"zone": "paris"}, "zone")
        assert [c["value"] for c in zones] == ["Europe/Paris"]
        # a contractor learns no names and no projects through commands she cannot run
        hidden = await fake_discord.autocomplete(
            alice, "hdops", ["payouts", "adjust"], {"person": "al"}, "person"
        )
        assert hidden == []
        hidden = await fake_discord.autocomplete(
            alice, "hdops", ["project", "status"], {"name": ""}, "name"
        )
        assert hidden == []
