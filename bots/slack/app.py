"""The Slack adapter: slack-bolt's AsyncApp translating Slack to the core and back.

Every listener does the same three things: ack at once (Slack allows 3 s; view
submissions are the exception, because their validation errors must travel in
the ack — the core answers those in milliseconds), translate the payload into a
core call run off the event loop, and show the core's reply (an ephemeral
message or a modal). Everything a user experiences is decided in the core.

Socket Mode is the default transport; `hdops run --slack --http PORT` serves
`POST /slack/events` (signatures verified by bolt with SLACK_SIGNING_SECRET),
`GET /healthz` and `GET /metrics` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bots import metrics
from bots.slack.blocks import form_values, full_text_modal, message_payload, modal_view
from bots.slack.port import SlackPort
from hdops.chat import Reply
from hdops.config import Settings
from hdops.core import Core
from hdops.ports import DeliveryError

log = logging.getLogger(__name__)

ACTION_RE = re.compile(r"^hd:")
MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
LONG_REPLY_CHARS = 2500  # longer private replies open as a modal when possible
IGNORED_SUBTYPES = frozenset(
    {
        "bot_message",
        "message_changed",
        "message_deleted",
        "channel_join",
        "channel_leave",
        "thread_broadcast",
        "message_replied",
    }
)


def slack_text_to_plain(text: str) -> str:
    """Slack escapes &, < and > in message text; relay what the person typed."""
    return html.unescape(text)


def command_text(text: str) -> str:
    """`<@U123|alice>` / `<@U123>` → `slack:U123`, the identity form commands accept;
    then Slack's &amp;/&lt;/&gt; escapes are undone so the core sees what was typed."""
    return html.unescape(MENTION_RE.sub(lambda m: f"slack:{m.group(1)}", text))


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
        secret = settings.slack_signing_secret
        self.app = AsyncApp(
            client=client,
            signing_secret=secret.get_secret_value() if secret else None,
            request_verification_enabled=secret is not None,
            process_before_response=False,
        )
        self.in_flight = 0  # listeners still working (graceful shutdown, tests)
        self._register()

    @contextlib.contextmanager
    def _working(self) -> Iterator[None]:
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    # ------------------------------------------------------------------ listeners

    def _register(self) -> None:
        app = self.app
        app.command(re.compile(r"^/hdops"))(self.on_command)
        app.action(ACTION_RE)(self.on_action)
        app.view(ACTION_RE)(self.on_view)
        app.event("message")(self.on_message)
        app.error(self.on_error)

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        metrics.inc("hdops_event_errors_total", platform="slack", kind=str(body.get("type")))
        log.exception("slack listener failed", exc_info=error)

    async def on_command(self, ack: Any, command: dict[str, Any]) -> None:
        with self._working():
            await ack()
            metrics.inc("hdops_events_total", platform="slack", kind="command")
            user = command["user_id"]
            reply = await asyncio.to_thread(
                self.core.command,
                f"slack:{user}",
                command_text(command.get("text", "")),
                None,
                "slack",
            )
            await self.show(
                reply,
                user=user,
                channel=command.get("channel_id"),
                trigger_id=command.get("trigger_id"),
            )

    async def on_action(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        with self._working():
            await ack()
            metrics.inc("hdops_events_total", platform="slack", kind="action")
            user = body["user"]["id"]
            values: list[str] = []
            if action.get("selected_option"):
                values = [action["selected_option"]["value"]]
            elif "selected_options" in action:
                values = [o["value"] for o in action["selected_options"]]
            # The same payload redelivered has the same action_ts; a second click has another.
            event_id = f"slack:act:{user}:{action.get('action_ts', '')}:{action['action_id']}"
            reply = await asyncio.to_thread(
                self.core.action, f"slack:{user}", action["action_id"], values, event_id
            )
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
                "channel_id"
            )
            await self.show(reply, user=user, channel=channel, trigger_id=body.get("trigger_id"))

    async def on_view(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        with self._working():
            metrics.inc("hdops_events_total", platform="slack", kind="view_submission")
            user = body["user"]["id"]
            fields = form_values(view["state"]["values"])
            event_id = f"slack:view:{view['id']}:{view.get('hash', '')}"
            reply = await asyncio.to_thread(
                self.core.form, f"slack:{user}", view["callback_id"], fields, event_id
            )
            if reply.form_errors:
                await ack(response_action="errors", errors=self._view_errors(view, reply))
                return
            if reply.form is not None:
                await ack(
                    response_action="update",
                    view=modal_view(reply.form, private_metadata=view.get("private_metadata", "")),
                )
                return
            await ack()
            channel = _metadata(view).get("channel")
            if reply.message is not None:
                await self.show(Reply(message=reply.message), user=user, channel=channel)

    @staticmethod
    def _view_errors(view: dict[str, Any], reply: Reply) -> dict[str, str]:
        inputs = [b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"]
        errors: dict[str, str] = {}
        for name, text in reply.form_errors.items():
            block = name if name in inputs else (inputs[0] if inputs else name)
            errors.setdefault(block, text[:150])
        return errors

    async def on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        with self._working():
            if event.get("bot_id") or event.get("subtype") in IGNORED_SUBTYPES:
                return  # never relay our own (or any bot's) messages
            thread_ts, user = event.get("thread_ts"), event.get("user")
            if not thread_ts or thread_ts == event.get("ts") or not user:
                return
            metrics.inc("hdops_events_total", platform="slack", kind="thread_reply")
            reply = await asyncio.to_thread(
                self.core.thread_reply,
                f"slack:{user}",
                "slack",
                event["channel"],
                thread_ts,
                slack_text_to_plain(event.get("text", "")),
                body.get("event_id"),
            )
            if reply.message is not None:
                await self.show(reply, user=user, channel=event["channel"], thread_ts=thread_ts)

    # ------------------------------------------------------------------ replies

    async def show(
        self,
        reply: Reply,
        *,
        user: str,
        channel: str | None = None,
        trigger_id: str | None = None,
        thread_ts: str | None = None,
    ) -> None:
        """Show the core's reply privately: a modal for forms (and for long texts
        when a trigger is at hand), otherwise an ephemeral message."""
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

    def http_app(self, health: Any = None) -> web.Application:
        """aiohttp app for HTTP mode: /slack/events, /healthz, /metrics."""

        async def events(request: web.Request) -> web.Response:
            bolt_request = await to_bolt_request(request)
            bolt_response = await self.app.async_dispatch(bolt_request)
            return await to_aiohttp_response(bolt_response)

        async def healthz(_: web.Request) -> web.Response:
            status = health() if health is not None else {"ok": True}
            return web.json_response(status, status=200 if status.get("ok") else 503)

        async def metrics_view(_: web.Request) -> web.Response:
            return web.Response(text=metrics.render(), content_type="text/plain", charset="utf-8")

        web_app = web.Application()
        web_app.router.add_post("/slack/events", events)
        web_app.router.add_get("/healthz", healthz)
        web_app.router.add_get("/metrics", metrics_view)
        return web_app

    async def run_http(self, port: int, host: str = "0.0.0.0", health: Any = None) -> None:
        runner = web.AppRunner(self.http_app(health))
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("Slack HTTP mode listening on %s:%s", host, port)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    async def run_socket_mode(self, app_token: str) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(self.app, app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("Slack Socket Mode connected")
        try:
            await asyncio.Event().wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def attach(runtime: Any, *, http_port: int | None = None) -> SlackAdapter:
    """Plug Slack into a `bots.run.Runtime`: a port for the outbox and a transport."""
    settings: Settings = runtime.settings
    adapter = SlackAdapter(runtime.core, settings, make_client(settings))
    runtime.add_port(adapter.port)
    if http_port is not None:
        runtime.tasks.append(lambda: adapter.run_http(http_port, health=runtime.health))
    else:
        assert settings.slack_app_token is not None
        token = settings.slack_app_token.get_secret_value()
        runtime.tasks.append(lambda: adapter.run_socket_mode(token))
    return adapter
