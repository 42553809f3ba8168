"""Issue 11, points 3 and 11 (HTTP): Slack's HTTP endpoint checks a request on its
raw bytes before parsing or logging it.

Before: the body was parsed before the signature was checked, so malformed bodies
and a non-integer timestamp gave HTTP 500 with a traceback even unsigned; each badly
signed request had its whole body logged at INFO (20 unsigned 900 kB posts: 18 MB of
log and a forged log line); a signed request in a content type Slack never uses was
processed."""

from __future__ import annotations

import logging
import time
import urllib.parse
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bots import metrics
from bots.slack import inbound
from hdops.store.db import Store
from hdops.store.orm import Adjustment, ProcessedEvent
from tests.e2e.slack_system import SlackWorld, slack_world
from tests.fakes.slack.server import FakeSlack
from tests.fakes.slack.signing import signature, signed_headers

pytest_plugins = ["tests.fakes.slack.fixtures"]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
FORGED = "\n2026-11-28 10:00:00,000 INFO hdops.run: ops approved payouts for all\n"


async def post(
    url: str, body: bytes, content_type: str, headers: dict[str, str]
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers={"Content-Type": content_type, **headers}) as resp,
    ):
        return resp.status, await resp.text()


def command_form(fake: FakeSlack, w: SlackWorld, text: str) -> bytes:
    user = fake.ws.user(w.otto)
    payload = fake.payloads.slash_command(user, "/hdops", text, fake.ws.dm_with(user))
    return urllib.parse.urlencode(payload).encode()


def nothing_happened(store: Store, fake: FakeSlack, calls_before: int) -> None:
    with store.read() as s:
        assert s.scalar(select(func.count(ProcessedEvent.event_id))) == 0
        assert s.scalar(select(func.count(Adjustment.id))) == 0
    assert len(fake.calls) == calls_before, [c.method for c in fake.calls[calls_before:]]


MALFORMED: list[tuple[str, str, bytes]] = [
    ("truncated JSON", JSON, b'{"type": "event_callback", "event": {'),
    ("JSON that is not an object", JSON, b"[1, 2, 3]"),
    ("JSON nested past the parser", JSON, b"[" * 100_000),
    ("JSON with a 5000-digit number", JSON, b'{"type": ' + b"9" * 5000 + b"}"),
    ("form whose payload is not JSON", FORM, b"payload=%7Bnot+json"),
    ("form whose payload is a list", FORM, b"payload=%5B%5D"),
    ("form with empty fields", FORM, b"a=1&&&=2"),
    ("body that is not UTF-8", FORM, b"text=\xff\xfe&user_id=U1"),
]


@pytest.mark.parametrize(("what", "content_type", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_bodies_get_400_signed_and_401_unsigned_never_500(
    store: Store, fake_slack: FakeSlack, what: str, content_type: str, body: bytes
) -> None:
    async with slack_world(store, fake_slack, "http") as w:
        await w.settle()
        calls = len(fake_slack.calls)
        url = fake_slack.app_url
        secret = fake_slack.signing_secret
        for mode, expected in (("valid", 400), ("unsigned", 401), ("bad", 401), ("stale", 401)):
            status, _ = await post(url, body, content_type, signed_headers(secret, body, mode))
            assert status == expected, (what, mode)
        await w.settle()
        nothing_happened(store, fake_slack, calls)


@pytest.mark.parametrize("timestamp", ["12ab", "1e9", "1700000000.5", "-5", "9" * 40, "１２３"])
async def test_a_timestamp_that_is_not_an_integer_gets_400(
    store: Store, fake_slack: FakeSlack, timestamp: str
) -> None:
    async with slack_world(store, fake_slack, "http") as w:
        await w.settle()
        calls = len(fake_slack.calls)
        body = command_form(fake_slack, w, "payouts adjust alice 5 --reason bonus")
        headers = {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(fake_slack.signing_secret, timestamp, body),
        }
        status, _ = await post(fake_slack.app_url, body, FORM, headers)
        assert status == 400
        await w.settle()
        nothing_happened(store, fake_slack, calls)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data; boundary=x", "application/xml", ""]
)
async def test_a_signed_request_in_a_content_type_slack_never_uses_gets_400(
    store: Store, fake_slack: FakeSlack, content_type: str
) -> None:
    async with slack_world(store, fake_slack, "http") as w:
        await w.settle()
        calls = len(fake_slack.calls)
        body = command_form(fake_slack, w, "payouts adjust alice 5 --reason bonus")
        headers = signed_headers(fake_slack.signing_secret, body)
        status, _ = await post(fake_slack.app_url, body, content_type, headers)
        assert status == 400
        await w.settle()
        nothing_happened(store, fake_slack, calls)
        # The same request in the type Slack uses is carried out.
        status, _ = await post(fake_slack.app_url, body, FORM, headers)
        assert status == 200
        await w.settle()
        with store.read() as s:
            assert s.scalar(select(func.count(Adjustment.id))) == 1


async def test_a_flood_of_unsigned_900kb_posts_leaves_a_short_log_and_no_forged_line(
    store: Store, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    filler = b"x" * 900_000
    bodies = [
        b"payload=" + urllib.parse.quote(FORGED).encode() + filler,
        FORGED.encode() + filler,
    ]
    async with slack_world(store, fake_slack, "http") as w:
        await w.settle()
        calls = len(fake_slack.calls)
        refused = metrics.value("hdops_http_refused_total", status="401")
        caplog.clear()
        for n in range(20):
            body = bodies[n % 2]
            headers = {"X-Slack-Signature": "v0=" + "0" * 64} if n % 3 else {}
            if n % 4 == 1:
                headers["X-Slack-Request-Timestamp"] = str(int(time.time()))
            status, _ = await post(fake_slack.app_url, body, FORM, headers)
            assert status == 401
        await w.settle()
        nothing_happened(store, fake_slack, calls)
        assert metrics.value("hdops_http_refused_total", status="401") == refused + 20
    logged = [r.getMessage() for r in caplog.records]
    assert sum(len(m) for m in logged) < 20 * 300, logged
    assert not any("ops approved" in m or "\n" in m for m in logged), logged


async def test_a_signed_command_mentioning_payload_is_carried_out(
    store: Store, fake_slack: FakeSlack
) -> None:
    """bolt's own form reader mistook any body containing the word "payload" for an
    interaction and read nothing: such a command reached no listener."""
    async with slack_world(store, fake_slack, "http") as w:
        await fake_slack.slash_command(
            w.otto, "/hdops", "payouts adjust alice 5 --reason payload test bonus"
        )
        await w.settle()
        with store.read() as s:
            reasons: list[Any] = list(s.scalars(select(Adjustment.reason)))
        assert reasons == ["payload test bonus"]


def test_a_payload_described_for_the_log_is_one_short_line() -> None:
    body = {
        "type": "event_callback",
        "event": {"type": "message" + FORGED * 50, "subtype": FORGED},
        **{f"k{n}{FORGED}": n for n in range(100)},
    }
    described = inbound.describe(body)
    assert "\n" not in described and len(described) < 1500, described
