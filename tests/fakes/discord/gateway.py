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

Sharding (docs: "Sharding"): a bot may open one connection per shard, each IDENTIFYing
with `shard: [shard_id, num_shards]` (no `shard` means [0, 1]). Every shard of a bot must
say the same `num_shards`; a guild's events go to shard `(guild_id >> 22) % num_shards`,
and direct messages (and their interactions) to shard 0 only. Each shard has its own
session and sequence. A second connection for a shard that has one open is a violation,
as is an out-of-range shard (close code 4010) or a mismatched count (4011).

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
CLOSE_INVALID_SHARD, CLOSE_SHARDING_REQUIRED = 4010, 4011
CLOSE_INVALID_VERSION, CLOSE_INVALID_INTENTS = 4012, 4013


def shard_of(guild_id: str | int | None, count: int) -> int:
    """The shard a guild's events go to; direct messages (no guild) go to shard 0."""
    return 0 if guild_id is None else (int(guild_id) >> 22) % count


@dataclass
class Session:
    """A Gateway session: survives a dropped connection until invalidated."""

    id: str
    sequence: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, in order
    valid: bool = True
    intents: int = 0
    shard: int = 0
    shards: int = 1


@dataclass
class Connection:
    ws: web.WebSocketResponse
    compressor: Any | None  # a zlib compressobj for zlib-stream
    session: Session | None = None
    heartbeats: int = 0
    # One payload at a time, compressed and written in order: zlib-stream is one
    # deflate stream, so two sends interleaved would corrupt it for the client.
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)


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
        self.shard_count: int | None = None  # what the bot's shards IDENTIFYed with
        self.sessions: dict[int, Session] = {}  # by shard
        self.open: dict[int, Connection] = {}  # the open connection of each shard
        self.connections = 0  # how many websockets were opened
        self.identifies = 0
        self.resumes = 0
        self.replayed: list[int] = []  # sequence numbers sent again after RESUMEs
        self.ready = asyncio.Event()  # every shard is READY
        self.resumed = asyncio.Event()

    @property
    def session(self) -> Session | None:
        """Shard 0's session: the one direct messages go to."""
        return self.sessions.get(0)

    @property
    def connection(self) -> Connection | None:
        return self.open.get(0)

    def dispatched(self, shard: int) -> list[dict[str, Any]]:
        """Every dispatch sent to `shard`'s current session, in order."""
        session = self.sessions.get(shard)
        return [] if session is None else list(session.sent)

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
        shard = connection.session.shard if connection.session is not None else None
        if shard is not None and self.open.get(shard) is connection:
            del self.open[shard]
        return ws

    def _take(self, connection: Connection, shard: int) -> None:
        """`connection` serves `shard` from now on."""
        current = self.open.get(shard)
        if current is not None and current is not connection and not current.ws.closed:
            self._violate(f"a second gateway connection for shard {shard} while one is open")
        self.open[shard] = connection

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
        shard = data.get("shard", [0, 1])
        if (
            not isinstance(shard, list)
            or len(shard) != 2
            or not all(isinstance(n, int) for n in shard)
            or not 0 <= shard[0] < shard[1]
        ):
            self._violate(f"IDENTIFY with an invalid shard {shard!r}")
            await connection.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard")
            return
        shard_id, count = shard
        if self.shard_count is not None and count != self.shard_count and self.sessions:
            self._violate(f"shard {shard_id} says {count} shards, others said {self.shard_count}")
            await connection.ws.close(code=CLOSE_SHARDING_REQUIRED, message=b"Sharding required")
            return
        self.shard_count = count
        self.identifies += 1
        session = Session(uuid.uuid4().hex, intents=data["intents"], shard=shard_id, shards=count)
        self.sessions[shard_id] = connection.session = session
        self._take(connection, shard_id)
        await self._dispatch_to(session, "READY", self._ready(session))
        for guild in self._guild_creates():
            if shard_of(guild["id"], count) == shard_id:
                await self._dispatch_to(session, "GUILD_CREATE", guild)
        if all(n in self.sessions and self.sessions[n].valid for n in range(count)):
            self.ready.set()

    async def _resume(self, connection: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            self._violate("RESUME with a wrong token")
            await connection.ws.close(code=CLOSE_AUTH_FAILED, message=b"Authentication failed")
            return
        session = next((s for s in self.sessions.values() if s.id == data.get("session_id")), None)
        if session is None or not session.valid:
            await self._send(connection, {"op": INVALID_SESSION, "d": False})
            return
        self.resumes += 1
        connection.session = session
        self._take(connection, session.shard)
        seen = data.get("seq") or 0
        for payload in session.sent:
            if payload["s"] > seen:
                self.replayed.append(payload["s"])
                await self._send(connection, payload)
        await self._dispatch_to(session, "RESUMED", {})
        self.resumed.set()

    # ------------------------------------------------------------------ sending

    async def _send(self, connection: Connection, payload: dict[str, Any]) -> None:
        if connection.ws.closed:
            return
        text = json.dumps(payload)
        try:
            async with connection.sending:
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
        """Send event `event` to the shard its guild belongs to (shard 0 for direct
        messages), kept for replay even when no connection is open: its sequence."""
        if self.shard_count is None or not self.sessions:
            raise RuntimeError("no gateway session: the bot has not IDENTIFYed")
        guild = data.get("id") if event.startswith("GUILD_") else data.get("guild_id")
        shard = shard_of(guild, self.shard_count)
        session = self.sessions.get(shard)
        if session is None:
            raise RuntimeError(
                f"shard {shard} has not IDENTIFYed (the bot runs {self.shard_count})"
            )
        return await self._dispatch_to(session, event, data)

    async def _dispatch_to(self, session: Session, event: str, data: dict[str, Any]) -> int:
        session.sequence += 1
        payload = {"op": DISPATCH, "t": event, "s": session.sequence, "d": data}
        session.sent.append(payload)
        connection = self.open.get(session.shard)
        if connection is not None and connection.session is session:
            await self._send(connection, payload)
        return session.sequence

    # ------------------------------------------------------------------ test hooks

    async def drop(self) -> None:
        """Close every shard's connection as a network failure would look to the bot
        (code 4000, resumable): discord.py reconnects to resume_gateway_url and RESUMEs."""
        self.resumed.clear()
        connections, self.open = list(self.open.values()), {}
        for connection in connections:
            await connection.ws.close(code=CLOSE_UNKNOWN, message=b"dropped by the test")

    async def invalidate_session(self) -> None:
        """Send INVALID_SESSION (not resumable) to every shard: each must IDENTIFY again."""
        self.ready.clear()
        for session in self.sessions.values():
            session.valid = False
        for connection in list(self.open.values()):
            await self._send(connection, {"op": INVALID_SESSION, "d": False})

    async def close(self) -> None:
        connections, self.open = list(self.open.values()), {}
        for connection in connections:
            await connection.ws.close(code=1001, message=b"fake stopping")
