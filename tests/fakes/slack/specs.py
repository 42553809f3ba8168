"""Slack's published Web API spec, read at run time, plus its known gaps.

The spec (slackapi/slack-api-specs, Swagger 2.0, 2021) is vendored in `tests/specs`
(with its licence), so the suite reads nothing outside the repository.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
WEB_API_SPEC = Path("slack") / "web-api" / "slack_web_openapi_v2_without_examples.json"
SAMPLES = Path("slack") / "samples"


def specs_dir() -> Path:
    """`<repo root>/tests/specs`: the vendored copies of the platforms' specs."""
    return REPO_ROOT / "tests" / "specs"


def sample(relative: str) -> dict[str, Any]:
    """A payload sample, e.g. `sample("api/chat.postMessage.json")`."""
    data: dict[str, Any] = json.loads((specs_dir() / SAMPLES / relative).read_text())
    return data


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class MethodSpec:
    """One Web API method as the spec declares it (plus the known gaps below).

    `verb` is the spec's *preferred* verb: Slack reads any method's arguments from a GET
    query string or a POST form body alike (docs.slack.dev/apis/web-api), so it is
    informative only. `content_types` is what a POST body may be: a JSON body is read only
    where it lists application/json. `errors` is the spec's error enum (None: it lists
    none, as for views.*); `wire.py` and the fake's self-check use them."""

    name: str
    params: frozenset[str]
    required: frozenset[str]
    types: tuple[tuple[str, str], ...] = ()  # (param, swagger type) for typed params
    in_spec: bool = True
    verb: str = "post"
    content_types: frozenset[str] = frozenset({FORM})
    errors: frozenset[str] | None = None

    def type_of(self, param: str) -> str | None:
        return dict(self.types).get(param)

    @property
    def accepts_json(self) -> bool:
        return JSON in self.content_types


# Methods newer than the spec (2021) that a modern bot uses: declared here by hand from
# docs.slack.dev. Token travels in the Authorization header and is never a parameter.
UNSPECIFIED_METHODS: dict[str, MethodSpec] = {
    # "Content types: application/x-www-form-urlencoded, application/json"; POST only.
    "apps.connections.open": MethodSpec(
        "apps.connections.open",
        frozenset(),
        frozenset(),
        in_spec=False,
        content_types=frozenset({FORM, JSON}),
    ),
    # docs.slack.dev lists JSON too, but live Slack answers a JSON body with
    # invalid_arguments "missing required field: filename" (seen and fixed in
    # Octember/earshot#10): what Slack does wins over what the page says.
    "files.getUploadURLExternal": MethodSpec(
        "files.getUploadURLExternal",
        frozenset({"filename", "length", "alt_txt", "snippet_type"}),
        frozenset({"filename", "length"}),
        (("length", "integer"),),
        False,
        verb="get",
    ),
    "files.completeUploadExternal": MethodSpec(
        "files.completeUploadExternal",
        frozenset({"files", "channel_id", "channels", "initial_comment", "thread_ts", "blocks"}),
        frozenset({"files"}),
        in_spec=False,
        content_types=frozenset({FORM, JSON}),
    ),
}

# Known gap: the spec declares views.open/push/update/publish as GET with query
# parameters, while slack_sdk POSTs them as JSON. Nothing to allow here: Slack reads any
# method by GET or POST (see MethodSpec), and the spec's `consumes` for views.* does list
# application/json, which is what decides whether a JSON body is read.

# Methods Slack takes only by POST: "insecure_request — The method was not called via a
# POST request" (apps.connections.open's reference page). Its app-level token also goes
# in the Authorization header only: "passing it as a POST parameter will result in an
# error".
POST_ONLY = frozenset({"apps.connections.open"})
HEADER_TOKEN_ONLY = frozenset({"apps.connections.open"})

# Retired methods answer `method_deprecated` (changelog 2021-02-24 "How we broke your
# Slack app": every channels.*, groups.*, im.*, mpim.* method). The spec (2021-09) no
# longer lists them, so without this they would look like unknown_method.
RETIRED_PREFIXES = ("channels.", "groups.", "im.", "mpim.")

# Errors every method's reference page on docs.slack.dev lists (its common table), plus
# the request-format errors the spec lists for nearly every method.
COMMON_ERRORS = frozenset(
    {
        "access_denied",
        "accesslimited",
        "account_inactive",
        "deprecated_endpoint",
        "ekm_access_denied",
        "enterprise_is_restricted",
        "fatal_error",
        "internal_error",
        "invalid_arg_name",
        "invalid_arguments",
        "invalid_array_arg",
        "invalid_auth",
        "invalid_charset",
        "invalid_form_data",
        "invalid_json",
        "invalid_post_type",
        "json_not_object",
        "method_deprecated",
        "missing_post_type",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "not_authed",
        "org_login_required",
        "ratelimited",
        "request_timeout",
        "service_unavailable",
        "team_access_not_granted",
        "team_added_to_org",
        "token_expired",
        "token_revoked",
        "two_factor_setup_required",
        "upgrade_required",
    }
)

