"""Slack request signing: `X-Slack-Signature` = v0= + HMAC-SHA256(secret, "v0:{ts}:{body}")."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Literal

SignatureMode = Literal["valid", "unsigned", "bad", "stale"]
STALE_SECONDS = 600  # Slack's receivers reject timestamps more than 300 s away


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, mode: SignatureMode = "valid", now: float | None = None
) -> dict[str, str]:
    """Headers Slack adds to a request to the app: valid, missing, wrong, or too old."""
    if mode == "unsigned":
        return {}
    moment = time.time() if now is None else now
    timestamp = str(int(moment - (STALE_SECONDS if mode == "stale" else 0)))
    secret_used = secret if mode != "bad" else secret + "-wrong"
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret_used, timestamp, body),
    }
