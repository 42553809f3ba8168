"""hdops on a fake Slack: the real slack-bolt app, the real outbox delivery loop and
the real store, talking to `FakeSlack` over Socket Mode or signed HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bots.runtime import Runtime, bootstrap
from bots.slack.app import SlackAdapter, make_client
from hdops.config import Settings
from hdops.services.people import add_person
from hdops.store.db import Store
from tests.fakes.slack.bolt_apps import connected_over_socket_mode, served_over_http
from tests.fakes.slack.server import FakeSlack
from tests.fakes.slack.workspace import FakeChannel, FakeMessage, FakeUser
from tests.helpers import add_items, make_project


@dataclass
class SlackWorld:
    fake: FakeSlack
    store: Store
    adapter: SlackAdapter
    alice: FakeUser
    bob: FakeUser
    rita: FakeUser
    otto: FakeUser
    clar: FakeChannel
    ops: FakeChannel
    crowd: list[FakeUser]
    runtime: Runtime

    async def settle(self) -> None:
        """Let the bot finish: no listener still working, the outbox drained, and no
        more Slack calls arriving."""
        from hdops.store import outbox

        for _ in range(100):
            await self.fake.settle(quiet=0.15)
            if self.adapter.in_flight:
                await asyncio.sleep(0.05)
                continue
            # (never await inside a unit of work: on SQLite it holds the write lock)
            with self.store.read() as s:
                drained = outbox.pending_count(s) == 0
            if drained:
                await self.fake.settle(quiet=0.1)
                return
            await asyncio.sleep(0.05)

    def dm(self, user: FakeUser) -> list[FakeMessage]:
        channel = self.fake.dm_with(user)
        return [m for m in self.fake.messages(channel) if m.thread_ts in (None, m.ts)]

    def tasks(self, user: FakeUser) -> list[FakeMessage]:
        """Task messages that still have answer buttons."""
        return [
            m
            for m in self.dm(user)
            if any(
                str(b.get("action_id", "")).startswith(("hd:ans:", "hd:text:")) for b in m.buttons()
            )
        ]


def settings_for(fake: FakeSlack, clar: str, ops: str) -> Settings:
    return Settings(
        slack_api_url=fake.api_url,
        slack_bot_token=SecretStr(fake.bot_token),
        slack_app_token=SecretStr(fake.app_token),
        slack_signing_secret=SecretStr(fake.signing_secret),
        slack_ops_channel=ops,
    )


@contextlib.asynccontextmanager
async def slack_world(
    store: Store,
    fake: FakeSlack,
    transport: str = "socket",
    *,
    crowd: int = 0,
    items: int = 6,
    **project: Any,
) -> AsyncIterator[SlackWorld]:
    """Alice and Bob (contractors), Rita (researcher), Otto (ops), a project with
    `items` items, and `crowd` more contractors (`world.crowd`: c01, c02, …)."""
    crowd_users = [fake.add_user(f"c{n:02d}", f"Contractor {n:02d}") for n in range(1, crowd + 1)]
    alice = fake.add_user("alice", "Alice Moreau")
    bob = fake.add_user("bob", "Bob Lee")
    rita = fake.add_user("rita", "Rita Researcher")
    otto = fake.add_user("otto", "Otto Ops")
    clar = fake.add_channel("clarifications")
    ops = fake.add_channel("ops")
    with store.unit_of_work() as s:
        spec: dict[str, Any] = {
            "researchers": [f"slack:{rita.id}"],
            "clarifications": {"slack_channel": clar.id},
        }
        spec.update(project)
        p = make_project(s, **spec)
        add_items(s, p, items)
        for user, roles in (
            (alice, ["contractor"]),
            (bob, ["contractor"]),
            (rita, ["researcher"]),
            (otto, ["ops"]),
            *((u, ["contractor"]) for u in crowd_users),
        ):
            add_person(
                s,
                user.name,
                identities=[f"slack:{user.id}"],
                roles=roles,
                display_name=user.real_name,
            )
    settings = settings_for(fake, clar.id, ops.id)
    runtime = bootstrap(settings, store, scheduler=True, with_metrics=True)
    adapter = SlackAdapter(runtime.core, settings, make_client(settings))
    runtime.add_port(adapter.port)
    delivery = asyncio.create_task(runtime.deliverer.run_forever(interval=0.2))
    world = SlackWorld(
        fake, store, adapter, alice, bob, rita, otto, clar, ops, crowd_users, runtime
    )
    try:
        if transport == "socket":
            async with connected_over_socket_mode(fake, adapter.app):
                yield world
        else:
            assert runtime.metrics is not None
            web_app = adapter.http_app(runtime.health, runtime.metrics.exposition)
            async with served_over_http(fake, web_app):
                yield world
    finally:
        delivery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await delivery
        await adapter.port.aclose()
