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


@dataclass(frozen=True)
class MethodSpec:
    name: str
    params: frozenset[str]
    required: frozenset[str]
    types: tuple[tuple[str, str], ...] = ()  # (param, swagger type) for typed params
    in_spec: bool = True

    def type_of(self, param: str) -> str | None:
        return dict(self.types).get(param)


# Methods newer than the spec (2021) that a modern bot uses: declared here by hand from
# docs.slack.dev. Token travels in the Authorization header and is never a parameter.
UNSPECIFIED_METHODS: dict[str, MethodSpec] = {
    "apps.connections.open": MethodSpec(
        "apps.connections.open", frozenset(), frozenset(), (), False
    ),
    "files.getUploadURLExternal": MethodSpec(
        "files.getUploadURLExternal",
        frozenset({"filename", "length", "alt_txt", "snippet_type"}),
        frozenset({"filename", "length"}),
        (("length", "integer"),),
        False,
    ),
    "files.completeUploadExternal": MethodSpec(
        "files.completeUploadExternal",
        frozenset({"files", "channel_id", "channels", "initial_comment", "thread_ts", "blocks"}),
        frozenset({"files"}),
        (),
        False,
    ),
}

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
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if param["name"] == "token":
                    continue
                params.add(param["name"])
                if param.get("required"):
                    required.add(param["name"])
                if param.get("type") in {"boolean", "integer", "number"}:
                    types.append((param["name"], param["type"]))
        params |= NEWER_PARAMS.get(name, frozenset())
        methods[name] = MethodSpec(name, frozenset(params), frozenset(required), tuple(types))
    for name, method in UNSPECIFIED_METHODS.items():
        methods.setdefault(name, method)
    return methods
