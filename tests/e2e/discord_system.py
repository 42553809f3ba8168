"""hdops on a fake Discord: the real discord.py client, `DiscordPort`, the real outbox
delivery loop and the real store, talking to `FakeDiscord` over HTTP and the Gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest
from discord.gateway import DiscordWebSocket

from bots.discord.client import DiscordAdapter, attach
from bots.runtime import Runtime, bootstrap
from hdops.config import Settings
from hdops.store.db import Store
from tests.fakes.discord import FakeDiscord, FakeMessage, FakeUser


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for `check()` (polling): the bot works on its own loop tasks and threads."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def discord_settings(fake: FakeDiscord, **more: Any) -> Settings:
    return Settings(
        discord_bot_token=fake.token,
        discord_api_url=fake.api_base,
        discord_guilds=fake.guild.id,
        **more,
    )


def restore_discord_py(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py keeps the API base and the Gateway URL in class attributes, which
    the adapter sets from the settings and from `GET /gateway/bot`; restored after the
    test by monkeypatch (set to themselves here)."""
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)


@contextlib.asynccontextmanager
async def running(
    fake: FakeDiscord,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings | None = None,
) -> AsyncIterator[tuple[Runtime, DiscordAdapter]]:
    """One bot process: bootstrap, the Discord adapter attached, its Gateway client
    and the delivery loop running until the block ends."""
    restore_discord_py(monkeypatch)
    runtime = bootstrap(settings or discord_settings(fake), store)
    adapter = attach(runtime)
    tasks = [asyncio.create_task(t()) for t in runtime.tasks]
    tasks.append(asyncio.create_task(runtime.deliverer.run_forever(interval=0.1)))
    try:
        await asyncio.wait_for(adapter.client.wait_until_ready(), 15)
        yield runtime, adapter
    finally:
        await adapter.client.close()
        for task in tasks:
            task.cancel()
        ended = await asyncio.gather(*tasks, return_exceptions=True)
        await adapter.port.aclose()
    # A Gateway client that crashed (discord.py refusing what the fake sent, say)
    # stops reading without a word; say so instead of letting a later wait time out.
    crashed = [e for e in ended if isinstance(e, Exception)]
    assert not crashed, f"a bot task ended with {crashed[0]!r}"


def with_ids(fake: FakeDiscord, user: FakeUser, prefix: str) -> list[FakeMessage]:
    """`user`'s DMs that still carry a component whose custom_id starts with `prefix`."""
    return [m for m in fake.dms(user) if any(c.startswith(prefix) for c in m.custom_ids())]


def tasks(fake: FakeDiscord, user: FakeUser) -> list[FakeMessage]:
    """Task messages in `user`'s DM that still have answer buttons."""
    return with_ids(fake, user, ("hd:ans:"))


def control(message: FakeMessage, prefix: str) -> str:
    return next(c for c in message.custom_ids() if c.startswith(prefix))
