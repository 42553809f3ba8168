"""`FakeDiscord`: a local Discord for tests, served by aiohttp on 127.0.0.1 (a free port).

    fake = await FakeDiscord().start()
    discord.http.Route.BASE = fake.api_base                   # HTTP
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)  # discord.py's first connect
    alice = fake.add_user("alice")
    ...                                                        # run the bot against it
    interaction = await fake.slash_command(alice, "hdops", ["next"])
    assert interaction.responded and fake.ephemerals(alice)

Strict by default: every request is matched to an operation of Discord's OpenAPI spec
and its body and query validated (`specs.py`), the documented message/component/modal
limits (`limits.py`) answered with Discord's own 400 / 50035, per-route rate-limit
buckets with their headers and 429s (`rate_limits.py`), and the 3-second interaction
deadline. What the bot does that real Discord would refuse or silently ignore is recorded
in `violations`; the fixture fails the test on any. A test that needs the fake kinder
says so by name, with its reason: `FakeDiscord(lenient={"rate_limits": "why"})`, or with
the fixture `@pytest.mark.discord_lenient(rate_limits="why")`.

Routes: `/api/v10/...` (the HTTP API) and `/gateway` (the Gateway websocket).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiohttp import web

from tests.fakes.leniency import check_leniency

from . import app_commands, limits, uploads
from .gateway import Gateway, Session, shard_of
from .guild import (
    DM,
    EPHEMERAL,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeUser,
    World,
    iso_now,
    pings,
)
from .rate_limits import RateLimiter
from .specs import API_PREFIX, Operation, check_body, check_query, find_operation

INTERACTION_DEADLINE = 3.0  # Discord's time to answer an interaction
DEADLINE_GRACE = 0.5  # how much longer the fake waits, to tell "late" from "never"
FOLLOW_UP_TTL = 15 * 60  # an interaction token works this long
APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
OPTION_TYPES = {str: 3, int: 4, bool: 5, float: 10}
SUBCOMMAND, SUBCOMMAND_GROUP = 1, 2

LENIENCIES: dict[str, str] = {
    "rate_limits": (
        "requests over Discord's rate limits are answered instead of refused 429;"
        " each is recorded in `FakeDiscord.forgiven`"
    ),
}


class Violation(NamedTuple):
    """Something the bot did that real Discord would refuse (or silently lose)."""

    route: str
    problem: str


class DiscordError(Exception):
    """An error answer in Discord's shape: `{"message", "code"}` (+ `errors` for 50035)."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"message": message, "code": code, **extra}
        self.headers: dict[str, str] = {}


@dataclass
class Call:
    """One HTTP request as the fake received it."""

    verb: str
    route: str  # the spec's path template, or the raw path if the spec has none
    path: str
    query: dict[str, str]
    body: Any
    time: float
    status: int = 200
    response: Any = None


@dataclass
class Fault:
    route: str
    status: int
    retry_after: float
    times: int
    stall: float = 0.0  # > 0: the call takes effect, its answer held back this long


@dataclass
class Interaction:
    """One interaction sent to the bot, and how the bot answered it."""

    id: str
    token: str
    type: int
    user: FakeUser
    channel: FakeChannel
    payload: dict[str, Any]
    dispatched: float
    message: FakeMessage | None = None  # the message whose component was used
    responses: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (type, data)
    responded_after: float | None = None
    original: FakeMessage | None = None  # the response message (after type 4/5)
    follow_ups: list[FakeMessage] = field(default_factory=list)
    failed: bool = False  # the user saw "This interaction failed"
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def responded(self) -> bool:
        return bool(self.responses)

    @property
    def response_type(self) -> int | None:
        return self.responses[0][0] if self.responses else None


