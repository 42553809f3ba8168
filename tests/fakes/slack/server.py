"""`FakeSlack`: a local Slack for tests, served by aiohttp on 127.0.0.1 (a free port).

    fake = await FakeSlack().start()
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    alice = fake.add_user("alice")
    ...                                   # run the app against it (Socket Mode or HTTP)
    await fake.slash_command(alice, "/hdops", "next")
    task = fake.messages(fake.dm_with(alice))[-1]
    await fake.click_button(alice, task, "A is better")
    assert fake.violations == []

Strict by default: Slack's rate limits (`rate_limits.py`), how Slack reads a request
(`wire.py`: verb, Content-Type, where the token may travel), the spec's parameters and
Block Kit's limits, and Slack's own error codes (every error answered is checked against
those Slack lists for the method). A test that needs the fake kinder than Slack says so
by name, with its reason: `FakeSlack(lenient={"rate_limits": "why"})`, or, with the
fixture, `@pytest.mark.slack_lenient(rate_limits="why")`.

Routes: `/api/<method>` (Web API), `/socket` (Socket Mode websocket), `/upload/<file>`
(the upload_url of files.getUploadURLExternal), `/response/<id>` (response_url).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

import aiohttp
from aiohttp import web

from tests.fakes.leniency import check_leniency

from .payloads import Payloads, rich_text, shared_file
from .rate_limits import RateLimiter
from .signing import SignatureMode, signed_headers
from .socket_mode import SocketModeServer
from .specs import MethodSpec, allowed_errors
from .validation import check_view, input_block_ids
from .web_api import Revocation, WebApi
from .wire import parse_json_body, read_request
from .workspace import (
    FakeChannel,
    FakeClock,
    FakeMessage,
    FakeUser,
    FakeView,
    SlackError,
    Workspace,
    interactive_elements,
)

Transport = Literal["socket", "http"]
DeliveryKind = Literal["events_api", "interactive", "slash_commands"]
UserRef = FakeUser | str
ChannelRef = FakeChannel | str
T = TypeVar("T")

ACK_LIMIT = 3.0  # Slack's ack budget for envelopes and interactive requests
ACK_GRACE = 0.5  # how much longer the fake waits, to tell "late" from "never"
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60
DEFAULT_BOT_EVENTS = frozenset({"message.im", "message.channels", "message.groups", "message.mpim"})
MESSAGE_EVENT_FOR = {
    "im": "message.im",
    "channel": "message.channels",
    "private": "message.groups",
    "mpim": "message.mpim",
}

# Where a test may ask the fake to be kinder than Slack: by one of these names, with a
# reason (`FakeSlack(lenient={name: reason})`), so a reader sees what and why.
LENIENCIES: dict[str, str] = {
    "rate_limits": (
        "calls over Slack's rate limits are answered instead of refused 429;"
        " each is recorded in `FakeSlack.forgiven`"
    ),
}


class Violation(NamedTuple):
    """Something the app did that real Slack would reject (or silently lose)."""

    method: str
    problem: str


@dataclass
class Call:
    """One Web API request as the fake received it."""

    method: str
    params: dict[str, Any]
    time: float
    http_method: str = "POST"
    body: str = "none"  # "json" | "form" | "multipart" | "query" | "none" | a refused type
    status: int = 200
    response: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.response is None else self.response.get("error")


@dataclass
class Fault:
    """An injected failure: `error` answered after `delay` seconds, or (`stall`) the call
    taking effect and its answer held back `delay` seconds."""

    method: str
    error: str
    status: int
    retry_after: int | None
    delay: float
    times: int
    stall: bool = False


@dataclass
class Delivery:
    """One thing Slack sent the app, and how the app answered it."""

    kind: str  # "events_api" | "interactive" | "slash_commands"
    payload: dict[str, Any]
    transport: str
    delivered: bool = True
    status: int | None = None  # HTTP status (HTTP mode)
    acked: bool = False
    ack_seconds: float | None = None
    response: dict[str, Any] | None = None  # the ack's payload / the HTTP response body
    envelope_id: str | None = None
    retry_attempt: int = 0
    retry_reason: str = ""
    message: FakeMessage | None = None  # what a person posted (post_user_message)
    view: FakeView | None = None  # the modal on screen afterwards (submit_view)
    errors: dict[str, str] = field(default_factory=dict)  # response_action: errors
    follow_ups: list[Delivery] = field(default_factory=list)  # events Slack sent right after

    @property
    def event_id(self) -> str | None:
        return self.payload.get("event_id")


class FakeSlack:
    """A Slack workspace, Web API, Socket Mode server and HTTP event sender for tests."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-test",
        signing_secret: str = "fake-signing-secret",
        verification_token: str = "fake-verification-token",
        transport: Transport = "socket",
        app_url: str | None = None,
        ack_timeout: float = ACK_LIMIT,
        echo_bot_messages: bool = False,
        bot_events: Iterable[str] = DEFAULT_BOT_EVENTS,
        lenient: Mapping[str, str] | None = None,
    ) -> None:
        """`lenient`: where this fake may be kinder than Slack, by name (see
        `LENIENCIES`), each with the reason the test needs it."""
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.verification_token = verification_token
        self.transport: Transport = transport
        self.app_url = app_url  # http://127.0.0.1:PORT/slack/events, for transport="http"
        self.ack_timeout = ack_timeout
        self.echo_bot_messages = echo_bot_messages
        # Called with each new message the bot posts (a load harness's stopwatch).
        self.on_bot_post: list[Callable[[FakeMessage], None]] = []
        self.bot_events = set(bot_events)
        self.lenient = check_leniency(lenient or {}, LENIENCIES)
        self.rate_limiter = RateLimiter()
        self.forgiven: list[Violation] = []  # what a leniency let through
        self.ws = Workspace()
        self.clock = FakeClock()
        self.calls: list[Call] = []
        self.violations: list[Violation] = []
        self.deliveries: list[Delivery] = []
        self.faults: list[Fault] = []
        self.port = 0
        self.socket = SocketModeServer(self.ws.app_id, lambda p: self._violate("socket_mode", p))
        self.web_api = WebApi(
            self.ws,
            self.clock,
            bot_token=bot_token,
            app_token=app_token,
            upload_url=lambda file_id: f"{self.base_url}/upload/{file_id}",
            socket_url=lambda: self.socket.issue_url(f"ws://127.0.0.1:{self.port}/socket"),
            on_message=self._on_bot_message,
        )
        self.payloads = Payloads(
            self.ws,
            self.clock,
            verification_token=verification_token,
            response_url=self._register_response_url,
        )
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/socket", self.socket.handle)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.socket.close()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """For `AsyncWebClient(base_url=...)` (trailing slash included, as slack_sdk wants)."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ the workspace

    @property
    def bot(self) -> FakeUser:
        return self.ws.bot

    def add_user(self, name: str, real_name: str | None = None, **kwargs: Any) -> FakeUser:
        """A person (`deleted=True` for one who left, `is_bot=True` for another bot)."""
        return self.ws.add_user(name, real_name, **kwargs)

    def add_channel(self, name: str, **kwargs: Any) -> FakeChannel:
        """A channel: `private`, `archived`, `bot_member`, `members` (None = everyone)."""
        return self.ws.add_channel(name, **kwargs)

    def user(self, ref: UserRef) -> FakeUser:
        return self.ws.user(ref)

    def channel(self, ref: ChannelRef) -> FakeChannel:
        return self.ws.channel(ref)

    def deactivate(self, user: UserRef) -> None:
        """The person leaves the workspace (users.info says deleted; DMs cannot be opened)."""
        self.ws.user(user).deleted = True

    def archive(self, channel: ChannelRef) -> None:
        self.ws.channel(channel).is_archived = True

    # ------------------------------------------------------------------ what people see

    def dm_with(self, user: UserRef) -> str:
        """The id of the bot's DM with `user` (the same D… id conversations.open returns)."""
        return self.ws.dm_with(user).id

    def messages(self, channel: ChannelRef) -> list[FakeMessage]:
        """Every message in the channel, thread replies included, oldest first."""
        return self.ws.messages(self.ws.channel(channel).id)

    def thread(self, channel: ChannelRef, ts: str) -> list[FakeMessage]:
        """A thread: its parent, then the replies."""
        channel_id = self.ws.channel(channel).id
        parent = self.ws.find_message(channel_id, ts)
        return ([parent] if parent else []) + self.ws.replies(channel_id, ts)

    def ephemerals(self, user: UserRef, channel: ChannelRef | None = None) -> list[FakeMessage]:
        """Ephemeral messages shown to `user` (in `channel`, if given), oldest first."""
        found = [m for m in self.ws.ephemeral.get(self.ws.user(user).id, []) if not m.deleted]
        if channel is not None:
            channel_id = self.ws.channel(channel).id
            found = [m for m in found if m.channel == channel_id]
        return found

    def open_view(self, user: UserRef) -> FakeView | None:
        """The modal on top of `user`'s screen, if any."""
        views = self.ws.open_views(self.ws.user(user).id)
        return views[-1] if views else None

    def home_view(self, user: UserRef) -> FakeView | None:
        return self.ws.views.get(self.ws.home_views.get(self.ws.user(user).id, ""))

    @staticmethod
    def find_button(message: FakeMessage | FakeView, text: str) -> dict[str, Any]:
        """The button labelled `text` (exactly, else the one label containing it)."""
        buttons = [e for e in interactive_elements(message.blocks) if e.get("type") == "button"]
        labels = [str((b.get("text") or {}).get("text", "")) for b in buttons]
        exact = [b for b, label in zip(buttons, labels, strict=True) if label == text]
        partial = [b for b, label in zip(buttons, labels, strict=True) if text in label]
        for found in (exact, partial):
            if len(found) == 1:
                return found[0]
        raise LookupError(f"no single button {text!r}; the buttons are {labels}")

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def pop_violations(self) -> list[Violation]:
        """Take the violations recorded so far (for tests that provoke them on purpose)."""
        taken, self.violations = self.violations, []
        return taken

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        error: str | None = None,
        status: int = 429,
        retry_after: int | None = 1,
        *,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """The next `times` calls of `method` fail: 429 + Retry-After (default), a 5xx
        (`status=503`: `internal_error`), or any `{"ok": false, "error": error}` with
        status 200. `delay` stalls the answer first: longer than the client's timeout, the
        client times out and the call did nothing (see `stall_next` for the other case)."""
        if error is None:
            error = (
                "ratelimited"
                if status == 429
                else "internal_error"
                if status >= 500
                else "fatal_error"
            )
        self.faults.append(Fault(method, error, status, retry_after, delay, times))

    def stall_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` take effect, but their answer is held back
        `seconds`: past the client's timeout, the client sees a timeout although Slack did
        the work (a message posted), which is what makes a blind retry post it twice."""
        self.faults.append(Fault(method, "", 200, None, seconds, times, stall=True))

    def revoke_tokens(self, error: Revocation = "token_revoked") -> None:
        """From now on every call with the app's tokens answers `error`, as Slack does once
        the app is uninstalled (`token_revoked`) or its workspace or installing user is
        gone (`account_inactive`). Open Socket Mode connections are not closed."""
        for token in (self.bot_token, self.app_token):
            self.web_api.revoked[token] = error

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ Web API

    def _violate(self, method: str, problem: str) -> None:
        self.violations.append(Violation(method, problem))

    async def _handle_api(self, request: web.Request) -> web.Response:
        """One Web API call, checked in Slack's order: the method, how the request was
        sent, the token, the rate limit, then the arguments and the handler."""
        method = request.match_info["method"]
        spec: MethodSpec | None = None
        unknown: SlackError | None = None
        try:
            spec = self.web_api.method_spec(method)
        except SlackError as exc:
            unknown = exc
        wire = await read_request(request, method, spec)
        call = Call(method, wire.params, self.clock.now(), wire.verb, wire.body)
        self.calls.append(call)
        for problem in wire.problems:
            self._violate(method, problem)
        fault = self._take_fault(method)
        if fault is not None and not fault.stall:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            call.status, call.response = fault.status, {"ok": False, "error": fault.error}
            return web.json_response(call.response, status=fault.status, headers=headers)
        try:
            if unknown is not None:
                raise unknown
            assert spec is not None
            if wire.error:
                raise SlackError(wire.error)  # its problem is recorded above
            self.web_api.authenticate(method, wire.token)
            wait = self._over_rate_limit(method, wire.params)
            if wait:
                call.status, call.response = 429, {"ok": False, "error": "ratelimited"}
                return web.json_response(
                    call.response, status=429, headers={"Retry-After": str(wait)}
                )
            result = self.web_api.run(spec, wire.params)
        except SlackError as exc:
            for problem in exc.violations:
                self._violate(method, problem)
            result = {"ok": False, "error": exc.error, **exc.extra}
            self._check_error_is_slacks(spec, exc.error)
        finally:
            for problem in self.web_api.soft_violations:
                self._violate(method, problem)
            self.web_api.soft_violations.clear()
        call.response = result
        if fault is not None:  # a stall: done, but the answer comes late (or never)
            await asyncio.sleep(fault.delay)
        return web.json_response(result)

    def _over_rate_limit(self, method: str, params: Mapping[str, Any]) -> int:
        """Retry-After for a call over Slack's limits (0: within them, or forgiven)."""
        channel = params.get("channel")
        if isinstance(channel, str) and channel.startswith(("U", "W")):
            user = self.ws.users.get(channel)  # a DM by user id counts against the DM
            channel = self.ws.dm_with(user).id if user and self.ws.has_dm(user) else channel
        wait = self.rate_limiter.retry_after(
            method, channel if isinstance(channel, str) else None, self.clock.now()
        )
        if wait and "rate_limits" in self.lenient:
            self.forgiven.append(
                Violation(
                    method,
                    f"over Slack's rate limit (would be 429, Retry-After {wait});"
                    f" let through: {self.lenient['rate_limits']}",
                )
            )
            return 0
        return wait

    def _check_error_is_slacks(self, spec: MethodSpec | None, error: str) -> None:
        """The fake answers only error codes Slack lists for the method: one it does not
        is the fake's own bug, recorded so that the test fails and the fake is fixed."""
        if spec is None or error == "fake_not_implemented" or error in allowed_errors(spec):
            return
        self._violate(
            "FakeSlack",
            f"answered {spec.name} with {error!r}, which Slack does not list for it"
            " (specs.NEWER_ERRORS): the fake is wrong",
        )

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file = self.ws.files.get(request.match_info["file_id"])
        data = await request.read()
        self.calls.append(
            Call("upload_url", {"bytes": len(data)}, self.clock.now(), "POST", "bytes")
        )
        if file is None:
            self._violate("upload_url", "POST to an upload URL the fake never issued")
            return web.Response(status=404, text="not found")
        if len(data) != file.length:
            self._violate(
                "upload_url",
                f"{file.id}: uploaded {len(data)} bytes, declared length {file.length}",
            )
        file.content = data
        return web.Response(text=f"OK - {len(data)}")

    # ------------------------------------------------------------------ response_url

    def _register_response_url(self, target: dict[str, Any]) -> str:
        rid = uuid.uuid4().hex
        self._response_urls[rid] = {**target, "issued_at": self.clock.now(), "uses": 0}
        return f"{self.base_url}/response/{rid}"

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        name = "response_url"
        target = self._response_urls.get(request.match_info["rid"])
        raw = await request.read()
        body, error = parse_json_body(raw)
        self.calls.append(Call(name, body or {}, self.clock.now(), "POST", "json"))
        if target is None:
            self._violate(name, "POST to a response_url the fake never issued")
            return web.Response(status=404, text="no_such_url")
        target["uses"] += 1
        if target["uses"] > RESPONSE_URL_USES:
            self._violate(name, f"response_url used {target['uses']} times (limit 5)")
            return web.Response(status=404, text="used_url")
        if self.clock.now() - target["issued_at"] > RESPONSE_URL_TTL:
            self._violate(name, "response_url used after 30 minutes")
            return web.Response(status=404, text="expired_url")
        if body is None:
            self._violate(name, f"body is not a JSON object ({error})")
            return web.Response(status=400, text="invalid_payload")
        try:
            self._respond(target, body)
        except SlackError as exc:
            for problem in exc.violations:
                self._violate(name, problem)
            return web.Response(status=400, text=exc.error)
        return web.Response(text="ok")

    def _respond(self, target: Mapping[str, Any], body: dict[str, Any]) -> None:
        """Apply a response_url / slash-command-ack message: replace, delete, or post."""
        allowed = {
            "text",
            "blocks",
            "attachments",
            "response_type",
            "replace_original",
            "delete_original",
            "thread_ts",
            "mrkdwn",
            "unfurl_links",
            "unfurl_media",
            "metadata",
        }
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise SlackError("invalid_payload", f"unknown fields {unknown}")
        user_id, channel = target["user"], self.ws.channels[target["channel"]]
        original: FakeMessage | None = None
        if target.get("message_ts"):
            if target.get("ephemeral"):
                original = self.ws.find_ephemeral(user_id, target["message_ts"])
            else:
                original = self.ws.find_message(channel.id, target["message_ts"])
        if body.get("delete_original") in (True, "true"):
            if original is None:
                raise SlackError("message_not_found", "delete_original: no original message")
            original.deleted = True
            return
        content = self.web_api._content(body)
        if body.get("replace_original") in (True, "true"):
            if original is None:
                raise SlackError("message_not_found", "replace_original: no original message")
            original.edits.append(
                {
                    "text": original.text,
                    "blocks": original.blocks,
                    "replaced_at": self.ws.timestamps.next(),
                }
            )
            original.text = content.get("text", "")
            original.blocks = content.get("blocks", [])
            return
        message = self.web_api._bot_message(channel, content)
        if body.get("thread_ts"):
            message.thread_ts = str(body["thread_ts"])
        if body.get("response_type") == "in_channel":
            self.ws.add_message(message)
        else:
            message.ephemeral_to = user_id
            self.ws.ephemeral[user_id].append(message)

    # ------------------------------------------------------------------ delivering to the app

    async def deliver(
        self,
        kind: DeliveryKind,
        payload: dict[str, Any],
        *,
        signature: SignatureMode = "valid",
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> Delivery:
        """Send `payload` to the app over the current transport and wait for its ack.

        `signature` (HTTP only): "valid", "unsigned", "bad" or "stale" (> 5 min old)."""
        delivery = Delivery(
            kind, payload, self.transport, retry_attempt=retry_attempt, retry_reason=retry_reason
        )
        self.deliveries.append(delivery)
        if self.transport == "socket":
            accepts = kind == "slash_commands" or payload.get("type") in {
                "view_submission",
                "block_suggestion",
            }
            envelope = await self.socket.send(
                kind,
                payload,
                accepts_response_payload=accepts,
                retry_attempt=retry_attempt,
                retry_reason=retry_reason,
            )
            delivery.envelope_id = envelope.envelope_id
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(envelope.acked.wait(), self.ack_timeout + ACK_GRACE)
            delivery.acked = envelope.acked_at is not None
            delivery.ack_seconds = envelope.ack_seconds
            delivery.response = envelope.ack_payload
            if not delivery.acked and kind != "events_api":
                self._violate(
                    kind, f"{_describe(payload)} was never acked (envelope {envelope.envelope_id})"
                )
        else:
            await self._post_to_app(delivery, signature)
        if delivery.ack_seconds is not None and delivery.ack_seconds > self.ack_timeout:
            self._violate(
                kind,
                f"{_describe(payload)} acked after {delivery.ack_seconds:.2f} s"
                f" (limit {self.ack_timeout} s)",
            )
        return delivery

    async def _post_to_app(self, delivery: Delivery, signature: SignatureMode) -> None:
        if not self.app_url:
            raise RuntimeError("transport='http' needs fake.app_url (the app's /slack/events URL)")
        assert self._session is not None, "FakeSlack.start() first"
        headers = {"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if delivery.kind == "events_api":
            body = json.dumps(delivery.payload).encode()
            headers["Content-Type"] = "application/json"
        else:
            fields = (
                {"payload": json.dumps(delivery.payload)}
                if delivery.kind == "interactive"
                else delivery.payload
            )
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if delivery.retry_attempt:
            headers["X-Slack-Retry-Num"] = str(delivery.retry_attempt)
            headers["X-Slack-Retry-Reason"] = delivery.retry_reason or "http_timeout"
        headers.update(signed_headers(self.signing_secret, body, signature))
        started = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=self.ack_timeout + ACK_GRACE)
        try:
            async with self._session.post(
                self.app_url, data=body, headers=headers, timeout=timeout
            ) as resp:
                text = await resp.text()
                delivery.status = resp.status
                delivery.ack_seconds = time.monotonic() - started
                if resp.content_type == "application/json" and text:
                    delivery.response = json.loads(text)
                elif text:
                    delivery.response = {"text": text}
        except TimeoutError:
            delivery.status = None
        delivery.acked = delivery.status == 200
        if signature == "valid" and delivery.kind != "events_api" and not delivery.acked:
            self._violate(
                delivery.kind, f"{_describe(delivery.payload)} answered HTTP {delivery.status}"
            )

    async def redeliver(self, delivery: Delivery, reason: str | None = None) -> Delivery:
        """Send the same payload again, as Slack retries (retry_attempt + 1; same event_id)."""
        default = "timeout" if self.transport == "socket" else "http_timeout"
        return await self.deliver(
            delivery.kind,  # type: ignore[arg-type]
            delivery.payload,
            retry_attempt=delivery.retry_attempt + 1,
            retry_reason=reason or default,
        )

    async def verify_url(self) -> bool:
        """Slack's url_verification handshake against `app_url`: is the challenge echoed?"""
        if self.transport != "http":
            raise RuntimeError("url_verification exists in HTTP mode only")
        challenge = uuid.uuid4().hex
        delivery = await self.deliver(
            "events_api",
            {"token": self.verification_token, "challenge": challenge, "type": "url_verification"},
        )
        return delivery.status == 200 and (delivery.response or {}).get("challenge") == challenge

    async def wait_for_socket(self, count: int = 1, timeout: float = 5.0) -> None:
        """Until `count` Socket Mode connections are open."""
        await self.socket.wait_connected(count, timeout)

    async def disconnect_socket(self, reason: str = "refresh_requested") -> None:
        """Send `disconnect` on every connection; slack_sdk reconnects with a new URL."""
        await self.socket.disconnect(reason)

    # ------------------------------------------------------------------ acting as a person

    async def slash_command(
        self, user: UserRef, command: str, text: str = "", channel: ChannelRef | None = None
    ) -> Delivery:
        """`user` types `/command text` (in their DM with the bot unless `channel` is given)."""
        person = self.ws.user(user)
        place = self._place(person, channel)
        delivery = await self.deliver(
            "slash_commands", self.payloads.slash_command(person, command, text, place)
        )
        if delivery.response:
            target = {"kind": "command", "channel": place.id, "user": person.id}
            try:
                self._respond(target, delivery.response)
            except SlackError as exc:
                for problem in exc.violations:
                    self._violate("slash_commands", f"ack payload: {problem}")
        return delivery

    async def click(
        self,
        user: UserRef,
        channel: ChannelRef,
        ts: str,
        action_id: str,
        value: str | None = None,
        selected: Sequence[str] | None = None,
        *,
        block_id: str | None = None,
    ) -> Delivery:
        """`user` clicks a button (or picks from a select) in the message `ts` of `channel`.

        Buttons send their own value; selects take `value` or `selected` (option values)."""
        person = self.ws.user(user)
        place = self.ws.channel(channel)
        message = self.ws.find_message(place.id, ts) or self.ws.find_ephemeral(person.id, ts)
        if message is None or message.channel != place.id:
            raise LookupError(f"{person.name} sees no message {ts} in {place.id}")
        if not place.has_member(person.id):
            raise LookupError(f"{person.name} is not in {place.id}")
        element = _element(message.blocks, action_id, block_id)
        action = self.payloads.action(element, value, selected)
        payload = self.payloads.block_actions_on_message(person, place, message, action)
        return await self.deliver("interactive", payload)

    async def click_button(self, user: UserRef, message: FakeMessage, text: str) -> Delivery:
        """`user` clicks the button labelled `text` in `message`."""
        button = self.find_button(message, text)
        return await self.click(
            user, message.channel, message.ts, button["action_id"], block_id=button["block_id"]
        )

    async def click_in_view(
        self,
        user: UserRef,
        action_id: str,
        value: str | None = None,
        selected: Sequence[str] | None = None,
        *,
        view_id: str | None = None,
    ) -> Delivery:
        """`user` clicks a button / picks an option inside their open modal (or Home tab)."""
        person = self.ws.user(user)
        view = self._view(person, view_id)
        element = _element(view.blocks, action_id, None)
        action = self.payloads.action(element, value, selected)
        if element.get("type") != "button":
            entry = {
                k: v for k, v in action.items() if k not in {"action_id", "block_id", "action_ts"}
            }
            view.state_values.setdefault(str(element.get("block_id")), {})[action_id] = entry
        return await self.deliver(
            "interactive", self.payloads.block_actions_in_view(person, view, action)
        )

    async def submit_view(
        self,
        user: UserRef,
        view_id: str | None = None,
        values: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Delivery:
        """`user` fills the modal's inputs ({block_id: {action_id: value}}) and presses submit.

        The app's answer is applied as Slack does: errors keep the modal open (and must name
        input blocks of it), update / push / clear change the stack, no answer closes it."""
        person = self.ws.user(user)
        view = self._view(person, view_id)
        if view.type != "modal" or "submit" not in view.payload:
            raise ValueError(f"view {view.id} has no submit button")
        view.state_values = {**view.state_values, **self.payloads.state_values(view, values or {})}
        delivery = await self.deliver("interactive", self.payloads.view_submission(person, view))
        if delivery.acked:
            self._apply_view_response(person, view, delivery)
        delivery.view = self.open_view(person)
        return delivery

    async def close_view(self, user: UserRef, view_id: str | None = None) -> Delivery | None:
        """`user` closes the modal; the app hears `view_closed` if it asked (notify_on_close)."""
        person = self.ws.user(user)
        view = self._view(person, view_id)
        self._close(person, view, everything=bool(view.payload.get("clear_on_close")))
        if view.payload.get("notify_on_close"):
            return await self.deliver("interactive", self.payloads.view_closed(person, view))
        return None

    async def post_user_message(
        self,
        user: UserRef,
        channel: ChannelRef | None,
        text: str,
        thread_ts: str | None = None,
        *,
        broadcast: bool = False,
        files: Sequence[str | Mapping[str, Any]] = (),
    ) -> Delivery:
        """`user` writes `text` (in their DM with the bot when `channel` is None), in a
        thread if `thread_ts`; the app gets a `message` event if it subscribed to it (and,
        in Socket Mode, is connected: otherwise `delivered` is False).

        `text` is typed as in Slack's composer (see `Payloads.typed`: `@name`, `#channel`,
        `https://…` and `[label](https://…)` become markup). `broadcast`: the reply is
        "also sent to the channel" (subtype `thread_broadcast`, the root attached), and
        Slack follows it with a `message_changed` of that same message, as it does when it
        attaches the broadcast to the channel (`Delivery.follow_ups`). `files`: file names
        (or dicts, see `payloads.shared_file`) shared with the message (subtype
        `file_share`; `text` may then be empty)."""
        person = self.ws.user(user)
        place = self._place(person, channel)
        if place.is_archived:
            raise ValueError(f"{place.id} is archived: nobody can post there")
        if broadcast and not thread_ts:
            raise ValueError("only a thread reply can also be sent to the channel")
        escaped, elements = self.payloads.typed(text)
        shared = [shared_file(self.ws, person, place, f) for f in files]
        message = FakeMessage(
            channel=place.id,
            ts=self.ws.timestamps.next(),
            text=escaped,
            user=person.id,
            blocks=rich_text(text, elements) if text else [],
            client_msg_id=None if shared else str(uuid.uuid4()),
            files=shared,
            subtype="file_share" if shared else None,
        )
        if thread_ts:
            parent = self.ws.find_message(place.id, thread_ts)
            if parent is None:
                raise LookupError(f"no message {thread_ts} in {place.id} to reply to")
            message.thread_ts = parent.thread_ts or parent.ts
            message.parent_user_id = parent.user
            message.reply_broadcast = broadcast
        self.ws.add_message(message)
        event = self.payloads.message_event(message, place)
        delivery = await self._send_event(event, place)
        delivery.message = message
        if broadcast:
            changed = self.payloads.message_changed_event(message, place, message.to_api(self.ws))
            delivery.follow_ups.append(await self._send_event(changed, place))
        if f"<@{self.bot.id}>" in escaped and not place.is_dm:
            mention = {k: v for k, v in event.items() if k not in {"channel_type"}}
            mention["type"] = "app_mention"
            await self._send_event(mention, place, "app_mention")
        return delivery

    async def edit_user_message(self, user: UserRef, message: FakeMessage, text: str) -> Delivery:
        """`user` edits their `message` to read `text` (typed as in `post_user_message`):
        a `message_changed` event whose message carries `edited`, with the previous
        version in `previous_message` (samples/events/MessageChangedPayload.json)."""
        person = self.ws.user(user)
        place = self.ws.channel(message.channel)
        if message.user != person.id or message.deleted:
            raise LookupError(f"{person.name} has no message {message.ts} to edit")
        previous = message.to_api(self.ws)
        message.edits.append(
            {
                "text": message.text,
                "blocks": message.blocks,
                "replaced_at": self.ws.timestamps.next(),
            }
        )
        escaped, elements = self.payloads.typed(text)
        message.text = escaped
        message.blocks = rich_text(text, elements) if text else []
        event = self.payloads.message_changed_event(message, place, previous)
        delivery = await self._send_event(event, place)
        delivery.message = message
        return delivery

    async def delete_user_message(self, user: UserRef, message: FakeMessage) -> Delivery:
        """`user` deletes their `message`: a `message_deleted` event with the message as
        `previous_message` (samples/events/MessageDeletedPayload.json)."""
        person = self.ws.user(user)
        place = self.ws.channel(message.channel)
        if message.user != person.id or message.deleted:
            raise LookupError(f"{person.name} has no message {message.ts} to delete")
        event = self.payloads.message_deleted_event(message, place)
        message.deleted = True
        delivery = await self._send_event(event, place)
        delivery.message = message
        return delivery

    async def open_app_home(self, user: UserRef, tab: str = "home") -> Delivery:
        """`user` opens the app's Home (or Messages) tab: an `app_home_opened` event."""
        person = self.ws.user(user)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": person.id,
            "channel": self.ws.dm_with(person).id,
            "tab": tab,
            "event_ts": self.ws.timestamps.next(),
        }
        home = self.home_view(person)
        if home is not None and tab == "home":
            event["view"] = home.to_api(self.ws)
        return await self._send_event(event, self.ws.dm_with(person), "app_home_opened")

    async def send_event(self, event: dict[str, Any]) -> Delivery:
        """Any Events API event (wrapped in event_callback); `event_ts` added if missing."""
        event = {"event_ts": self.ws.timestamps.next(), **event}
        return await self.deliver("events_api", self.payloads.event_callback(event))

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[], T | Literal[False] | None],
        timeout: float = 5.0,
        interval: float = 0.01,
    ) -> T:
        """Poll `predicate` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(interval)

    async def settle(self, quiet: float = 0.1, timeout: float = 5.0) -> None:
        """Until no Web API call has arrived for `quiet` seconds (the app is idle)."""
        deadline = time.monotonic() + timeout
        seen = -1
        while len(self.calls) != seen:
            seen = len(self.calls)
            await asyncio.sleep(quiet)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the app kept calling the Web API for {timeout} s")

    # ------------------------------------------------------------------ internals

    def _place(self, person: FakeUser, channel: ChannelRef | None) -> FakeChannel:
        place = self.ws.dm_with(person) if channel is None else self.ws.channel(channel)
        if not place.has_member(person.id):
            raise LookupError(f"{person.name} is not in {place.id}")
        return place

    def _view(self, person: FakeUser, view_id: str | None) -> FakeView:
        if view_id is None:
            view = self.open_view(person) or self.home_view(person)
            if view is None:
                raise LookupError(f"{person.name} has no view open")
            return view
        view = self.ws.views.get(view_id)
        if view is None or view.user != person.id or not view.is_open:
            raise LookupError(f"{person.name} has no open view {view_id}")
        return view

    def _close(self, person: FakeUser, view: FakeView, *, everything: bool) -> None:
        stack = self.ws.view_stacks.get(person.id, [])
        if everything or view.id not in stack:
            closing = list(stack) if everything else [view.id]
        else:
            closing = stack[stack.index(view.id) :]
        for view_id in closing:
            self.ws.views[view_id].is_open = False
        self.ws.view_stacks[person.id] = [v for v in stack if v not in closing]

    def _apply_view_response(self, person: FakeUser, view: FakeView, delivery: Delivery) -> None:
        answer = delivery.response or {}
        action = answer.get("response_action")
        where = "view_submission ack"
        if action is None:
            if set(answer) - {"text"}:
                self._violate(where, f"unexpected ack payload {sorted(answer)}")
            self._close(person, view, everything=False)
        elif action == "errors":
            errors = answer.get("errors")
            if not isinstance(errors, dict) or not errors:
                self._violate(where, "response_action errors without an errors object")
                return
            inputs = input_block_ids(view.payload)
            for block_id, message in errors.items():
                if block_id not in inputs:
                    self._violate(
                        where,
                        f"errors names {block_id!r}, not an input block of the view"
                        f" ({sorted(inputs)})",
                    )
                if not isinstance(message, str) or not message:
                    self._violate(where, f"error for {block_id!r} must be a non-empty string")
            delivery.errors = {str(k): str(v) for k, v in errors.items()}
        elif action in {"update", "push"}:
            problems = check_view(answer.get("view"), types=frozenset({"modal"}))
            if problems:
                for problem in problems:
                    self._violate(where, problem)
                return
            try:
                payload = self.web_api._view_payload({"view": answer["view"]}, frozenset({"modal"}))
            except SlackError:
                return
            if action == "update":
                self.web_api.replace_view(view, payload)
            elif len(self.ws.open_views(person.id)) >= 3:
                self._violate(where, "push beyond 3 stacked views")
            else:
                pushed = self.web_api._new_view(person.id, payload, view.id)
                self.ws.view_stacks[person.id].append(pushed.id)
        elif action == "clear":
            self._close(person, view, everything=True)
        else:
            self._violate(where, f"unknown response_action {action!r}")

    async def _send_event(
        self, event: dict[str, Any], place: FakeChannel, subscription: str | None = None
    ) -> Delivery:
        subscription = subscription or MESSAGE_EVENT_FOR[place.kind]
        wrapped = self.payloads.event_callback(event)
        unheard = self.transport == "socket" and not self.socket.open_connections
        if (
            unheard
            or subscription not in self.bot_events
            or (place.kind == "channel" and not place.bot_member)
        ):
            delivery = Delivery("events_api", wrapped, self.transport, delivered=False)
            self.deliveries.append(delivery)
            return delivery
        return await self.deliver("events_api", wrapped)

    def _on_bot_message(self, message: FakeMessage, change: str) -> None:
        if change == "new" and not message.ephemeral_to:
            for listener in self.on_bot_post:
                listener(message)
        if not self.echo_bot_messages or message.ephemeral_to:
            return
        place = self.ws.channels[message.channel]
        if change == "new":
            event = self.payloads.message_event(message, place)
        elif change == "changed":
            previous = {
                **message.to_api(self.ws),
                **{k: v for k, v in message.edits[-1].items() if k != "replaced_at"},
            }
            event = self.payloads.message_changed_event(message, place, previous)
        else:
            event = self.payloads.message_deleted_event(message, place)
        self._spawn(self._send_event(event, place))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _element(blocks: list[dict[str, Any]], action_id: str, block_id: str | None) -> dict[str, Any]:
    found = [
        e
        for e in interactive_elements(blocks)
        if e["action_id"] == action_id and (block_id is None or e.get("block_id") == block_id)
    ]
    if len(found) != 1:
        ids = [e["action_id"] for e in interactive_elements(blocks)]
        raise LookupError(f"{len(found)} elements with action_id {action_id!r}; there are {ids}")
    return found[0]


def _describe(payload: Mapping[str, Any]) -> str:
    if "command" in payload:
        return f"slash command {payload['command']}"
    if payload.get("type") == "event_callback":
        return f"event {payload.get('event', {}).get('type')} {payload.get('event_id')}"
    return str(payload.get("type", "payload"))
