"""Discord as a chat port: outbox intents become Discord HTTP API calls.

Calls go straight over HTTP (one shared aiohttp session, `Authorization: Bot …`)
rather than through discord.py's client, because the outbox paces sends itself:
the port declares Discord's limits (`rates`) and reports a 429 as throttling
with its `retry_after`, instead of sleeping inside a send the way discord.py's
HTTP client does. Inbound (the Gateway, slash commands, buttons, modals) is
discord.py's job in the client.

* DMs: `POST /users/@me/channels` opens (or finds) the DM channel once; the
  delivery loop caches it on the person's identity.
* Threads: in a guild channel, a reply in the thread of one of our messages goes
  into the thread started on that message (a thread started from a message has
  the message's id; "already created" means it is there). DMs have no threads,
  so there the reply quotes the message instead (`message_reference`).
* Sent once: every post carries the outbox message's key as its `nonce` with
  `enforce_nonce`, so Discord itself returns the message already created when a
  process that died before recording the send posts it again within minutes —
  the platform's own idempotency. `find_sent` therefore has nothing to look up.
* Mentions never ping unless the core asks (`allowed_mentions` from the
  renderer).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp

from bots.common.transport import unknown_outcome
from bots.discord.render import attachments, message_payload
from hdops.chat import Message
from hdops.pacing import Limit, Rate
from hdops.ports import DeliveryError, Send, SentRef

log = logging.getLogger(__name__)

# Discord's documented limits as the outbox should pace them: sends to one channel
# (5 per 5 s) and the global 50 requests per second.
CHANNEL_RATE = Rate(1.0, 5)
GLOBAL_RATE = Rate(50.0, 50)
THREAD_NAME = "Replies"
NONCE_CHARS = 25  # Discord's maximum nonce length

# Errors that retrying cannot fix: unknown channel/message/user, no access or
# permission, cannot DM this user, invalid body, archived thread.
PERMANENT_CODES = frozenset({10003, 10008, 10013, 50001, 50005, 50007, 50013, 50035, 50083, 160005})
THREAD_EXISTS = 160004
NOT_HERE = 50024  # "Cannot execute action on this channel type" (e.g. a DM)


def nonce_for(key: str) -> str:
    """A nonce of at most 25 characters naming the outbox message `key`."""
    if len(key) <= NONCE_CHARS:
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:NONCE_CHARS]


class DiscordPort:
    platform = "discord"

    def __init__(self, token: str, api_url: str = "https://discord.com/api/v10") -> None:
        self._headers = {
            "Authorization": f"Bot {token}",
            "User-Agent": "DiscordBot (https://github.com/hdops, 0.1)",
        }
        self.api_url = api_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._dm_channels: set[str] = set()  # channels known to be DMs (no threads)
        self.timeout = aiohttp.ClientTimeout(total=30)  # per request

    def rates(self, send: Send) -> Sequence[Limit]:
        channel = send.channel or f"dm:{send.target}"
        return [(f"discord:channel:{channel}", CHANNEL_RATE), ("discord:global", GLOBAL_RATE)]

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def call(
        self, method: str, path: str, body: Any = None, files: Sequence[tuple[str, bytes]] = ()
    ) -> Any:
        """One HTTP API call; the JSON answer, or DeliveryError (see `_delivery_error`).
        With `files`, the body goes as Discord takes uploads: multipart, the JSON in
        `payload_json` listing each file in `attachments`, the files as `files[n]`."""
        url = f"{self.api_url}{path}"
        sent: dict[str, Any] = {"json": body}
        if files:
            listed = [{"id": n, "filename": name} for n, (name, _) in enumerate(files)]
            form = aiohttp.FormData()
            form.add_field(
                "payload_json",
                json.dumps({**body, "attachments": listed}),
                content_type="application/json",
            )
            for n, (name, data) in enumerate(files):
                form.add_field(f"files[{n}]", data, filename=name, content_type="image/png")
            sent = {"data": form}
        try:
            async with self.session().request(
                method, url, headers=self._headers, timeout=self.timeout, **sent
            ) as response:
                data = await _json_or_none(response)
                if response.status < 300:
                    return data
                raise _delivery_error(response.status, data, response.headers)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(
                f"discord: {exc.__class__.__name__}", unknown_outcome=unknown_outcome(exc)
            ) from None

    async def open_dm(self, user_id: str) -> str:
        channel = await self.call("POST", "/users/@me/channels", {"recipient_id": user_id})
        self._dm_channels.add(str(channel["id"]))
        return str(channel["id"])

    async def send_dm(
        self, user_id: str, message: Message, *, dm_channel: str | None = None, key: str = ""
    ) -> SentRef:
        channel = dm_channel or await self.open_dm(user_id)
        self._dm_channels.add(channel)
        return await self.post_channel(channel, message, key=key)

    async def post_channel(self, channel: str, message: Message, *, key: str = "") -> SentRef:
        return await self._post(channel, message, {}, key)

    async def _post(
        self, channel: str, message: Message, extra: dict[str, Any], key: str
    ) -> SentRef:
        body = {**message_payload(message), **extra}
        if key:
            body = {**body, "nonce": nonce_for(key), "enforce_nonce": True}
        path = f"/channels/{channel}/messages"
        sent = await self.call("POST", path, body, attachments(message))
        return SentRef(str(sent["channel_id"]), str(sent["id"]))

    async def post_thread(self, parent: SentRef, message: Message, *, key: str = "") -> SentRef:
        if parent.channel not in self._dm_channels:
            thread = await self._thread_of(parent)
            if thread is not None:
                return await self._post(thread, message, {}, key)
        # A DM: no threads, so the reply quotes the message it answers.
        reference = {"message_id": parent.message_id, "fail_if_not_exists": False}
        return await self._post(parent.channel, message, {"message_reference": reference}, key)

    async def _thread_of(self, parent: SentRef) -> str | None:
        """The thread on `parent` (started now if need be), or None where a channel
        has no threads (a DM)."""
        path = f"/channels/{parent.channel}/messages/{parent.message_id}/threads"
        try:
            thread = await self.call("POST", path, {"name": THREAD_NAME})
        except DeliveryError as exc:
            code = getattr(exc, "code", None)
            if code == THREAD_EXISTS:
                return parent.message_id  # a message's thread has the message's id
            if code == NOT_HERE:
                self._dm_channels.add(parent.channel)
                return None
            raise
        return str(thread["id"])

    async def edit(self, ref: SentRef, message: Message) -> None:
        """Replace the message; its images are uploaded again (the `attachments` list
        names the files the edited message keeps: exactly the new ones)."""
        path = f"/channels/{ref.channel}/messages/{ref.message_id}"
        files = attachments(message)
        body = message_payload(message)
        if not files:
            body = {**body, "attachments": []}  # a chart the old version had goes too
        await self.call("PATCH", path, body, files)

    async def find_sent(self, send: Send, key: str) -> SentRef | None:
        """Nothing to look up: posting again with the same `enforce_nonce` returns
        the message an earlier process created (see the module docstring)."""
        return None


async def _json_or_none(response: aiohttp.ClientResponse) -> Any:
    """The body as JSON; None when there is none or it is not JSON (a proxy's HTML
    error page): the status decides then."""
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


class DiscordError(DeliveryError):
    """A refused call, with Discord's JSON error code (e.g. 50007)."""

    def __init__(self, message: str, *, code: int | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code


def _delivery_error(status: int, data: Any, headers: Any) -> DeliveryError:
    body = data if isinstance(data, dict) else {}
    code = body.get("code") if isinstance(body.get("code"), int) else None
    if status == 429:
        try:
            wait = float(body.get("retry_after") or headers.get("Retry-After") or 1)
        except (TypeError, ValueError):
            wait = 1.0
        return DiscordError("discord: rate limited", code=code, retry_after=wait, throttled=True)
    if status >= 500:
        return DiscordError(f"discord: server error {status}", code=code)
    text = str(body.get("message") or status)[:120]
    permanent = code in PERMANENT_CODES or status in (400, 401, 403, 404)
    return DiscordError(f"discord: {text} ({code})", code=code, permanent=permanent)
