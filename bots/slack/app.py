"""The Slack adapter: slack-bolt's AsyncApp translating Slack to the core and back.

Every listener does the same three things: translate the payload into a core
call run off the event loop, acknowledge Slack once the core has committed it,
and show the core's reply (an ephemeral message or a modal) after the ack.
Everything a user experiences is decided in the core.

Acknowledged means stored: an ack tells Slack (and so the person) that hdops has
the click, command, form or message, and Slack stops redelivering it. So the ack
goes out after the core's transaction commits — a process killed between the two
leaves an unacknowledged request that Slack sends again, and the redelivery is a
no-op if the first did commit (processed event ids). Bolt runs with
`process_before_response=True`, so the ack of an event is the listener's return.
Slack shows an error after 3 s, so if the store is slower than `ACK_DEADLINE` the
ack goes anyway and the work finishes after it (then, and only then, a crash in
that window could lose an acknowledged request; the store answers in
milliseconds). Replies are shown after the ack, never delaying it.

Inbound never fails Slack: every listener acks whatever happens (a view
submission computes its answer inside a try and always acks); payloads are read
by `bots.slack.inbound`, and one missing a field hdops needs is logged, counted
and answered with one clear private message. The core answers its own failures
(see `hdops.core`: counted as `hdops_event_errors_total` through the runtime's
`on_failure`); an exception in this adapter's own work is counted and answered
the same way here. `AckingApp`
acks whatever bolt itself cannot handle. Thread replies are turned from Slack
markup into neutral text (`bots.slack.markup`, names from `bots.slack.names`)
before they reach the core.

Socket Mode is the default transport; `hdops run --slack --http PORT [--host H]`
serves `POST /slack/events` (each request checked by `bots.slack.http_gate` on
its raw bytes — signature with SLACK_SIGNING_SECRET, content type, body —
before bolt parses it), `GET /healthz` and `GET /metrics` instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bots import metrics
from bots.common.interactions import WHAT, InteractionRunner
from bots.common.presenter import ReplyPresenter
from bots.slack import http_gate, inbound
from bots.slack.acking_app import AckingApp
from bots.slack.blocks import full_text_modal, message_payload, modal_view
from bots.slack.names import SlackNames
from bots.slack.port import SlackPort
from hdops.chat import Message, Paragraph, Reply
from hdops.config import Settings
from hdops.core import Core
from hdops.ports import DeliveryError
from hdops.render import problems

log = logging.getLogger(__name__)

ACTION_RE = re.compile(r"^hd:")
MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
LONG_REPLY_CHARS = 2500  # longer private replies open as a modal when possible
FORM_ERROR_CHARS = 150  # Slack shows at most this much of one form error
INTERACTIONS = {"block_actions": "action", "view_submission": "view_submission"}
# Seconds the ack waits for the core's commit: Slack allows 3 s in all.
ACK_DEADLINE = 2.0

Work = Callable[[asyncio.Event], Awaitable[None]]  # sets the event once stored


def command_text(text: str) -> str:
    """`<@U123|alice>` / `<@U123>` → `slack:U123`, the identity form commands accept;
    then Slack's &amp;/&lt;/&gt; escapes are undone so the core sees what was typed."""
    return html.unescape(MENTION_RE.sub(lambda m: f"slack:{m.group(1)}", text))


def command_event_id(
    cmd: inbound.Command, body: dict[str, Any], timestamp: str | None
) -> str | None:
    """The id a slash command is deduplicated by, like an event's or a click's: a
    signed request replayed (or a Socket Mode envelope redelivered) runs once, and
    the replay gets no second reply. Slack gives every invocation its own
    `trigger_id`; without one, the body with its signed request timestamp (a replay
    repeats both, a new command differs in the timestamp); with neither, none."""
    if cmd.trigger_id:
        return f"slack:cmd:{cmd.trigger_id}"
    if timestamp:
        signed = timestamp + json.dumps(body, sort_keys=True, default=str)
        return "slack:cmd:" + hashlib.sha256(signed.encode()).hexdigest()[:40]
    return None


