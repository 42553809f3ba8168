"""Connect a slack-bolt AsyncApp to a `FakeSlack`, over Socket Mode or HTTP.

async def test_x(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    app = AsyncApp(client=client, signing_secret=fake_slack.signing_secret)
    async with connected_over_socket_mode(fake_slack, app):
        await fake_slack.slash_command("alice", "/hdops", "next")
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from .server import FakeSlack


@asynccontextmanager
async def connected_over_socket_mode(
    fake: FakeSlack, app: AsyncApp
) -> AsyncIterator[AsyncSocketModeHandler]:
    """`app` connected to the fake by bolt's default (aiohttp) Socket Mode handler.

    The handler asks `app.client` (its base_url must be `fake.api_url`) for the URL."""
    handler = AsyncSocketModeHandler(app, fake.app_token)
    fake.transport = "socket"
    before = len(fake.socket.open_connections)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await fake.wait_for_socket(before + 1)
        yield handler
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


@asynccontextmanager
async def served_over_http(
    fake: FakeSlack, app: AsyncApp | web.Application, path: str = "/slack/events"
) -> AsyncIterator[str]:
    """Serve a bolt app (through `slack_bolt.adapter.aiohttp`) or a ready aiohttp
    application on a free 127.0.0.1 port, and point the fake's HTTP transport at it."""
    if isinstance(app, web.Application):
        web_app = app
    else:
        bolt = app

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await bolt.async_dispatch(await to_bolt_request(request))
            )

        web_app = web.Application()
        web_app.router.add_post(path, events)
    runner = web.AppRunner(web_app, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
    await web.SockSite(runner, sock).start()
    fake.transport, fake.app_url = "http", url
    try:
        yield url
    finally:
        await runner.cleanup()
