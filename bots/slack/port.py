"""Slack as a chat port: outbox intents become Web API calls.

DM channels are cached on the person's identity (the delivery loop stores the
channel a DM went to), so `conversations.open` runs once per person, not per
message. The edit of a message someone just clicked on goes through that
interaction's `response_url` when this process has it (`ResponseUrls`), not
through the Tier 3 `chat.update`. All calls share one HTTP session (slack_sdk
otherwise opens a new connection for every call).

Slack errors are mapped to `DeliveryError`: `ratelimited` is throttling (with
Retry-After), 5xx and connection errors are transient, and errors that retrying
cannot fix (archived channel, user gone, token revoked) are permanent.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.common.transport import unknown_outcome
from bots.slack.blocks import message_payload
from bots.slack.rates import limits_for
from bots.slack.response_urls import ResponseUrls
from hdops.chat import Image, Message
from hdops.pacing import Limit
from hdops.ports import DeliveryError, Send, SentRef

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "user_not_found",
        "account_inactive",
        "cannot_dm_bot",
        "user_disabled",
        "message_not_found",
        "cant_update_message",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "restricted_action",
        "team_access_not_granted",
        "not_authed",
        "invalid_auth",
        "missing_scope",
        "is_inactive",  # chat.update in an archived channel
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "ekm_access_denied",
    }
)


METADATA_TYPE = "hdops_outbox_message"
LOOKBACK = 100  # messages searched for one that an earlier process posted


def _tagged(key: str) -> dict[str, Any]:
    """Message metadata naming the outbox message: invisible to people, readable
    back with `include_all_metadata` (see `SlackPort.find_sent`)."""
    if not key:
        return {}
    return {"metadata": {"event_type": METADATA_TYPE, "event_payload": {"outbox_message": key}}}


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = str(response.get("error", "unknown_error")) if response is not None else "unknown"
    status = getattr(response, "status_code", 200)
    if error == "ratelimited" or status == 429:
        headers = getattr(response, "headers", {}) or {}
        retry = headers.get("Retry-After") or headers.get("retry-after") or 1
        try:
            seconds = max(0.0, float(retry))
        except ValueError:
            seconds = 1.0
        return DeliveryError("slack: ratelimited", retry_after=seconds, throttled=True)
    if status >= 500:
        return DeliveryError(f"slack: server error {status}")
    return DeliveryError(f"slack: {error}", permanent=error in PERMANENT_ERRORS)


class SlackPort:
    platform = "slack"

    def __init__(self, client: AsyncWebClient, response_urls: ResponseUrls | None = None) -> None:
        self.client = client
        self.response_urls = response_urls or ResponseUrls()

    def rates(self, send: Send) -> Sequence[Limit]:
        if send.op == "edit" and self.response_urls.available(send.channel, send.target):
            return ()  # through the interaction's response_url, outside the Web API tiers
        return limits_for(send)

    def session(self) -> aiohttp.ClientSession:
        """The HTTP session every call shares (made on first use, in the running loop)."""
        session = self.client.session
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.client.timeout)
            )
            self.client.session = session
        return session

    async def aclose(self) -> None:
        session = self.client.session
        if session is not None and not session.closed:
            await session.close()

    async def _call(self, method: str, **kwargs: Any) -> Any:
        self.session()
        try:
            return await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            raise _delivery_error(exc) from None
        except (OSError, TimeoutError, aiohttp.ServerDisconnectedError) as exc:
            # Refused: nothing was sent. A timeout or a connection lost mid-call: Slack
            # may have done it (see `DeliveryError.unknown_outcome`).
            raise DeliveryError(
                f"slack: {exc.__class__.__name__}", unknown_outcome=unknown_outcome(exc)
            ) from None

    async def open_dm(self, user_id: str) -> str:
        response = await self._call("conversations_open", users=user_id)
        return str(response["channel"]["id"])

    async def send_dm(
        self, user_id: str, message: Message, *, dm_channel: str | None = None, key: str = ""
    ) -> SentRef:
        channel = dm_channel or await self.open_dm(user_id)
        return await self.post_channel(channel, message, key=key)

    async def post_channel(self, channel: str, message: Message, *, key: str = "") -> SentRef:
        response = await self._call(
            "chat_postMessage", channel=channel, **message_payload(message), **_tagged(key)
        )
        ref = SentRef(str(response["channel"]), str(response["ts"]))
        await self._upload_images(ref, message)
        return ref

    async def post_thread(self, parent: SentRef, message: Message, *, key: str = "") -> SentRef:
        response = await self._call(
            "chat_postMessage",
            channel=parent.channel,
            thread_ts=parent.message_id,
            **message_payload(message),
            **_tagged(key),
        )
        await self._upload_images(parent, message)
        return SentRef(str(response["channel"]), str(response["ts"]))

    async def find_sent(self, send: Send, key: str) -> SentRef | None:
        """Look for a message tagged with `key` (message metadata) among the last
        messages of its channel or thread: an earlier process may have posted it and
        died before recording that. Only asked after such a death, so the Tier 3
        read is rare."""
        if not key or send.op == "edit":
            return None
        if send.op == "thread":
            channel = send.channel
            response = await self._call(
                "conversations_replies",
                channel=channel,
                ts=send.target,
                limit=LOOKBACK,
                include_all_metadata=True,
            )
        else:
            channel = send.channel or await self.open_dm(send.target)
            response = await self._call(
                "conversations_history", channel=channel, limit=LOOKBACK, include_all_metadata=True
            )
        for found in response.get("messages") or []:
            metadata = found.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_TYPE and (
                str(payload.get("outbox_message")) == key
            ):
                return SentRef(channel, str(found["ts"]))
        return None

    async def _upload_images(self, where: SentRef, message: Message) -> None:
        """Charts travel as files in the message's thread (Slack's upload v2 flow:
        files.getUploadURLExternal, the upload, files.completeUploadExternal). A failed
        upload is logged, not retried: retrying would post the message itself again."""
        for part in message.parts:
            if not isinstance(part, Image):
                continue
            try:
                await self._call(
                    "files_upload_v2",
                    channel=where.channel,
                    thread_ts=where.message_id,
                    filename=part.filename,
                    title=part.title,
                    content=base64.b64decode(part.png_base64),
                )
            except DeliveryError as exc:
                log.warning("could not upload %s: %s", part.filename, exc)

    async def edit(self, ref: SentRef, message: Message) -> None:
        url = self.response_urls.take(ref.channel, ref.message_id)
        if url is not None and await self._replace_original(url, message):
            return
        await self._call(
            "chat_update", channel=ref.channel, ts=ref.message_id, **message_payload(message)
        )

    async def _replace_original(self, url: str, message: Message) -> bool:
        """Replace the clicked message through its response_url; False: it did not
        work (expired, used up, Slack refused), so the caller uses chat.update."""
        body = {"replace_original": True, **message_payload(message)}
        try:
            async with self.session().post(url, json=body) as response:
                text = await response.text()
                if response.status == 200:
                    return True
                log.info(
                    "response_url refused (%s %s); using chat.update", response.status, text[:80]
                )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info("response_url failed (%s); using chat.update", exc.__class__.__name__)
        return False
