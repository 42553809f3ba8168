"""The door of Slack's HTTP mode: a request is checked on its raw bytes before
anything in it is parsed or logged.

bolt's aiohttp adapter parses the body first and checks the signature later, so
an unsigned request with a malformed body (or a non-integer
`X-Slack-Request-Timestamp`) became an HTTP 500 with a traceback, and every
badly signed request had its whole body logged at INFO (megabytes per request,
newlines included: anyone could plant log lines). Here, in this order:

1. `X-Slack-Signature` and `X-Slack-Request-Timestamp` present, else **401**;
   the timestamp an integer, else **400**; no more than five minutes away, else
   **401**; the signature the HMAC of `v0:{timestamp}:{raw body}` under the
   signing secret, else **401**. Only then is the body read past its length.
2. The content type one Slack uses (`application/json` for events,
   `application/x-www-form-urlencoded` for commands and interactions), else
   **400** — a signed request in another type is not processed.
3. The body UTF-8 and, as its content type says, a JSON object or a form whose
   `payload` (interactions) is a JSON object, else **400**.

A refusal is never a 500 and is logged as one escaped line of fixed words,
sizes and the first characters of the content type (never the body or a
header's value), at most `LOG_BURST` lines a minute, the rest summed up in one
line; each refusal is counted (`hdops_http_refused_total{status}`). What passes
goes to bolt as usual (which checks the signature once more, harmlessly).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

MAX_SKEW_S = 300  # Slack's own rule: older (or newer) requests may be replays
MAX_TIMESTAMP_DIGITS = 15
CONTENT_TYPES = frozenset({"application/json", "application/x-www-form-urlencoded"})
LOG_BURST = 10  # refusal lines logged per LOG_WINDOW_S; the rest are summed up
LOG_WINDOW_S = 60.0


@dataclass(frozen=True)
class Refusal:
    status: int  # 400 or 401
    reason: str  # fixed words, never taken from the request


@dataclass(frozen=True)
class Admitted:
    text: str  # the body, decoded
    body: dict[str, Any]  # the body, parsed as Slack sends it


def check_signature(
    secret: str, headers: Mapping[str, str], now: float | None = None
) -> Refusal | Callable[[bytes], Refusal | None]:
    """The header checks, which need no body: a refusal, or the check of the body's
    signature (so an unsigned request is refused before its body is even read)."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        return Refusal(401, "unsigned")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        return Refusal(400, "timestamp is not an integer")
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > MAX_SKEW_S:
        return Refusal(401, "timestamp too old or too new")

    def body_signed(raw: bytes) -> Refusal | None:
        base = b"v0:" + timestamp.encode() + b":" + raw
        expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return Refusal(401, "bad signature")
        return None

    return body_signed


def read_body(raw: bytes, content_type: str) -> Refusal | Admitted:
    """A signed body in a type Slack uses, parsed; or why not."""
    if content_type not in CONTENT_TYPES:
        return Refusal(400, "content type is not one Slack uses")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body is not UTF-8")
    body = _json_object(text) if content_type == "application/json" else _form(text)
    if body is None:
        return Refusal(400, f"body is not {_WHAT[content_type]}")
    return Admitted(text, body)


_WHAT = {"application/json": "a JSON object", "application/x-www-form-urlencoded": "a form"}


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:  # JSONDecodeError, and numbers too long to convert
        return None
    except RecursionError:  # nesting deeper than the parser goes
        return None
    return value if isinstance(value, dict) else None


def _form(text: str) -> dict[str, Any] | None:
    if not text:
        return {}
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    if "payload" in fields:  # an interaction: its JSON is in one field
        return _json_object(fields["payload"])
    return fields


def summary(remote: str | None, size: int | None, content_type: str) -> str:
    """One escaped line about a request: where from, how big, what type (cut short)."""
    where = ascii(remote or "?")[:48]
    bytes_ = "?" if size is None else str(size)
    return f"from {where}, {bytes_} bytes, content type {content_type[:40]!a}"


class RefusalLog:
    """Logs refusals, at most `burst` lines per `window` seconds; the ones over that
    are summed up in one line when the next window opens (a flood of forged
    requests cannot fill the disk through the log)."""

    def __init__(
        self,
        burst: int = LOG_BURST,
        window: float = LOG_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._opened = -window
        self._logged = 0
        self._skipped = 0

    def refused(self, refusal: Refusal, about: str) -> None:
        with self._lock:
            now = self.clock()
            if now - self._opened >= self.window:
                if self._skipped:
                    log.warning("%d more slack requests refused (not logged)", self._skipped)
                self._opened, self._logged, self._skipped = now, 0, 0
            if self._logged >= self.burst:
                self._skipped += 1
                return
            self._logged += 1
        log.warning("slack request refused, %d %s: %s", refusal.status, refusal.reason, about)