def make_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url)
    client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=2))
    return client


class SlackAdapter:
    """Owns the bolt app and the port; `app` is what Socket Mode or HTTP drive."""

    def __init__(self, core: Core, settings: Settings, client: AsyncWebClient) -> None:
        self.core = core
        self.settings = settings
        self.client = client
        self.port = SlackPort(client)
        self.names = SlackNames(client, self._known_names)
        secret = settings.slack_signing_secret
        self.app = AckingApp(
            on_failure=self._tell_failed,
            client=client,
            signing_secret=secret.get_secret_value() if secret else None,
            request_verification_enabled=secret is not None,
            process_before_response=True,  # acked when the listener returns: see above
        )
        self.runner = InteractionRunner("slack", tell=self._tell, describe=inbound.describe)
        self._after_ack: set[asyncio.Task[None]] = set()
        self._register()

    @property
    def in_flight(self) -> int:
        """Listeners still working (graceful shutdown, tests)."""
        return self.runner.in_flight

    async def _known_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        return await asyncio.to_thread(self.core.display_names, "slack", list(user_ids))

    # ------------------------------------------------------------------ listeners

    def _register(self) -> None:
        app = self.app
        app.command(re.compile(r"^/hdops"))(self.on_command)
        app.action(ACTION_RE)(self.on_action)
        app.view(ACTION_RE)(self.on_view)
        app.event("message")(self.on_message)
        app.error(self.on_error)

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        metrics.event_error("slack", str(body.get("type")))
        log.error("slack listener failed (%s)", inbound.describe(body), exc_info=error)

    async def _ack_when_stored(self, ack: Callable[[], Awaitable[Any]] | None, work: Work) -> None:
        """Run `work` and return (ack) once it has stored what came in, it ended, or
        `ACK_DEADLINE` passed; the rest of `work` (showing the reply) goes on after.
        `ack` is None for events, which bolt acks when the listener returns."""
        stored = asyncio.Event()
        task = self._spawn(work(stored))
        waiting = asyncio.ensure_future(stored.wait())
        try:
            await asyncio.wait(
                {task, waiting}, timeout=ACK_DEADLINE, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiting.cancel()
            if ack is not None:
                await ack()

    async def on_command(self, ack: Any, body: dict[str, Any], request: Any) -> None:
        async def work(stored: asyncio.Event) -> None:
            async with self.runner.answering("command", body):
                metrics.event("slack", "command")
                cmd = inbound.command(body)
                timestamp = request.headers.get("x-slack-request-timestamp", [None])[0]
                reply = await self.runner.call(
                    self.core.command,
                    f"slack:{cmd.user}",
                    command_text(cmd.text),
                    command_event_id(cmd, body, timestamp),
                    "slack",
                )
                stored.set()
                await self.show(reply, user=cmd.user, channel=cmd.channel, trigger=cmd.trigger_id)

        await self._ack_when_stored(ack, work)

    async def on_action(self, ack: Any, body: dict[str, Any]) -> None:
        received = metrics.now()

        async def work(stored: asyncio.Event) -> None:
            async with self.runner.answering("action", body):
                metrics.event("slack", "action")
                click = inbound.click(body)
                if click.response_url and click.channel and click.message_ts:
                    # Before the core runs: its edit of this message may go out at once.
                    self.port.response_urls.remember(
                        click.channel, click.message_ts, click.response_url
                    )
                # The same payload redelivered has the same action_ts; a second click has another.
                event_id = f"slack:act:{click.user}:{click.action_ts}:{click.action_id}"
                with metrics.NEXT_TASK.handling("slack", click.user, received):
                    reply = await self.runner.call(
                        self.core.action,
                        f"slack:{click.user}",
                        click.action_id,
                        click.values,
                        event_id,
                    )
                stored.set()
                await self.show(
                    reply, user=click.user, channel=click.channel, trigger=click.trigger_id
                )

        await self._ack_when_stored(ack, work)

    async def on_view(self, ack: Any, body: dict[str, Any]) -> None:
        """The ack carries the answer (errors, or the next form), so it is computed
        first, inside a try; whatever happens, exactly one ack goes out."""
        received = metrics.now()
        with self.runner.working():
            metrics.event("slack", "view_submission")
            view = body.get("view")
            answer: dict[str, Any] = {}
            after: tuple[str, Message, str | None] | None = None
            try:
                sub = inbound.submission(body)
                with metrics.NEXT_TASK.handling("slack", sub.user, received):
                    reply = await self.runner.call(
                        self.core.form,
                        f"slack:{sub.user}",
                        sub.callback_id,
                        sub.fields,
                        sub.event_id,
                    )
                if reply.form_errors:
                    answer = _form_errors(view, reply.form_errors)
                    if not answer:  # no input to show them on: say them privately
                        note = " ".join(reply.form_errors.values())
                        message = Message(text=note, parts=[Paragraph(text=note)])
                        after = (sub.user, message, sub.channel)
                elif reply.form is not None:
                    form = modal_view(reply.form, private_metadata=sub.private_metadata)
                    answer = {"response_action": "update", "view": form}
                elif reply.message is not None:
                    after = (sub.user, reply.message, sub.channel)
            except inbound.Unreadable as exc:
                self.runner.unreadable("view_submission", exc, body)
                answer, after = self._form_problem(body, problems.unreadable("form"))
            except Exception:
                self.runner.failed("view_submission", body)
                answer, after = self._form_problem(body, problems.failed("form"))
            await ack(**answer)
            if after is not None:
                user, message, channel = after
                self._show_later(Reply(message=message), user=user, channel=channel)

    @staticmethod
    def _form_problem(
        body: dict[str, Any], message: Message
    ) -> tuple[dict[str, Any], tuple[str, Message, str | None] | None]:
        """Show `message` in the form itself when it has an input to attach it to
        (the form stays open, nothing typed is lost); otherwise close it and tell
        the person in a private message."""
        answer = _form_errors(body.get("view"), {"_": message.text})
        if answer:
            return answer, None
        who = inbound.asker(body)
        return {}, ((who.user, message, who.channel) if who.user else None)

    async def on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        try:
            said = inbound.thread_message(event)
        except inbound.Unreadable as exc:
            # Nobody is waiting for an answer to an event: it may not even have
            # been meant for hdops. Logged and counted only.
            self.runner.unreadable("thread_reply", exc, body)
            return
        if said is None:
            return

        async def work(stored: asyncio.Event) -> None:
            metrics.event("slack", "thread_reply")
            async with self.runner.answering("thread_reply", body):
                identity, event_id = f"slack:{said.user}", body.get("event_id")
                if isinstance(said, inbound.ThreadDeletion):
                    reply = await self.runner.call(
                        self.core.thread_deleted,
                        identity,
                        "slack",
                        said.channel,
                        said.thread_ts,
                        event_id,
                    )
                else:
                    text = await self.names.neutral(said.text)
                    reply = await self.runner.call(
                        self.core.thread_reply,
                        identity,
                        "slack",
                        said.channel,
                        said.thread_ts,
                        text,
                        event_id,
                        files=said.files,
                        edited=said.edited,
                    )
                stored.set()
                if reply.message is not None:
                    await self.show(
                        reply, user=said.user, channel=said.channel, thread=said.thread_ts
                    )

        await self._ack_when_stored(None, work)

    def _show_later(self, reply: Reply, **where: Any) -> None:
        """Show a reply after the ack has gone (the listener returns first)."""
        self._spawn(self.show(reply, **where))

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        """Run `work` beside the listener, counted in flight from now until it ends."""
        self.runner.in_flight += 1

        async def run() -> None:
            try:
                await work
            finally:
                self.runner.in_flight -= 1

        task = asyncio.ensure_future(run())
        self._after_ack.add(task)
        task.add_done_callback(self._after_ack.discard)
        return task

    async def _tell(self, body: dict[str, Any], message: Message) -> None:
        """Tell whoever sent `body` (if it names someone) that it did not work."""
        who = inbound.asker(body)
        if who.user:
            await self.show(
                Reply(message=message), user=who.user, channel=who.channel, thread=who.thread_ts
            )

    async def _tell_failed(self, body: dict[str, Any]) -> None:
        """For `AckingApp`: bolt could not handle a request at all, which happens
        when a payload lacks what bolt itself reads (e.g. an empty `actions`)."""
        with self.runner.working():
            kind = "command" if "command" in body else INTERACTIONS.get(str(body.get("type")))
            if kind is not None:  # events: nobody is waiting for an answer
                await self._tell(body, problems.unreadable(WHAT[kind]))

    # ------------------------------------------------------------------ replies

    async def show(
        self,
        reply: Reply,
        *,
        user: str,
        channel: str | None = None,
        trigger: str | None = None,
        thread: str | None = None,
    ) -> None:
        """Show the core's reply privately (`bots.common.presenter.ReplyPresenter`):
        a modal for forms (and for long texts when a trigger is at hand), otherwise
        an ephemeral message. `trigger` is Slack's trigger_id, `thread` a thread_ts."""
        trigger_id, thread_ts = trigger, thread
        try:
            if reply.form is not None and trigger_id:
                metadata = json.dumps({"channel": channel} if channel else {})
                await self.client.views_open(
                    trigger_id=trigger_id, view=modal_view(reply.form, private_metadata=metadata)
                )
                return
            if reply.message is None:
                return
            if trigger_id and len(reply.message.plain()) > LONG_REPLY_CHARS:
                title = reply.message.text[:24] or "hdops"
                await self.client.views_open(
                    trigger_id=trigger_id, view=full_text_modal(title, reply.message.plain())
                )
                return
            await self._ephemeral(reply, user, channel, thread_ts)
        except Exception:
            log.exception("could not show a reply to %s", user)

    async def _ephemeral(
        self, reply: Reply, user: str, channel: str | None, thread_ts: str | None
    ) -> None:
        assert reply.message is not None
        payload = message_payload(reply.message)
        if channel:
            try:
                kwargs: dict[str, Any] = {"channel": channel, "user": user, **payload}
                if thread_ts:
                    kwargs["thread_ts"] = thread_ts
                await self.client.chat_postEphemeral(**kwargs)
                return
            except Exception as exc:  # e.g. not_in_channel: fall back to a DM
                log.info("ephemeral in %s failed (%s); sending a DM", channel, exc)
        try:
            await self.port.send_dm(user, reply.message)
        except DeliveryError as exc:
            log.warning("could not reach %s: %s", user, exc)

    # ------------------------------------------------------------------ transports

    def http_app(
        self, health: Any = None, metrics_text: Callable[[], bytes] | None = None
    ) -> web.Application:
        """aiohttp app for HTTP mode: /slack/events, /healthz, /metrics (`metrics_text`:
        the runtime's exposition; it reads the store, so it runs off the loop)."""

        refusals = http_gate.RefusalLog()
        secret = self.settings.slack_signing_secret

        def refuse(
            refusal: http_gate.Refusal, request: web.Request, size: int | None
        ) -> web.Response:
            metrics.http_refused(refusal.status)
            refusals.refused(refusal, http_gate.summary(request.remote, size, request.content_type))
            return web.Response(status=refusal.status, text=refusal.reason)

        async def events(request: web.Request) -> web.Response:
            """Checked by `bots.slack.http_gate` before bolt sees anything."""
            if secret is None:  # `hdops run` refuses HTTP mode without one
                return refuse(http_gate.Refusal(401, "no signing secret set"), request, None)
            check = http_gate.check_signature(secret.get_secret_value(), request.headers)
            if isinstance(check, http_gate.Refusal):
                return refuse(check, request, request.content_length)
            raw = await request.read()  # aiohttp answers 413 past its 1 MiB limit
            verdict = check(raw) or http_gate.read_body(raw, request.content_type)
            if isinstance(verdict, http_gate.Refusal):
                return refuse(verdict, request, len(raw))
            try:
                bolt_request = _bolt_request(verdict, request)
            except Exception:  # a JSON object bolt cannot build its context from
                refusal = http_gate.Refusal(400, "body is not a Slack payload")
                return refuse(refusal, request, len(raw))
            bolt_response = await self.app.async_dispatch(bolt_request)
            return await to_aiohttp_response(bolt_response)

        async def healthz(_: web.Request) -> web.Response:
            status = await asyncio.to_thread(health) if health is not None else {"ok": True}
            return web.json_response(status, status=200 if status.get("ok") else 503)

        async def metrics_view(_: web.Request) -> web.Response:
            if metrics_text is None:
                return web.Response(status=404, text="no metrics in this process")
            body = await asyncio.to_thread(metrics_text)
            return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})

        web_app = web.Application()
        web_app.router.add_post("/slack/events", events)
        web_app.router.add_get("/healthz", healthz)
        web_app.router.add_get("/metrics", metrics_view)
        return web_app

    async def run_http(
        self,
        port: int,
        host: str = "127.0.0.1",
        health: Any = None,
        metrics_text: Callable[[], bytes] | None = None,
    ) -> None:
        runner = web.AppRunner(self.http_app(health, metrics_text))
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("Slack HTTP mode listening on %s:%s", host, port)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
            await self.port.aclose()

    async def run_socket_mode(self, app_token: str) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(self.app, app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("Slack Socket Mode connected")
        try:
            await asyncio.Event().wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]
            await self.port.aclose()


