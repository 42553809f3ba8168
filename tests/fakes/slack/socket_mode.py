"""Socket Mode: the websocket apps.connections.open hands out, envelopes and their acks.

Slack sends `hello` on connect, then envelopes
`{"envelope_id", "type", "payload", "accepts_response_payload"}` (events_api envelopes also
carry `retry_attempt` and `retry_reason`); the app answers `{"envelope_id", "payload"?}`.
`disconnect` asks the client to fetch a new URL and reconnect.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web


@dataclass
class Envelope:
    envelope_id: str
    type: str  # "events_api" | "interactive" | "slash_commands"
    payload: dict[str, Any]
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    connection: int | None = None
    sent_at: float = 0.0  # time.monotonic()
    acked_at: float | None = None
    ack_payload: dict[str, Any] | None = None
    acked: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def wire(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api":
            message.update(retry_attempt=self.retry_attempt, retry_reason=self.retry_reason)
        return message

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


@dataclass
class SocketConnection:
    id: int
    ws: web.WebSocketResponse
    opened_at: float
    closed: bool = False
    received: list[str] = field(default_factory=list)


class SocketModeServer:
    """The websocket side of the fake; `violation(problem)` records the app's mistakes."""

    def __init__(self, app_id: str, violation: Callable[[str], None]) -> None:
        self.app_id = app_id
        self.violation = violation
        self.connections: list[SocketConnection] = []
        self.envelopes: dict[str, Envelope] = {}
        self._tickets: set[str] = set()
        self._ids = itertools.count(1)
        self._turn = itertools.count()
        self._changed = asyncio.Condition()

    def issue_url(self, base_ws_url: str) -> str:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return f"{base_ws_url}?ticket={ticket}&app_id={self.app_id}"

    @property
    def open_connections(self) -> list[SocketConnection]:
        return [c for c in self.connections if not c.closed and not c.ws.closed]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            self.violation(
                f"websocket opened with a URL apps.connections.open never issued ({ticket!r})"
            )
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)  # a URL is good for one connection
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = SocketConnection(next(self._ids), ws, time.monotonic())
        self.connections.append(connection)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.open_connections),
                "debug_info": {
                    "host": "applink-fake-1",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        )
        await self._notify()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    connection.received.append(message.data)
                    self._on_text(message.data)
        finally:
            connection.closed = True
            await self._notify()
        return ws

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            self.violation(f"socket message is not JSON: {data[:200]!r}")
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        envelope = self.envelopes.get(envelope_id or "")
        if envelope is None:
            self.violation(f"socket message acks no envelope: {data[:200]!r}")
            return
        if envelope.acked_at is not None:
            self.violation(f"envelope {envelope_id} acked twice")
            return
        envelope.acked_at = time.monotonic()
        payload = message.get("payload")
        envelope.ack_payload = payload if isinstance(payload, dict) else None
        if payload is not None and not isinstance(payload, dict):
            self.violation(f"ack payload of {envelope_id} is not an object: {payload!r}")
        envelope.acked.set()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.open_connections) >= count), timeout
            )

    async def send(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> Envelope:
        connections = self.open_connections
        if not connections:
            raise RuntimeError(
                "no Socket Mode connection: start the app's AsyncSocketModeHandler "
                "(connect_async) first, then `await fake.wait_for_socket()`"
            )
        connection = connections[next(self._turn) % len(connections)]
        envelope = Envelope(
            envelope_id=str(uuid.uuid4()),
            type=type_,
            payload=payload,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            connection=connection.id,
        )
        self.envelopes[envelope.envelope_id] = envelope
        envelope.sent_at = time.monotonic()
        await connection.ws.send_str(json.dumps(envelope.wire()))
        return envelope

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask every open connection to reconnect, as Slack does every few hours."""
        for connection in self.open_connections:
            await connection.ws.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-1"}}
            )

    async def close(self) -> None:
        for connection in self.open_connections:
            await connection.ws.close()