# Errors the fake answers that the 2021 spec does not list for the method, each from the
# method's current reference page on docs.slack.dev (its errors table). The fake checks
# every error it answers against spec + COMMON_ERRORS + this list, so a code Slack never
# sends cannot creep in. Add one only with the method's page at hand.
NEWER_ERRORS: dict[str, frozenset[str]] = {
    "apps.connections.open": frozenset({"insecure_request", "missing_args"}),
    "chat.postMessage": frozenset(
        {
            "invalid_blocks",
            "invalid_blocks_format",
            "invalid_metadata_format",
            # Not on chat.postMessage's page, which has no code for a malformed thread_ts
            # nor for bad attachments: the fake's best reading, flagged here.
            "invalid_thread_ts",
            "invalid_attachments",
        }
    ),
    "chat.postEphemeral": frozenset(
        {"invalid_blocks", "invalid_blocks_format", "invalid_attachments", "not_in_channel"}
    ),
    "chat.update": frozenset(
        {
            "invalid_blocks",
            "invalid_blocks_format",
            "invalid_metadata_format",
            "invalid_attachments",
        }
    ),
    "conversations.history": frozenset({"not_in_channel", "invalid_cursor"}),
    "conversations.replies": frozenset({"invalid_cursor"}),
    "files.completeUploadExternal": frozenset(
        {"file_not_found", "channel_not_found", "not_in_channel", "invalid_blocks"}
    ),
    "files.getUploadURLExternal": frozenset(),
    "reactions.add": frozenset({"channel_not_found", "is_archived"}),
    # views.*: the spec lists no errors at all for them.
    "views.open": frozenset(
        {"invalid_trigger_id", "exchanged_trigger_id", "expired_trigger_id", "view_too_large"}
    ),
    "views.push": frozenset(
        {
            "invalid_trigger_id",
            "exchanged_trigger_id",
            "expired_trigger_id",
            "not_found",
            "push_limit_reached",
            "view_too_large",
        }
    ),
    "views.update": frozenset({"not_found", "hash_conflict", "view_too_large"}),
    "views.publish": frozenset({"hash_conflict", "view_too_large"}),
}


def allowed_errors(method: MethodSpec) -> frozenset[str]:
    """Every error code Slack may answer `method` with, as far as the fake knows."""
    listed = method.errors or frozenset()
    return listed | COMMON_ERRORS | NEWER_ERRORS.get(method.name, frozenset())


# Parameters any method may carry: slack_sdk adds `team_id` when the client has one.
ALWAYS_ALLOWED = frozenset({"team_id"})

# Parameters Slack added to methods after the spec was frozen (docs.slack.dev). Kept
# deliberately short: add one only with the method's current reference page at hand.
NEWER_PARAMS: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"metadata", "markdown_text"}),
    "chat.update": frozenset({"metadata", "markdown_text", "reply_broadcast", "file_ids"}),
    "chat.postEphemeral": frozenset({"markdown_text"}),
    # bolt >= 1.21 treats every DM thread as an "assistant thread": its say() reads the
    # thread with conversations.replies(include_all_metadata=True) and posts with metadata.
    "conversations.replies": frozenset({"include_all_metadata"}),
    "conversations.history": frozenset({"include_all_metadata"}),
    "views.open": frozenset({"interactivity_pointer"}),
    "views.push": frozenset({"interactivity_pointer"}),
}


@functools.cache
def web_api_methods() -> dict[str, MethodSpec]:
    """Every method of the spec (token dropped: it is the Authorization header), plus the gaps."""
    spec = json.loads((specs_dir() / WEB_API_SPEC).read_text())
    methods: dict[str, MethodSpec] = {}
    for path, operations in spec["paths"].items():
        name = path.lstrip("/")
        params: set[str] = set()
        required: set[str] = set()
        types: list[tuple[str, str]] = []
        content_types: set[str] = set()
        errors: set[str] = set()
        verb = next(iter(operations), "post")  # one operation per path in this spec
        for operation in operations.values():
            content_types |= set(operation.get("consumes", [FORM]))
            schema = operation.get("responses", {}).get("default", {}).get("schema", {})
            errors |= set(schema.get("properties", {}).get("error", {}).get("enum", []))
            for param in operation.get("parameters", []):
                if param["name"] == "token":
                    continue
                params.add(param["name"])
                if param.get("required"):
                    required.add(param["name"])
                if param.get("type") in {"boolean", "integer", "number"}:
                    types.append((param["name"], param["type"]))
        params |= NEWER_PARAMS.get(name, frozenset())
        methods[name] = MethodSpec(
            name,
            frozenset(params),
            frozenset(required),
            tuple(types),
            verb=verb,
            content_types=frozenset(content_types),
            errors=frozenset(errors) or None,
        )
    for name, method in UNSPECIFIED_METHODS.items():
        methods.setdefault(name, method)
    return methods
