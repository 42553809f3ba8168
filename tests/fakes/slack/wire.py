"""How Slack reads a Web API request off the wire: verb, Content-Type, body and token.

Slack's rules (docs.slack.dev/apis/web-api, "POST bodies"; changelog 2020-11 "No more
tokens in querystrings for newly created apps"), and what the fake does with each:

- Arguments travel as GET query-string parameters, as an
  `application/x-www-form-urlencoded` (or `multipart/form-data`) POST body, or as a mix
  of query string and form body. Any method is read either way: the spec's verb is only
  the preferred one (slack_sdk itself POSTs `auth.test`, which the spec declares GET).
  `apps.connections.open` is the exception: POST only (`insecure_request`).
- A JSON body is read only by the methods whose content types include
  `application/json` (the spec's `consumes`), and only with the token in an
  `Authorization: Bearer` header: "You cannot send your token ... as an attribute in your
  posted JSON". A JSON body sent to a form-only method is not read at all: Slack answers
  as if no arguments had come (`users.info` → `user_not_found`; live, kortix-ai/suna#6616).
- "Do not mix arguments between query string, URL-encoded POST body, and JSON
  attributes": with a JSON body, the query string is not read.
- The token goes in the Authorization header or as a form-body `token`; apps created
  after 2021-02-24 may not send it in the query string, where it is not read.
- A POST body with no Content-Type is `missing_post_type`; one of another type is
  `invalid_post_type`; a charset other than utf-8 / iso-8859-1 is `invalid_charset`;
  a body that does not parse is `invalid_form_data` / `invalid_json` / `json_not_object`.
  All these are answered HTTP 200 with `ok: false`, like every Slack error but 429.

Everything Slack refuses is refused here (`WireRequest.error`) and also recorded as the
app's bug; what Slack silently drops (a token it does not read, a body it ignores) is
dropped here too and recorded (`WireRequest.problems`).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .specs import FORM, HEADER_TOKEN_ONLY, JSON, POST_ONLY, MethodSpec

MULTIPART = "multipart/form-data"
TEXT = "text/plain"
CHARSETS = frozenset({"utf-8", "iso-8859-1"})  # "Valid charset names are: utf-8 iso-8859-1"


@dataclass
class WireRequest:
    """A request as Slack reads it: what arguments and token it sees, or why it refuses."""

    verb: str
    params: dict[str, Any]
    body: str  # "json" | "form" | "multipart" | "query" | "none" | the refused media type
    token: str | None
    error: str | None = None  # Slack refuses the request with this error
    problems: list[str] = field(default_factory=list)  # the app's mistakes, refused or not

    def refuse(self, error: str, problem: str) -> WireRequest:
        self.error = error
        self.problems.append(problem)
        return self


def parse_json_body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """A JSON request body as Slack reads it: (params, error)."""
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return None, "invalid_json"
    if not isinstance(data, dict):
        return None, "json_not_object"
    return data, None


async def read_request(request: web.Request, method: str, spec: MethodSpec | None) -> WireRequest:
    """Read `request` for Web API `method` (`spec` None: a method Slack does not have)."""
    verb = request.method
    query: dict[str, Any] = dict(request.query)
    auth = request.headers.get("Authorization", "")
    bearer = auth[len("Bearer ") :] if auth.startswith("Bearer ") and len(auth) > 7 else None
    wire = WireRequest(verb, dict(query), "query" if query else "none", bearer)

    query_token = wire.params.pop("token", None)
    if query_token is not None:
        wire.problems.append(
            "token sent in the query string: Slack does not read it from there"
            " (apps created after 2021-02-24); send Authorization: Bearer"
        )

    if verb not in {"GET", "POST"}:
        return wire.refuse(
            "fake_not_implemented",
            f"HTTP {verb}: Slack's answer is not documented; the Web API takes GET and POST",
        )
    if spec is not None and method in POST_ONLY and verb != "POST":
        return wire.refuse("insecure_request", f"{method} must be called by POST, not {verb}")

    if not request.body_exists:
        return wire
    if verb == "GET":
        await request.read()
        wire.problems.append("a GET request's body is not read; send arguments as a POST")
        return wire
    if "Content-Type" not in request.headers:
        await request.read()
        return wire.refuse("missing_post_type", "POST body without a Content-Type header")
    media, charset = request.content_type, request.charset
    if charset is not None and charset.lower() not in CHARSETS:
        await request.read()
        return wire.refuse("invalid_charset", f"charset {charset!r} (Slack takes utf-8)")

    if media == JSON:
        return await _read_json(request, method, spec, wire)
    if media == FORM:
        raw = await request.read()
        try:
            pairs = urllib.parse.parse_qsl(
                raw.decode(charset or "utf-8"),
                keep_blank_values=True,
                strict_parsing=bool(raw),
                encoding=charset or "utf-8",
                errors="strict",
            )
        except (UnicodeDecodeError, ValueError) as exc:
            return wire.refuse("invalid_form_data", f"form body does not parse ({exc})")
        form: dict[str, Any] = dict(pairs)
        wire.body = "form"
    elif media == MULTIPART:
        form = {}
        for key, value in (await request.post()).items():
            form[key] = value.file.read() if isinstance(value, web.FileField) else value
        wire.body = "multipart"
    elif media == TEXT:
        await request.read()
        wire.body = media
        return wire.refuse(
            "fake_not_implemented",
            "text/plain body: Slack lists it as a valid type but documents no way it is read",
        )
    else:
        await request.read()
        wire.body = media
        return wire.refuse(
            "invalid_post_type",
            f"Content-Type {media!r} (Slack takes form-urlencoded, multipart or JSON)",
        )

    body_token = form.pop("token", None)
    if body_token is not None and method in HEADER_TOKEN_ONLY:
        wire.problems.append(
            f"{method} takes its token in the Authorization header only, not the body"
        )
    elif body_token is not None and wire.token is None:
        wire.token = str(body_token)
    wire.params.update(form)
    return wire


async def _read_json(
    request: web.Request,
    method: str,
    spec: MethodSpec | None,
    wire: WireRequest,
) -> WireRequest:
    query = sorted(wire.params)  # the query string's arguments, token already taken out
    raw = await request.read()
    wire.body = "json"
    if spec is not None and not spec.accepts_json:
        # Not an error answer: Slack answers as if the arguments had never been sent.
        wire.problems.append(
            f"{method} takes no JSON body (content types: {sorted(spec.content_types)}):"
            " Slack does not read it and answers as if no arguments were sent"
        )
        wire.params = {}
        return wire
    data, error = parse_json_body(raw)
    if data is None:
        assert error is not None
        return wire.refuse(error, f"request body is {error}")
    if "token" in data:
        data.pop("token")
        wire.problems.append("token in a JSON body is not read (JSON needs Authorization: Bearer)")
    if query:
        wire.problems.append(
            f"arguments in both the query string ({query}) and a JSON body:"
            " Slack reads the JSON only"
        )
    wire.params = data
    return wire