@dataclass
class FakeModal:
    """A modal the bot opened for a user (callback type 9)."""

    user: FakeUser
    custom_id: str
    title: str
    components: list[dict[str, Any]]
    interaction: Interaction

    def inputs(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for row in self.components:
            if row.get("type") == limits.LABEL and isinstance(row.get("component"), dict):
                found.append(row["component"])
            found += [c for c in row.get("components") or [] if isinstance(c, dict)]
        return found


Handler = Callable[[dict[str, str], dict[str, str], Any], Awaitable[Any]]


class FakeDiscord:
    """A Discord guild, HTTP API and Gateway for tests, plus a test API to act as users."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        interaction_deadline: float = INTERACTION_DEADLINE,
        lenient: Mapping[str, str] | None = None,
    ) -> None:
        self.token = token
        self.interaction_deadline = interaction_deadline
        self.lenient = check_leniency(lenient or {}, LENIENCIES)
        self.world = World()
        self.guild = self.world.add_guild("hdops-test")
        self.general = self.world.add_channel(self.guild, "general")
        self.rate_limiter = RateLimiter()
        self.calls: list[Call] = []
        # Called with each message the bot creates (a load harness's stopwatch).
        self.on_bot_post: list[Callable[[FakeMessage], None]] = []
        self.violations: list[Violation] = []
        self.forgiven: list[Violation] = []
        self.faults: list[Fault] = []
        self.interactions: dict[str, Interaction] = {}
        self.modals: dict[str, FakeModal] = {}  # user id -> the modal on their screen
        self.port = 0
        self.gateway = Gateway(
            token=token,
            url=lambda: self.gateway_url,
            ready=self._ready_payload,
            guild_creates=lambda: [g.to_json() for g in self.world.guilds.values()],
            violate=lambda problem: self._violate("gateway", problem),
        )
        self._runner: web.AppRunner | None = None
        self._routes: dict[tuple[str, str], Handler] = self._route_table()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_http)
        app.router.add_get("/gateway", self.gateway.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """For `discord.http.Route.BASE`."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ------------------------------------------------------------------ the world

    @property
    def bot(self) -> FakeUser:
        return self.world.bot

    @property
    def application_id(self) -> str:
        return self.world.application_id

    def add_user(self, name: str) -> FakeUser:
        return self.world.add_user(name)

    def add_channel(self, name: str, guild: FakeGuild | None = None) -> FakeChannel:
        return self.world.add_channel(guild or self.guild, name)

    def commands(self, guild: FakeGuild | None = None) -> list[dict[str, Any]]:
        """The application commands synced for `guild` (None: the global ones)."""
        return self.world.commands.get(guild.id if guild else "", [])

    # ------------------------------------------------------------------ what users see

    def dm(self, user: FakeUser) -> FakeChannel | None:
        return self.world.dm_with(user) if self.world.has_dm(user) else None

    def dms(self, user: FakeUser) -> list[FakeMessage]:
        """The bot's DM messages with `user` (those only `user` sees included), oldest first."""
        channel = self.dm(user)
        return [] if channel is None else list(channel.messages)

    def channel_messages(self, channel: FakeChannel) -> list[FakeMessage]:
        """Messages everyone in `channel` sees (no ephemerals), oldest first."""
        return [m for m in channel.messages if m.ephemeral_to is None]

    def thread_messages(self, thread: FakeChannel) -> list[FakeMessage]:
        return self.channel_messages(thread)

    def threads(self, parent: FakeChannel) -> list[FakeChannel]:
        return [c for c in self.world.channels.values() if c.parent_id == parent.id]

    def ephemerals(self, user: FakeUser) -> list[FakeMessage]:
        """Messages only `user` sees (ephemeral interaction answers), oldest first."""
        return [
            m for c in self.world.channels.values() for m in c.messages if m.ephemeral_to == user.id
        ]

    def open_modal(self, user: FakeUser) -> FakeModal | None:
        return self.modals.get(user.id)

    def calls_to(self, verb: str, route: str) -> list[Call]:
        return [c for c in self.calls if c.verb == verb and c.route == route]

    def pop_violations(self) -> list[Violation]:
        """Take the violations recorded so far (for tests that provoke them on purpose)."""
        taken, self.violations = self.violations, []
        return taken

    # ------------------------------------------------------------------ faults, gateway

    def fail_next(
        self, route: str, status: int = 429, *, retry_after: float = 1.0, times: int = 1
    ) -> None:
        """The next `times` requests to `route` ("POST /channels/{channel_id}/messages",
        a spec template) fail: 429 with `retry_after` (default), or a 5xx (`status=503`)."""
        self.faults.append(Fault(route, status, retry_after, times))

    def stall_next(self, route: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` requests to `route` take effect, but their answer is held
        back `seconds`: past the client's timeout, the bot sees a timeout although
        Discord did the work (a message posted)."""
        self.faults.append(Fault(route, 200, 0.0, times, stall=seconds))

    async def drop_gateway(self) -> None:
        """Drop the Gateway connection (resumable): discord.py reconnects and RESUMEs."""
        await self.gateway.drop()

    async def invalidate_session(self) -> None:
        await self.gateway.invalidate_session()

    async def wait_ready(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self.gateway.ready.wait(), timeout)

    async def wait_resumed(self, timeout: float = 15.0) -> None:
        await asyncio.wait_for(self.gateway.resumed.wait(), timeout)

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send a Gateway dispatch to the bot (kept for RESUME if the connection is down)."""
        return await self.gateway.dispatch(event, data)

    # ------------------------------------------------------------------ acting as a user

    async def _notify(self, event: str, data: dict[str, Any]) -> None:
        """An event the bot's own HTTP call causes. Discord sends it to the bot's
        Gateway session if it has one; a bot using only the HTTP API (the outbox
        port on its own) has none, and nothing is sent."""
        if self.gateway.session is not None:
            await self.dispatch(event, data)

    async def slash_command(
        self,
        user: FakeUser,
        name: str,
        path: Sequence[str] = (),
        options: Mapping[str, Any] | None = None,
        *,
        channel: FakeChannel | None = None,
    ) -> Interaction:
        """`user` runs `/name path... option:value` (in `channel`, default #general).

        Only a synced command can be run, as in Discord's client; options are typed from
        the Python value (str, int, bool, float; a FakeUser is a USER option)."""
        place = channel or self.general
        command = self._find_command(name, place)
        app_commands.check_typed(app_commands.leaf_options(command, path), options or {})
        leaf: list[dict[str, Any]] = [
            {"name": k, **_option_value(v)} for k, v in (options or {}).items()
        ]
        for part, kind in reversed(list(zip(path, _subcommand_kinds(len(path)), strict=True))):
            leaf = [{"name": part, "type": kind, "options": leaf}]
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": leaf,
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        resolved = _resolved_users(options or {})
        if resolved:
            data["resolved"] = {"users": resolved}
        return await self._interact(APPLICATION_COMMAND, user, place, data)

    async def autocomplete(
        self,
        user: FakeUser,
        name: str,
        path: Sequence[str],
        options: Mapping[str, Any],
        focused: str,
        *,
        channel: FakeChannel | None = None,
    ) -> list[dict[str, Any]]:
        """`user` is typing option `focused` of `/name path...` (its text so far is
        `options[focused]`, a string whatever the option's type, as Discord sends it):
        the choices the bot offered. The option must be defined with autocomplete."""
        place = channel or self.general
        command = self._find_command(name, place)
        defined = {o["name"]: o for o in app_commands.leaf_options(command, path)}
        option = defined.get(focused)
        if option is None or not option.get("autocomplete"):
            raise LookupError(f"option {focused!r} does not autocomplete")
        leaf: list[dict[str, Any]] = []
        for key, value in options.items():
            if key == focused:
                leaf.append({"name": key, "type": option["type"], "value": str(value),
                             "focused": True})  # fmt: skip
            else:
                leaf.append({"name": key, **_option_value(value)})
        for part, kind in reversed(list(zip(path, _subcommand_kinds(len(path)), strict=True))):
            leaf = [{"name": part, "type": kind, "options": leaf}]
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": leaf}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        interaction = await self._interact(AUTOCOMPLETE, user, place, data)
        if not interaction.responses:
            return []
        return list(interaction.responses[-1][1].get("choices") or [])

    async def click(
        self, user: FakeUser, message: FakeMessage, custom_id: str, values: Sequence[str] = ()
    ) -> Interaction:
        """`user` clicks the button (or picks `values` in the select) `custom_id` of `message`."""
        component = next(
            (
                c
                for row in message.components
                for c in row.get("components") or []
                if c.get("custom_id") == custom_id
            ),
            None,
        )
        if component is None:
            raise LookupError(f"no component {custom_id!r}; the message has {message.custom_ids()}")
        if component.get("disabled"):
            raise LookupError(f"component {custom_id!r} is disabled: a user cannot use it")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] != limits.BUTTON:
            data["values"] = list(values)
        channel = self.world.channels[message.channel_id]
        return await self._interact(COMPONENT, user, channel, data, message=message)

    async def submit_modal(
        self, user: FakeUser, modal: FakeModal | None, values: Mapping[str, str]
    ) -> Interaction:
        """`user` fills in the modal on their screen (`values` by input custom_id) and submits."""
        if modal is None or self.modals.get(user.id) is not modal:
            raise LookupError(f"{user.name} has no such modal open")
        known = {str(i.get("custom_id")) for i in modal.inputs()}
        unknown = set(values) - known
        if unknown:
            raise LookupError(f"the modal has no inputs {sorted(unknown)}; it has {sorted(known)}")
        rows: list[dict[str, Any]] = []
        for row in modal.components:
            if row.get("type") == limits.LABEL:
                inner = row["component"]
                rows.append(
                    {
                        "type": limits.LABEL,
                        "id": row.get("id", 0),
                        "component": _submitted(inner, values),
                    }
                )
            else:
                rows.append(
                    {
                        "type": limits.ACTION_ROW,
                        "components": [_submitted(c, values) for c in row.get("components", [])],
                    }
                )
        del self.modals[user.id]
        data = {"custom_id": modal.custom_id, "components": rows}
        source = modal.interaction
        return await self._interact(
            MODAL_SUBMIT, user, source.channel, data, message=source.message
        )

    async def post_in_thread(self, user: FakeUser, thread: FakeChannel, text: str) -> FakeMessage:
        """`user` posts `text` in `thread` (or any channel, a DM included): MESSAGE_CREATE."""
        message = self.world.post(thread, user, content=text)
        await self.dispatch("MESSAGE_CREATE", self._message_event(message))
        return message

    async def send_dm(self, user: FakeUser, text: str) -> FakeMessage:
        """`user` writes to the bot in their DM."""
        return await self.post_in_thread(user, self.world.dm_with(user), text)

    # ------------------------------------------------------------------ interactions

    def _find_command(self, name: str, place: FakeChannel) -> dict[str, Any]:
        for key in (place.guild_id or "", ""):
            for command in self.world.commands.get(key, []):
                if command["name"] == name:
                    return command
        raise LookupError(f"/{name} is not synced: a user cannot run it")

    async def _interact(
        self,
        kind: int,
        user: FakeUser,
        channel: FakeChannel,
        data: dict[str, Any],
        *,
        message: FakeMessage | None = None,
    ) -> Interaction:
        interaction = Interaction(
            self.world.ids.next(),
            f"tok-{uuid.uuid4().hex}",
            kind,
            user,
            channel,
            {},
            time.monotonic(),
            message=message,
        )
        payload: dict[str, Any] = {
            "id": interaction.id,
            "application_id": self.application_id,
            "type": kind,
            "data": data,
            "channel_id": channel.id,
            "channel": channel.to_json(),
            "token": interaction.token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": "0",
            "entitlements": [],
            "authorizing_integration_owners": {"0": channel.guild_id or user.id},
            "context": 0 if channel.guild_id else 1,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if channel.guild_id:
            guild = self.world.guilds[channel.guild_id]
            payload["guild_id"] = guild.id
            payload["guild_locale"] = "en-US"
            payload["member"] = {**guild.member_json(user), "permissions": "0"}
        else:
            payload["user"] = user.to_json()
        if message is not None:
            payload["message"] = message.to_json()
        interaction.payload = payload
        self.interactions[interaction.id] = interaction
        await self.dispatch("INTERACTION_CREATE", payload)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                interaction.answered.wait(), self.interaction_deadline + DEADLINE_GRACE
            )
        if not interaction.responded:
            interaction.failed = True
            self._violate(
                "INTERACTION_CREATE",
                f"interaction {_describe(interaction)} got no response within"
                f" {self.interaction_deadline:g} s: the user sees 'This interaction failed'",
            )
        return interaction

    def _interaction(self, interaction_id: str, token: str) -> Interaction:
        interaction = self.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            raise DiscordError(404, 10062, "Unknown interaction")
        return interaction

    async def _callback(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        interaction = self._interaction(params["interaction_id"], params["interaction_token"])
        elapsed = time.monotonic() - interaction.dispatched
        if elapsed > self.interaction_deadline:
            interaction.failed = True
            self._violate(
                "POST /interactions/{interaction_id}/{interaction_token}/callback",
                f"{_describe(interaction)} answered after {elapsed:.2f} s"
                f" (limit {self.interaction_deadline:g} s)",
            )
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.responded:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        kind, data = body.get("type"), body.get("data") or {}
        allowed = _CALLBACKS_FOR.get(interaction.type, frozenset())
        if kind not in allowed:
            raise DiscordError(
                400, 50035, f"callback type {kind} is not valid for this interaction"
            )
        errors = limits.check_modal(data) if kind == MODAL else []
        if kind == AUTOCOMPLETE_RESULT:
            errors = app_commands.choice_list(
                data.get("choices"), ("data", "choices"), _focused_type(interaction)
            )
        if kind in (MESSAGE, UPDATE):
            errors = [e for e in limits.check_message(data, editing=kind == UPDATE)]
            errors = [limits.FormError(("data", *e.path), e.code, e.message) for e in errors]
        if errors:
            raise DiscordError(400, 50035, "Invalid Form Body", **_errors(errors))
        interaction.responses.append((kind, data))
        interaction.responded_after = elapsed
        message = self._apply_callback(interaction, kind, data)
        interaction.answered.set()
        if query.get("with_response") not in ("1", "true", "True"):
            return None
        result: dict[str, Any] = {"interaction": {"id": interaction.id, "type": interaction.type}}
        if message is not None:
            result["interaction"].update(
                response_message_id=message.id,
                response_message_loading=kind == DEFERRED_MESSAGE,
                response_message_ephemeral=message.ephemeral,
            )
            result["resource"] = {"type": kind, "message": message.to_json()}
        else:
            result["resource"] = {"type": kind}
        return result

    def _apply_callback(
        self, interaction: Interaction, kind: int, data: dict[str, Any]
    ) -> FakeMessage | None:
        user = interaction.user
        if kind == MODAL:
            self.modals[user.id] = FakeModal(
                user,
                str(data.get("custom_id")),
                str(data.get("title")),
                list(data.get("components") or []),
                interaction,
            )
            return None
        if kind in (MESSAGE, DEFERRED_MESSAGE):
            flags = int(data.get("flags") or 0)
            message = self.world.post(
                interaction.channel,
                self.bot,
                content=str(data.get("content") or ""),
                embeds=list(data.get("embeds") or []),
                components=list(data.get("components") or []),
                flags=flags,
                interaction_id=interaction.id,
                ephemeral_to=user.id if flags & EPHEMERAL else None,
            )
            interaction.original = message
            return message
        if kind == UPDATE and interaction.message is not None:
            _edit(interaction.message, data)
            return interaction.message
        return None

    # ------------------------------------------------------------------ HTTP

    def _violate(self, route: str, problem: str) -> None:
        self.violations.append(Violation(route, problem))

    async def _handle_http(self, request: web.Request) -> web.Response:
        """One HTTP request, checked in Discord's order: route, auth, rate limit, body."""
        path = "/" + request.match_info["tail"]
        verb = request.method
        query = dict(request.query)
        raw = await request.read()
        op = find_operation(verb, path)
        call = Call(verb, op.template if op else path, path, query, None, time.monotonic())
        self.calls.append(call)
        headers: dict[str, str] = {}
        try:
            if op is None:
                self._violate(f"{verb} {path}", "no such route in Discord's API")
                raise DiscordError(404, 0, "404: Not Found")
            call.body = self._read_body(op, request, raw)
            params = op.path_params(path)
            if not op.template.startswith(("/interactions/", "/webhooks/")):
                self._authenticate(request)
            stall = self._take_fault(call)
            headers = self._rate_limit(op, params)
            problems = check_body(op, call.body) if call.body is not None or raw else []
            problems += check_query(op, query)
            for problem in problems:
                self._violate(f"{verb} {op.template}", problem)
            schema_errors = [p for p in problems if not p.startswith(("unknown field", "query"))]
            if schema_errors:
                raise DiscordError(400, 50035, "Invalid Form Body", errors={"_spec": schema_errors})
            handler = self._routes.get((verb, op.template))
            if handler is None:
                self._violate(f"{verb} {op.template}", "the fake does not serve this route yet")
                raise DiscordError(404, 0, "404: Not Found")
            result = await handler(params, query, call.body)
        except DiscordError as exc:
            call.status, call.response = exc.status, exc.body
            if exc.status == 400 and exc.body.get("code") == 50035 and op is not None:
                self._violate(f"{verb} {op.template}", f"refused: {json.dumps(exc.body)[:500]}")
            return _json(exc.body, exc.status, {**headers, **_extra(exc)})
        call.response = result
        if stall:
            await asyncio.sleep(stall)
        if result is None:
            return web.Response(status=204, headers=headers)
        return _json(result, 200, headers)

    def _read_body(self, op: Operation, request: web.Request, raw: bytes) -> Any:
        if not raw:
            return None
        if request.content_type == "multipart/form-data" and op.takes_files:
            try:
                return uploads.read_multipart(request.headers["Content-Type"], raw)
            except uploads.BadUpload as exc:
                raise DiscordError(400, exc.code, exc.message, **_errors(exc.errors)) from None
        if request.content_type != "application/json":
            self._violate(
                f"{op.verb} {op.template}",
                f"body sent as {request.content_type}: this route takes JSON"
                + (" or multipart/form-data" if op.takes_files else ""),
            )
            raise DiscordError(400, 50035, "Invalid Form Body")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise DiscordError(400, 50109, "The request body contains invalid JSON.") from exc

    def _authenticate(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, 0, "401: Unauthorized")

    def _take_fault(self, call: Call) -> float:
        """Raise the injected error for this call, or return how long to stall its
        answer (0: none)."""
        route = f"{call.verb} {call.route}"
        for fault in self.faults:
            if fault.route == route and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                if fault.stall:
                    return fault.stall
                if fault.status == 429:
                    raise DiscordError(
                        429,
                        0,
                        "You are being rate limited.",
                        retry_after=fault.retry_after,
                        **{"global": False},
                    )
                raise DiscordError(fault.status, 0, f"{fault.status}: injected by the test")
        return 0.0

    def _rate_limit(self, op: Operation, params: dict[str, str]) -> dict[str, str]:
        verdict = self.rate_limiter.check(
            op.verb, op.template, params, time.monotonic(), time.time()
        )
        if not verdict.retry_after:
            return verdict.headers
        if "rate_limits" in self.lenient:
            self.forgiven.append(
                Violation(
                    f"{op.verb} {op.template}",
                    f"over the rate limit (would be 429, retry_after {verdict.retry_after:.2f});"
                    f" let through: {self.lenient['rate_limits']}",
                )
            )
            return verdict.headers
        refused = DiscordError(
            429,
            0,
            "You are being rate limited.",
            retry_after=round(verdict.retry_after, 3),
            **{"global": verdict.is_global},
        )
        refused.headers = verdict.headers
        raise refused

    # ------------------------------------------------------------------ route handlers

    def _route_table(self) -> dict[tuple[str, str], Handler]:
        return {
            ("GET", "/gateway"): self._get_gateway,
            ("GET", "/gateway/bot"): self._get_gateway,
            ("GET", "/users/@me"): self._get_me,
            ("GET", "/applications/@me"): self._get_application,
            ("GET", "/oauth2/applications/@me"): self._get_application,  # discord.py's login
            ("POST", "/users/@me/channels"): self._open_dm,
            ("GET", "/channels/{channel_id}/messages"): self._list_messages,
            ("POST", "/channels/{channel_id}/messages"): self._create_message,
            ("PATCH", "/channels/{channel_id}/messages/{message_id}"): self._edit_message,
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads"): self._thread_from,
            ("POST", "/channels/{channel_id}/threads"): self._thread,
            ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"): self._callback,
            ("POST", "/webhooks/{webhook_id}/{webhook_token}"): self._follow_up,
            ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"): self._original,
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            ): self._edit_original,
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            ): self._edit_follow_up,
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
            ): self._put_commands,
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
            ): self._get_commands,
            ("PUT", "/applications/{application_id}/commands"): self._put_commands,
            ("GET", "/applications/{application_id}/commands"): self._get_commands,
            ("GET", "/guilds/{guild_id}/members/{user_id}"): self._get_member,
        }

    async def _get_gateway(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        return {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _get_me(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        return self.bot.to_json()

    async def _get_application(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Any:
        return {
            "id": self.application_id,
            "name": self.bot.name,
            "icon": None,
            "description": "",
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "bot": self.bot.to_json(),
            "owner": self.bot.to_json(),
            "team": None,
            "summary": "",
        }

    async def _open_dm(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        user = self.world.users.get(str(body.get("recipient_id")))
        if user is None or user.bot:
            raise DiscordError(400, 50007, "Cannot send messages to this user")
        return self.world.dm_with(user).to_json()

    def _channel(self, channel_id: str) -> FakeChannel:
        channel = self.world.channels.get(channel_id)
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def _message(self, channel: FakeChannel, message_id: str) -> FakeMessage:
        for message in channel.messages:
            if message.id == message_id:
                return message
        raise DiscordError(404, 10008, "Unknown Message")

    async def _list_messages(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        channel = self._channel(params["channel_id"])
        limit = int(query.get("limit", 50))
        visible = self.channel_messages(channel)
        return [m.to_json() for m in reversed(visible)][:limit]

    async def _create_message(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Any:
        channel = self._channel(params["channel_id"])
        _refuse(limits.check_message(body))
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: "checked for uniqueness in the past few minutes; if another
            # message was created by the same author with the same nonce, that
            # message will be returned and no new message will be created."
            for earlier in channel.messages:
                if earlier.author is self.bot and earlier.nonce == str(nonce):
                    return earlier.to_json()
        reference = (body.get("message_reference") or {}).get("message_id")
        if reference is not None:
            self._message(channel, str(reference))  # 10008 Unknown Message otherwise
        pinged, everyone = pings(str(body.get("content") or ""), body.get("allowed_mentions"))
        _refuse(uploads.dangling(body))
        files = uploads.attached(body, None)
        message = self.world.post(
            channel,
            self.bot,
            **_message_fields(body),
            nonce=None if nonce is None else str(nonce),
            reference=None if reference is None else str(reference),
            pinged=pinged,
            pinged_everyone=everyone,
            attachments=files,
        )
        for listener in self.on_bot_post:
            listener(message)
        await self._notify("MESSAGE_CREATE", self._message_event(message))
        return message.to_json()

    async def _edit_message(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        channel = self._channel(params["channel_id"])
        message = self._message(channel, params["message_id"])
        if message.author is not self.bot:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        _refuse(limits.check_message(body, editing=True))
        _edit(message, body)
        message.attachments = uploads.attached(body, message.attachments)
        return message.to_json()

    async def _thread_from(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        channel = self._channel(params["channel_id"])
        message = self._message(channel, params["message_id"])
        if channel.type == DM or channel.is_thread:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if message.id in self.world.channels:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        thread = self.world.add_thread(channel, str(body.get("name")), self.bot, message.id)
        await self._notify("THREAD_CREATE", {**thread.to_json(), "newly_created": True})
        return thread.to_json()

    async def _thread(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        channel = self._channel(params["channel_id"])
        if channel.type == DM or channel.is_thread:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        thread_id = self.world.ids.next()
        thread = self.world.add_thread(channel, str(body.get("name")), self.bot, thread_id)
        await self._notify("THREAD_CREATE", {**thread.to_json(), "newly_created": True})
        return thread.to_json()

    def _webhook_interaction(self, params: dict[str, str]) -> Interaction:
        if params["webhook_id"] != self.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        for interaction in self.interactions.values():
            if interaction.token == params["webhook_token"]:
                if time.monotonic() - interaction.dispatched > FOLLOW_UP_TTL:
                    raise DiscordError(401, 50027, "Invalid Webhook Token")
                if not interaction.responded:
                    self._violate(
                        "webhook", f"follow-up on {_describe(interaction)} before any response"
                    )
                    raise DiscordError(404, 10015, "Unknown Webhook")
                return interaction
        raise DiscordError(401, 50027, "Invalid Webhook Token")

    async def _follow_up(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        interaction = self._webhook_interaction(params)
        _refuse(limits.check_message(body))
        original = interaction.original
        if (
            original is not None
            and original.content == ""
            and not original.edited
            and (interaction.response_type == DEFERRED_MESSAGE and not interaction.follow_ups)
        ):
            # The first follow-up after a "thinking" defer replaces the loading message.
            _edit(original, body)
            interaction.follow_ups.append(original)
            return original.to_json()
        flags = int(body.get("flags") or 0)
        message = self.world.post(
            interaction.channel,
            self.bot,
            **_message_fields(body),
            interaction_id=interaction.id,
            ephemeral_to=interaction.user.id if flags & EPHEMERAL else None,
        )
        interaction.follow_ups.append(message)
        return message.to_json()

    async def _original(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        interaction = self._webhook_interaction(params)
        if interaction.original is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return interaction.original.to_json()

    async def _edit_original(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        interaction = self._webhook_interaction(params)
        target = interaction.original
        if target is None and interaction.response_type in (DEFERRED_UPDATE, UPDATE):
            target = interaction.message
        if target is None:
            raise DiscordError(404, 10008, "Unknown Message")
        _refuse(limits.check_message(body, editing=True))
        _edit(target, body)
        return target.to_json()

    async def _edit_follow_up(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Any:
        interaction = self._webhook_interaction(params)
        for message in interaction.follow_ups:
            if message.id == params["message_id"]:
                _refuse(limits.check_message(body, editing=True))
                _edit(message, body)
                return message.to_json()
        raise DiscordError(404, 10008, "Unknown Message")

    async def _put_commands(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        if params["application_id"] != self.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        guild_id = params.get("guild_id", "")
        if guild_id and guild_id not in self.world.guilds:
            raise DiscordError(404, 10004, "Unknown Guild")
        refused = app_commands.check_commands(body)
        if refused:
            raise DiscordError(400, 50035, "Invalid Form Body", **_errors(refused))
        commands = []
        for command in body:
            commands.append(
                {
                    **command,
                    "id": self.world.ids.next(),
                    "application_id": self.application_id,
                    "version": self.world.ids.next(),
                    "type": command.get("type", 1),
                    "default_member_permissions": command.get("default_member_permissions"),
                    **({"guild_id": guild_id} if guild_id else {}),
                }
            )
        self.world.commands[guild_id] = commands
        return commands

    async def _get_commands(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        return self.world.commands.get(params.get("guild_id", ""), [])

    async def _get_member(self, params: dict[str, str], query: dict[str, str], body: Any) -> Any:
        guild = self.world.guilds.get(params["guild_id"])
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        user = guild.members.get(params["user_id"])
        if user is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return guild.member_json(user)

    # ------------------------------------------------------------------ payloads

    def _ready_payload(self, session: Session) -> dict[str, Any]:
        return {
            "v": 10,
            "user": self.bot.to_json(),
            "guilds": [
                {"id": g, "unavailable": True}
                for g in self.world.guilds
                if shard_of(g, session.shards) == session.shard
            ],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "shard": [session.shard, session.shards],
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
        }

    def _message_event(self, message: FakeMessage) -> dict[str, Any]:
        data = message.to_json()
        if message.guild_id:
            guild = self.world.guilds[message.guild_id]
            member = guild.member_json(message.author)
            member.pop("user")
            data["member"] = member
        return data


# Which callback types Discord accepts for which interaction type.
_CALLBACKS_FOR: dict[int, frozenset[int]] = {
    APPLICATION_COMMAND: frozenset({MESSAGE, DEFERRED_MESSAGE, MODAL}),
    COMPONENT: frozenset({MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE, MODAL}),
    AUTOCOMPLETE: frozenset({AUTOCOMPLETE_RESULT}),
    MODAL_SUBMIT: frozenset({MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE}),
}


def _json(body: Any, status: int, headers: Mapping[str, str]) -> web.Response:
    """A JSON answer with Discord's exact Content-Type (discord.py compares it whole: with
    aiohttp's default `; charset=utf-8` it would read the body as text)."""
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def _refuse(errors: list[limits.FormError]) -> None:
    if errors:
        raise DiscordError(400, 50035, "Invalid Form Body", **_errors(errors))


def _errors(errors: list[limits.FormError]) -> dict[str, Any]:
    return {"errors": limits.error_body(errors)["errors"]}


def _extra(exc: DiscordError) -> dict[str, str]:
    """Headers for an error answer: a 429 carries Retry-After and the bucket's headers,
    and `Via` (discord.py reads a 429 without it as a Cloudflare ban)."""
    headers = dict(exc.headers)
    if exc.status == 429:
        headers["Retry-After"] = str(max(1, round(float(exc.body["retry_after"]))))
        headers["X-RateLimit-Scope"] = "global" if exc.body.get("global") else "user"
        headers["Via"] = "1.1 google"
    return headers


def _message_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "content": str(body.get("content") or ""),
        "embeds": list(body.get("embeds") or []),
        "components": list(body.get("components") or []),
        "flags": int(body.get("flags") or 0),
    }


def _edit(message: FakeMessage, body: Mapping[str, Any]) -> None:
    """Apply an edit: fields present replace, fields absent stay (Discord's PATCH)."""
    if "content" in body:
        message.content = str(body["content"] or "")
    if "embeds" in body:
        message.embeds = list(body["embeds"] or [])
    if "components" in body:
        message.components = list(body["components"] or [])
    message.edited = iso_now()


def _submitted(component: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    custom_id = str(component.get("custom_id"))
    value = values.get(custom_id, str(component.get("value") or ""))
    return {"type": component.get("type"), "custom_id": custom_id, "value": value}


def _focused_type(interaction: Interaction) -> Any:
    """The type of the option being typed in an autocomplete interaction."""
    options = (interaction.payload.get("data") or {}).get("options") or []
    while options:
        focused = next((o for o in options if o.get("focused")), None)
        if focused is not None:
            return focused.get("type")
        options = options[0].get("options") or []
    return None


def _subcommand_kinds(depth: int) -> list[int]:
    return [SUBCOMMAND] if depth == 1 else [SUBCOMMAND_GROUP, SUBCOMMAND][-depth:] if depth else []


def _option_value(value: Any) -> dict[str, Any]:
    if isinstance(value, FakeUser):
        return {"type": 6, "value": value.id}
    kind = OPTION_TYPES.get(type(value))
    if kind is None:
        raise TypeError(f"no Discord option type for {value!r}")
    return {"type": kind, "value": value}


def _resolved_users(options: Mapping[str, Any]) -> dict[str, Any]:
    return {v.id: v.to_json() for v in options.values() if isinstance(v, FakeUser)}


def _describe(interaction: Interaction) -> str:
    data = interaction.payload.get("data") or {}
    what = data.get("name") or data.get("custom_id") or "?"
    return f"{interaction.id} (type {interaction.type}, {what})"
