"""The Discord adapter: discord.py's Gateway client translating Discord to the core.

Inbound only: the Gateway delivers slash commands, button presses, modal
submissions and messages; each becomes one core call (run off the event loop by
the shared `InteractionRunner`) and the core's private reply is shown as
Discord shows private things — an ephemeral message, or a modal. Outbound
messages go through the outbox and `bots.discord.port.DiscordPort`.

* **Stateless components.** Every button and select hdops sends carries its
  action id (`hd:…`) as custom_id, and every interaction is handled from that id
  alone (no registered views), so buttons on yesterday's messages still work after
  a restart.
* **Three seconds.** Discord wants an answer within 3 s. The core usually answers
  in milliseconds; if it takes longer than `ANSWER_WITHIN`, the interaction is
  deferred (thinking, ephemeral) and the answer follows through the interaction's
  webhook. A form cannot follow a deferral (Discord opens modals only as the
  first answer), so then the person is asked to press again.
* **Once.** The interaction id is the core's event id: a redelivered interaction
  (a Gateway RESUME replay) stores nothing twice.
* **Intents** (Developer Portal → Bot): `guilds` (channels and threads exist),
  `guild_messages` and `dm_messages` (replies in question threads and task DMs
  are relayed), and the privileged `message_content` (without it Discord sends
  those replies without their text).
* **Commands.** `/hdops` with a subcommand per hdops command and typed options
  (`bots.discord.commands`, built from the core's registry), bulk-registered in the
  configured guilds at start; the typed values become the words the core parses
  exactly as on Slack. Projects, names, weeks and zones are autocompleted by the core.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bots.common.interactions import InteractionRunner
from bots.discord.commands import command_payload, read
from bots.discord.drafts import Draft, Drafts
from bots.discord.port import DiscordPort
from bots.discord.render import (
    REOPEN_PREFIX,
    form_errors_reply,
    message_payload,
    modal_payload,
    refilled,
)
from hdops.chat import Form, Message, Paragraph, Reply
from hdops.config import Settings
from hdops.core import Core

log = logging.getLogger(__name__)

ANSWER_WITHIN = 1.5  # seconds before an interaction is deferred (Discord allows 3; a
# loaded machine or a chart drawn in a thread can hold the event loop back a while)
EPHEMERAL = 64
# Interaction callback types.
MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, MODAL = 4, 5, 6, 9
AUTOCOMPLETE_RESULT = 8


def intents() -> discord.Intents:
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_messages = True
    chosen.dm_messages = True
    chosen.message_content = True
    return chosen


def submitted_fields(components: Any) -> dict[str, str]:
    """{custom_id: value} of a modal submission (text inputs and selects, at any
    depth: Discord nests them in action rows or labels)."""
    found: dict[str, str] = {}
    stack = list(components or [])
    while stack:
        item = stack.pop()
        if not isinstance(item, Mapping):
            continue
        if "custom_id" in item and ("value" in item or "values" in item):
            values = item.get("values")
            value = item.get("value") if values is None else (values[0] if values else "")
            found[str(item["custom_id"])] = str(value or "")
        stack.extend(item.get("components") or [])
        if isinstance(item.get("component"), Mapping):
            stack.append(item["component"])
    return found


class _Client(discord.Client):
    def __init__(self, adapter: DiscordAdapter, shard: tuple[int, int] | None) -> None:
        if shard is None:
            super().__init__(intents=intents())
        else:
            super().__init__(intents=intents(), shard_id=shard[0], shard_count=shard[1])
        self.adapter = adapter

    async def setup_hook(self) -> None:
        await self.adapter.find_gateway()
        await self.adapter.register_commands()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_interaction(interaction)

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)


class DiscordAdapter:
    def __init__(
        self,
        core: Core,
        settings: Settings,
        port: DiscordPort,
        *,
        shard: tuple[int, int] | None = None,
    ) -> None:
        """`shard`: (shard id, shard count) when several workers share the bot —
        Discord sends each worker its shard's guilds (`hdops run --discord --shard`)."""
        self.core = core
        self.settings = settings
        self.port = port
        self.client = _Client(self, shard)
        self.runner = InteractionRunner("discord", tell=self._tell, describe=_describe)
        self.drafts = Drafts()
        self._forms: dict[str, Form] = {}  # the form each person has open, by user id

    async def run(self) -> None:
        assert self.settings.discord_bot_token is not None
        await self.client.start(self.settings.discord_bot_token.get_secret_value())

    async def find_gateway(self) -> None:
        """Ask the API where the Gateway is (`GET /gateway/bot`, as Discord asks bots
        to) instead of discord.py's built-in wss://gateway.discord.gg: the Gateway then
        follows `HDOPS_DISCORD_API_URL`, so a proxy or a local fake Discord serves both.
        discord.py reads the URL from a class attribute, set here once per process
        (like `discord.http.Route.BASE` in `attach`); it connects after this hook."""
        found = await self.port.call("GET", "/gateway/bot")
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(str(found["url"]))

    async def register_commands(self) -> None:
        """`/hdops` in each guild the bot is in (guild commands appear at once)."""
        app = await self.port.call("GET", "/applications/@me")
        guilds = self.settings.discord_guild_ids
        for guild in guilds:
            await self.port.call(
                "PUT", f"/applications/{app['id']}/guilds/{guild}/commands", [command_payload()]
            )
        self.application_id = str(app["id"])

    # ------------------------------------------------------------------ interactions

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        user = str(interaction.user.id)
        identity, event_id = f"discord:{user}", f"discord:int:{interaction.id}"
        kind = interaction.type
        with self.runner.working():
            if kind == discord.InteractionType.autocomplete:
                await self._suggest(interaction, identity, data)
            elif kind == discord.InteractionType.application_command:
                try:
                    text = read(data).text()
                except LookupError:
                    text = "help"  # a command from an older release, still in the client
                await self._answer(
                    interaction, "command", self.core.command, identity, text, event_id, "discord"
                )
            elif kind == discord.InteractionType.component:
                custom_id = str(data.get("custom_id") or "")
                if custom_id.startswith(REOPEN_PREFIX):
                    await self._reopen(interaction, user, custom_id[len(REOPEN_PREFIX) :])
                    return
                values = [str(v) for v in data.get("values") or []]
                await self._answer(
                    interaction, "action", self.core.action, identity, custom_id, values, event_id
                )
            elif kind == discord.InteractionType.modal_submit:
                form_id = str(data.get("custom_id") or "")
                fields = submitted_fields(data.get("components"))
                await self._answer(
                    interaction,
                    "modal_submit",
                    self.core.form,
                    identity,
                    form_id,
                    fields,
                    event_id,
                    typed=fields,
                )

    async def _suggest(
        self, interaction: discord.Interaction, identity: str, data: Mapping[str, Any]
    ) -> None:
        """Autocomplete: the core's suggestions for the option being typed."""
        choices: list[str] = []
        try:
            typed = read(data)
        except LookupError:
            typed = None
        if typed is not None and typed.spec is not None and typed.focused is not None:
            words = " ".join(typed.spec.words)
            so_far = str(typed.values.get(typed.focused) or "")
            choices = await self.runner.call(
                self.core.suggest, identity, words, typed.focused, so_far
            )
        body = {"choices": [{"name": c[:100], "value": c[:100]} for c in choices[:25]]}
        await self._callback(interaction, AUTOCOMPLETE_RESULT, body)

    async def _answer(
        self,
        interaction: discord.Interaction,
        kind: str,
        fn: Any,
        *args: Any,
        typed: Mapping[str, str] | None = None,
    ) -> None:
        """Run the core call; answer within Discord's deadline, deferring if need be."""
        body = {"id": str(interaction.id), "token": interaction.token, "user": interaction.user.id}
        async with self.runner.answering(kind, body):
            work = asyncio.ensure_future(self.runner.call(fn, *args))
            try:
                reply = await asyncio.wait_for(asyncio.shield(work), ANSWER_WITHIN)
            except TimeoutError:
                deferred = DEFERRED_UPDATE if kind == "action" else DEFERRED_MESSAGE
                await self._callback(interaction, deferred, {"flags": EPHEMERAL})
                reply = await work
                await self._follow_up(interaction, reply)
                return
            await self._respond(interaction, kind, reply, typed)

    async def _respond(
        self,
        interaction: discord.Interaction,
        kind: str,
        reply: Reply,
        typed: Mapping[str, str] | None,
    ) -> None:
        user = str(interaction.user.id)
        if reply.form_errors:
            form = self._forms.get(user)
            if form is not None:
                key = self.drafts.keep(Draft(user, refilled(form, typed or {}), reply.form_errors))
                data = form_errors_reply(form, reply.form_errors, typed or {}, key)
            else:
                data = message_payload(_text(" ".join(reply.form_errors.values())))
            await self._callback(interaction, MESSAGE, {**data, "flags": EPHEMERAL})
            return
        if reply.form is not None:
            self._forms[user] = reply.form
            await self._callback(interaction, MODAL, modal_payload(reply.form))
            return
        if reply.message is not None:
            data = {**message_payload(reply.message), "flags": EPHEMERAL}
            await self._callback(interaction, MESSAGE, data)
            return
        if kind == "action":  # nothing to say: the clicked message is edited by the outbox
            await self._callback(interaction, DEFERRED_UPDATE, None)
        else:
            await self._callback(interaction, MESSAGE, {"content": "Done.", "flags": EPHEMERAL})

    async def _reopen(self, interaction: discord.Interaction, user: str, key: str) -> None:
        draft = self.drafts.get(key, user)
        if draft is None:
            gone = "That form has expired; start again from the task or command."
            await self._callback(interaction, MESSAGE, {"content": gone, "flags": EPHEMERAL})
            return
        self._forms[user] = draft.form
        await self._callback(interaction, MODAL, modal_payload(draft.form, draft.errors))

    async def _callback(
        self, interaction: discord.Interaction, kind: int, data: dict[str, Any] | None
    ) -> None:
        body: dict[str, Any] = {"type": kind}
        if data is not None:
            body["data"] = data
        await self.port.call(
            "POST", f"/interactions/{interaction.id}/{interaction.token}/callback", body
        )

    async def _follow_up(self, interaction: discord.Interaction, reply: Reply) -> None:
        message = reply.message
        if reply.form is not None:
            message = _text("That took a moment: press the button again to open the form.")
        elif reply.form_errors:
            message = _text(" ".join(reply.form_errors.values()))
        if message is None:
            return
        path = f"/webhooks/{self.application_id}/{interaction.token}"
        await self.port.call("POST", path, {**message_payload(message), "flags": EPHEMERAL})

    async def _tell(self, body: Any, message: Message) -> None:
        """For the runner: an interaction that failed after the core (or before it)."""
        if isinstance(body, Mapping) and body.get("token"):
            path = f"/webhooks/{self.application_id}/{body['token']}"
            try:
                await self.port.call("POST", path, {**message_payload(message), "flags": EPHEMERAL})
            except Exception:
                log.exception("could not tell the person their interaction failed")

    # ------------------------------------------------------------------ messages

    async def on_message(self, message: discord.Message) -> None:
        """A reply in a question's thread (guild) or quoting a task message (DM)."""
        if message.author.bot:
            return
        channel = message.channel
        if isinstance(channel, discord.Thread) and channel.parent_id is not None:
            where, parent = str(channel.parent_id), str(channel.id)
        elif isinstance(channel, discord.DMChannel) and message.reference is not None:
            where, parent = str(channel.id), str(message.reference.message_id)
        else:
            return
        identity = f"discord:{message.author.id}"
        with self.runner.working():
            async with self.runner.answering("thread_reply", {"message": message.id}):
                await self.runner.call(
                    self.core.thread_reply,
                    identity,
                    "discord",
                    where,
                    parent,
                    message.content,
                    f"discord:msg:{message.id}",
                )


def _text(text: str) -> Message:
    return Message(text=text, parts=[Paragraph(text=text)])


def _describe(body: Any) -> str:
    if isinstance(body, Mapping):
        return "discord " + ",".join(sorted(str(k) for k in body))[:80]
    return "discord payload"


def attach(runtime: Any, shard: tuple[int, int] | None = None) -> DiscordAdapter:
    """Plug Discord into a `bots.runtime.Runtime`: a port for the outbox and the
    Gateway client (one shard of it, if `shard`) as one of the runtime's tasks."""
    settings: Settings = runtime.settings
    assert settings.discord_bot_token is not None
    discord.http.Route.BASE = settings.discord_api_url
    port = DiscordPort(settings.discord_bot_token.get_secret_value(), settings.discord_api_url)
    runtime.add_port(port)
    adapter = DiscordAdapter(runtime.core, settings, port, shard=shard)
    runtime.tasks.append(adapter.run)
    return adapter