def _bolt_request(admitted: http_gate.Admitted, request: web.Request) -> AsyncBoltRequest:
    """What bolt's aiohttp adapter builds, with the body as `http_gate` read it: bolt's
    own reader takes any form body containing the word "payload" for an interaction
    and reads an empty one, so `/hdops … payload …` would have reached no listener."""
    bolt_request = AsyncBoltRequest(
        body=admitted.text,
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]
    )
    if bolt_request.body != admitted.body:
        bolt_request.body = admitted.body
        bolt_request.context = build_async_context(AsyncBoltContext({}), admitted.body)
    return bolt_request


def _form_errors(view: Any, errors: dict[str, str]) -> dict[str, Any]:
    """`response_action: errors` for a view_submission ack, each error on the input
    block it names, or on the first input ("_" means the form as a whole); empty
    when the view has no input to show an error on."""
    inputs = inbound.input_blocks(view)
    if not inputs:
        return {}
    shown: dict[str, str] = {}
    for name, text in errors.items():
        block = name if name in inputs else inputs[0]
        shown.setdefault(block, text[:FORM_ERROR_CHARS])
    return {"response_action": "errors", "errors": shown}


def attach(
    runtime: Any, *, http_port: int | None = None, http_host: str = "127.0.0.1"
) -> SlackAdapter:
    """Plug Slack into a `bots.run.Runtime`: a port for the outbox and a transport
    (HTTP mode on `http_host`:`http_port`, else Socket Mode)."""
    settings: Settings = runtime.settings
    adapter = SlackAdapter(runtime.core, settings, make_client(settings))
    runtime.add_port(adapter.port)
    if http_port is not None:
        exposition = runtime.metrics.exposition if runtime.metrics is not None else None
        runtime.tasks.append(
            lambda: adapter.run_http(
                http_port, http_host, health=runtime.health, metrics_text=exposition
            )
        )
    else:
        assert settings.slack_app_token is not None
        token = settings.slack_app_token.get_secret_value()
        runtime.tasks.append(lambda: adapter.run_socket_mode(token))
    return adapter


def _presents(adapter: SlackAdapter) -> ReplyPresenter:
    """(Checked by mypy: the adapter is a `ReplyPresenter`.)"""
    return adapter
