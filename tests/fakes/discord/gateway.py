"""The Gateway: one bot session over a websocket, as Discord's v10 Gateway speaks it.

Opcodes (discord.com/developers/docs/topics/opcodes-and-status-codes): 0 DISPATCH, 1
HEARTBEAT, 2 IDENTIFY, 6 RESUME, 7 RECONNECT, 9 INVALID_SESSION, 10 HELLO, 11
HEARTBEAT_ACK. On connect the fake sends HELLO; IDENTIFY (with the bot token and
intents, required in v10) gets READY then GUILD_CREATE per guild; every dispatch has the
next sequence number and is kept, so a RESUME with the last sequence the client saw
gets the ones it missed, then RESUMED. A RESUME for an unknown (or invalidated) session
gets INVALID_SESSION (d=false), and the client must IDENTIFY anew.

Transport compression: discord.py asks for `compress=zlib-stream` (or `zstd-stream`
when a zstd module is installed); the fake speaks zlib-stream (one deflate stream per
connection, each message ending in a Z_SYNC_FLUSH) or none, and refuses others with
close code 4000 and a violation, since a fake that cannot speak it proves nothing.

The spec has no Gateway schemas; the payload shapes here follow the Gateway docs.
"""

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT = 0, 1, 2, 6, 7
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11
HEARTBEAT_INTERVAL_MS = 41_250
CLOSE_UNKNOWN, CLOSE_NOT_AUTHENTICATED, CLOSE_AUTH_FAILED = 4000, 4003, 4004
CLOSE_INVALID_VERSION, CLOSE_INVALID_INTENTS = 4012, 4013


@dataclass
class Session:
    """A Gateway session: survives a dropped connection until invalidated."""

    id: str
    sequence: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, in order
    valid: bool = True
    intents: int = 0


@dataclass
class Connection:
    ws: web.WebSocketResponse
    compressor: Any | None  # a zlib compressobj for zlib-stream
    session: Session | None = None
    heartbeats: int = 0


class Gateway:
    """The websocket side of `FakeDiscord`: `handle` is the aiohttp route."""

    def __init__(
        self,
        *,
        token: str,
        url: Callable[[], str],
        ready: Callable[[Session], dict[str, Any]],
        guild_creates: Callable[[], list[dict[str, Any]]],
        violate: Callable[[str], None],
    ) -> None:
        self.token = token
        self.url = url
        self._ready = ready
        self._guild_creates = guild_creates
        self._violate = violate
        self.session: Session | None = None
        self.connection: Connection | None = None
        self.connections = 0  # how many websockets were opened
        self.identifies = 0
        self.resumes = 0
        self.replayed: list[int] = []  # sequence numbers sent again after RESUMEs
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()

    # ------------------------------------------------------------------ the socket

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.connections += 1
        query = request.query
        compress = query.get("compress")
        if query.get("v") != "10" or query.get("encoding", "json") != "json":
            self._violate(f"gateway URL asks v={query.get('v')} encoding={query.get('encoding')}")
            await ws.close(code=CLOSE_INVALID_VERSION, message=b"Invalid API version")
            return ws
        if compress not in (None, "zlib-stream"):
            self._violate(f"gateway compression {compress!r}: the fake speaks zlib-stream only")
            await ws.close(code=CLOSE_UNKNOWN, message=b"Unsupported compression")
            return ws
        connection = Connection(ws, zlib.compressobj() if compress else None)
        if self.connection is not None and not self.connection.ws.closed:
            self._violate("a second gateway connection while one is open (one shard expected)")
        self.connection = connection
        await self._send(
            connection, {"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}
        )
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                payload = json.loads(msg.data)
            except ValueError:
                self._violate("gateway payload is not JSON")
                await ws.close(code=4002, message=b"Error while decoding payload")
                break
            await self._receive(connection, payload)
        if self.connection is connection:
            self.connection = None
        return ws

    async def _receive(self, connection: Connection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            connection.heartbeats += 1
            await self._send(connection, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(connection, data if isinstance(data, dict) else {})
        elif op == RESUME:
            await self._resume(connection, data if isinstance(data, dict) else {})
        elif connection.session is None:
            await connection.ws.close(code=CLOSE_NOT_AUTHENTICATED, message=b"Not authenticated")
        # other ops (presence, voice, request members) are accepted and ignored

    async def _identify(self, connection: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            self._violate("IDENTIFY with a wrong token")
            await connection.ws.close(code=CLOSE_AUTH_FAILED, message=b"Authentication failed")
            return
        if not isinstance(data.get("intents"), int):
            self._violate("IDENTIFY without intents (required since v8)")
            await connection.ws.close(code=CLOSE_INVALID_INTENTS, message=b"Invalid intent(s)")
            return
        self.identifies += 1
        session = Session(uuid.uuid4().hex, intents=data["intents"])
        self.session = connection.session = session
        await self.dispatch("READY", self._ready(session))
        for guild in self._guild_creates():
            await self.dispatch("GUILD_CREATE", guild)
        self.ready.set()

    async def _resume(self, connection: Connection, data: dict[str, Any]) -> None:
        session = self.session
        if data.get("token") != self.token:
            self._violate("RESUME with a wrong token")
            await connection.ws.close(code=CLOSE_AUTH_FAILED, message=b"Authentication failed")
            return
        if session is None or not session.valid or data.get("session_id") != session.id:
            await self._send(connection, {"op": INVALID_SESSION, "d": False})
            return
        self.resumes += 1
        connection.session = session
        seen = data.get("seq") or 0
        for payload in session.sent:
            if payload["s"] > seen:
                self.replayed.append(payload["s"])
                await self._send(connection, payload)
        await self.dispatch("RESUMED", {})
        self.resumed.set()

    # ------------------------------------------------------------------ sending

    async def _send(self, connection: Connection, payload: dict[str, Any]) -> None:
        if connection.ws.closed:
            return
        text = json.dumps(payload)
        try:
            if connection.compressor is None:
                await connection.ws.send_str(text)
            else:
                data = connection.compressor.compress(text.encode())
                await connection.ws.send_bytes(
                    data + connection.compressor.flush(zlib.Z_SYNC_FLUSH)
                )
        except (ConnectionError, RuntimeError):
            pass  # the client went away; a dispatch stays in the session for RESUME

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send event `event` (kept for replay even when no connection is open): its sequence."""
        session = self.session
        if session is None:
            raise RuntimeError("no gateway session: the bot has not IDENTIFYed")
        session.sequence += 1
        payload = {"op": DISPATCH, "t": event, "s": session.sequence, "d": data}
        session.sent.append(payload)
        connection = self.connection
        if connection is not None and connection.session is session:
            await self._send(connection, payload)
        return session.sequence

    # ------------------------------------------------------------------ test hooks

    async def drop(self) -> None:
        """Close the connection as a network failure would look to the bot (code 4000,
        resumable): discord.py reconnects to resume_gateway_url and RESUMEs."""
        self.resumed.clear()
        connection, self.connection = self.connection, None
        if connection is not None:
            await connection.ws.close(code=CLOSE_UNKNOWN, message=b"dropped by the test")

    async def invalidate_session(self) -> None:
        """Send INVALID_SESSION (not resumable): the bot must IDENTIFY again."""
        self.ready.clear()
        if self.session is not None:
            self.session.valid = False
        connection = self.connection
        if connection is not None:
            await self._send(connection, {"op": INVALID_SESSION, "d": False})

    async def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            await connection.ws.close(code=1001, message=b"fake stopping")
