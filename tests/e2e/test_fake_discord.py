"""The fake Discord against the REAL discord.py: a minimal `discord.Client` with a
`CommandTree`, pointed at the fake, connects over the Gateway, syncs a command and
answers users. This proves the fake speaks Discord well enough for discord.py, and that
its strictness (3-second deadline, 2000-character content, rate limits) bites."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from tests.fakes.discord import FakeDiscord, FakeMessage

pytestmark = pytest.mark.timeout(30)
pytest_plugins = ["tests.fakes.discord.fixtures"]


class AnswerView(discord.ui.View):
    """A persistent view: its custom ids survive a restart (timeout None, ids fixed)."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Yes", custom_id="answer:yes")
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="You answered yes", view=None)

    @discord.ui.button(label="Explain", custom_id="answer:explain")
    async def explain(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_modal(ExplainModal())


class ExplainModal(discord.ui.Modal, title="Why?"):
    reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Rationale", custom_id="reason", max_length=4000
    )

    def __init__(self) -> None:
        super().__init__(custom_id="explain")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Noted: {self.reason.value}", ephemeral=True)


class Bot(discord.Client):
    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.none() | discord.Intents(guilds=True))
        self.guild_id = guild_id
        self.tree = app_commands.CommandTree(self)
        self.messages: list[str] = []
        group = app_commands.Group(name="hdops", description="hdops")

        @group.command(name="next", description="your next task")
        async def next_task(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("No task for now", ephemeral=True)

        @group.command(name="slow", description="deferred, then followed up")
        async def slow(interaction: discord.Interaction, weeks: int) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(0.2)
            await interaction.followup.send(f"{weeks} weeks done", ephemeral=True)

        @group.command(name="task", description="a task with buttons")
        async def task(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Is A better?", view=AnswerView())

        self.tree.add_command(group)

    async def setup_hook(self) -> None:
        self.add_view(AnswerView())
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    async def on_message(self, message: discord.Message) -> None:
        self.messages.append(message.content)


@contextlib.asynccontextmanager
async def running_bot(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    """A real discord.py client connected to the fake: READY and GUILD_CREATE seen."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    bot = Bot(int(fake.guild.id))
    task = asyncio.create_task(bot.start(fake.token))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_connects_syncs_and_answers_a_command_ephemerally(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    async with running_bot(fake_discord, monkeypatch) as bot:
        assert bot.get_guild(int(fake_discord.guild.id)) is not None  # GUILD_CREATE arrived
        assert [c["name"] for c in fake_discord.commands(fake_discord.guild)] == ["hdops"]
        interaction = await fake_discord.slash_command(alice, "hdops", ["next"])
        assert interaction.responded and interaction.responded_after is not None
        assert interaction.responded_after < 3
        [answer] = fake_discord.ephemerals(alice)
        assert answer.content == "No task for now"
        assert fake_discord.channel_messages(fake_discord.general) == []  # nobody else sees it

        slow = await fake_discord.slash_command(alice, "hdops", ["slow"], {"weeks": 2})
        assert slow.response_type == 5  # deferred, then a follow-up through the webhook
        await _until(
            lambda: any(m.content == "2 weeks done" for m in fake_discord.ephemerals(alice))
        )


async def test_a_button_on_a_persistent_view_and_a_modal(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    async with running_bot(fake_discord, monkeypatch):
        await fake_discord.slash_command(alice, "hdops", ["task"])
        [task] = fake_discord.channel_messages(fake_discord.general)
        assert task.custom_ids() == ["answer:yes", "answer:explain"]

        opened = await fake_discord.click(alice, task, "answer:explain")
        assert opened.response_type == 9
        modal = fake_discord.open_modal(alice)
        assert modal is not None and modal.title == "Why?"
        submitted = await fake_discord.submit_modal(alice, modal, {"reason": "A cites sources"})
        assert submitted.responded
        assert fake_discord.ephemerals(alice)[-1].content == "Noted: A cites sources"

        clicked = await fake_discord.click(alice, task, "answer:yes")
        assert clicked.response_type == 7
        assert task.content == "You answered yes" and task.components == []


async def test_a_late_answer_is_a_violation(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    fake_discord.interaction_deadline = 0.05  # discord.py answers in well under 3 s
    async with running_bot(fake_discord, monkeypatch) as bot:
        original = bot.tree.get_command("hdops")
        assert isinstance(original, app_commands.Group)

        @original.command(name="late", description="answers too late")
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.6)
            with contextlib.suppress(discord.NotFound):
                await interaction.response.send_message("too late")

        await bot.tree.sync(guild=discord.Object(int(fake_discord.guild.id)))
        interaction = await fake_discord.slash_command(alice, "hdops", ["late"])
        assert interaction.failed
        await _until(lambda: len(fake_discord.violations) >= 2)
    problems = [v.problem for v in fake_discord.pop_violations()]
    assert any("got no response within" in p for p in problems)
    assert any("answered after" in p for p in problems)


async def test_a_dropped_connection_resumes_and_replays_once(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    async with running_bot(fake_discord, monkeypatch) as bot:
        await fake_discord.drop_gateway()
        await fake_discord.send_dm(alice, "sent while the bot was away")
        await fake_discord.wait_resumed()
        await _until(lambda: bot.messages == ["sent while the bot was away"])
        assert fake_discord.gateway.identifies == 1 and fake_discord.gateway.resumes == 1
        await fake_discord.send_dm(alice, "after")
        await _until(lambda: len(bot.messages) == 2)
        assert bot.messages == ["sent while the bot was away", "after"]  # replayed once


async def test_a_thread_on_a_message_and_a_user_posting_in_it(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = fake_discord.add_user("alice")
    async with running_bot(fake_discord, monkeypatch) as bot:
        channel = bot.get_channel(int(fake_discord.general.id))
        assert isinstance(channel, discord.TextChannel)
        question = await channel.send(
            "Question from a contractor", allowed_mentions=discord.AllowedMentions.none()
        )
        await question.create_thread(name="clarification")
        [thread] = fake_discord.threads(fake_discord.general)
        await fake_discord.post_in_thread(alice, thread, "Use the rubric, section 2")
        await _until(lambda: "Use the rubric, section 2" in bot.messages)
        assert _texts(fake_discord.thread_messages(thread)) == ["Use the rubric, section 2"]


async def test_an_invalid_session_makes_the_bot_identify_again(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(fake_discord, monkeypatch):
        await fake_discord.invalidate_session()
        await fake_discord.wait_ready()
        assert fake_discord.gateway.identifies == 2


async def test_a_429_is_waited_out_and_retried(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(fake_discord, monkeypatch) as bot:
        channel = bot.get_channel(int(fake_discord.general.id))
        assert isinstance(channel, discord.TextChannel)
        fake_discord.fail_next("POST /channels/{channel_id}/messages", retry_after=0.3)
        await channel.send("hello")
        sends = fake_discord.calls_to("POST", "/channels/{channel_id}/messages")
        assert [c.status for c in sends] == [429, 200]
        assert sends[1].time - sends[0].time >= 0.3
        assert [m.content for m in fake_discord.channel_messages(fake_discord.general)] == ["hello"]


async def test_the_rate_limit_buckets_pace_discord_py(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six sends to one channel: the bucket allows 5 per 5 s and says so in its headers,
    so discord.py waits for the reset before the sixth instead of being refused."""
    monkeypatch.setattr("tests.fakes.discord.rate_limits.MESSAGE_WINDOW", 1.0)
    async with running_bot(fake_discord, monkeypatch) as bot:
        channel = bot.get_channel(int(fake_discord.general.id))
        assert isinstance(channel, discord.TextChannel)
        for i in range(6):
            await channel.send(f"m{i}")
        sends = fake_discord.calls_to("POST", "/channels/{channel_id}/messages")
        assert [c.status for c in sends] == [200] * 6
        assert sends[5].time - sends[0].time >= 0.9


async def test_an_oversized_message_is_refused_with_discords_error(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(fake_discord, monkeypatch) as bot:
        channel = bot.get_channel(int(fake_discord.general.id))
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send("x" * 2001)
    assert refused.value.status == 400 and refused.value.code == 50035
    body = fake_discord.calls_to("POST", "/channels/{channel_id}/messages")[-1].response
    assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    [violation] = fake_discord.pop_violations()
    assert "content" in violation.problem and "2000" in violation.problem


async def _until(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def _texts(messages: list[FakeMessage]) -> list[str]:
    return [m.content for m in messages]
