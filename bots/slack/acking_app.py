"""An AsyncApp that always acknowledges what Slack sends.

Slack shows a person an error when a request is not acknowledged with HTTP 200
(Socket Mode: an ack envelope) within 3 seconds, and retries events, so every
inbound request gets a 200 even when bolt itself cannot handle it:

* bolt raises before any listener runs (e.g. `block_actions` with an empty
  `actions` list breaks its context set-up) — over HTTP that was a 500, over
  Socket Mode no ack at all;
* a listener failed before acking (bolt answers 500), or after acking in a way
  that made bolt wait out its 3-second ack timeout (bolt answers 404);
* no listener matched (bolt answers 404): a payload hdops does not handle.

Each becomes an empty 200, is logged (kind and keys only: payloads carry
tokens) and counted, and on a failure `on_failure` is given the body to tell
the person, if it names one. Signature failures (401) and every answer bolt
gave normally pass through unchanged. Both transports (Socket Mode and HTTP)
go through `async_dispatch`, so this is the one place that guarantees it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bots import metrics
from bots.slack.inbound import describe

log = logging.getLogger(__name__)

OnFailure = Callable[[dict[str, Any]], Awaitable[None]]


class AckingApp(AsyncApp):
    def __init__(self, *, on_failure: OnFailure, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_failure = on_failure
        self._tasks: set[asyncio.Task[None]] = set()

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        body: Any = req.body
        try:
            response = await super().async_dispatch(req)
        except Exception:
            log.exception("slack request could not be dispatched: %s", describe(body))
            self._failed(body)
            return BoltResponse(status=200, body="")
        if response.status >= 500 or response.status == 404:
            log.warning("slack request answered %s by bolt: %s", response.status, describe(body))
            if response.status >= 500:
                self._failed(body)
            return BoltResponse(status=200, body="")
        return response

    def _failed(self, body: Any) -> None:
        metrics.event_error("slack", _kind(body))
        if isinstance(body, dict):
            task = asyncio.ensure_future(self._on_failure(body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


def _kind(body: Any) -> str:
    if not isinstance(body, dict):
        return "unknown"
    if "command" in body:
        return "command"
    return str(body.get("type") or "unknown")[:40]
