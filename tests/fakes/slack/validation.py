"""Checks every request against Slack's spec, Block Kit models and documented limits.

Each check returns a list of human-readable problems (empty = valid). Block Kit is checked
twice: by slack_sdk's own models (`Block.parse_all` / `View`, `validate_json()` on every
nested object, unknown fields flagged) and by the limits Slack documents, walked over the
raw JSON, since slack_sdk enforces only some of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block, Option, OptionGroup
from slack_sdk.models.views import View

from .specs import ALWAYS_ALLOWED, MethodSpec

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40_000
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ID_MAX = 255  # action_id, block_id, callback_id
SELECT_OPTIONS_MAX = 100
OVERFLOW_OPTIONS_MAX = 5
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
ACTIONS_ELEMENTS_MAX = 25
INPUT_LABEL_MAX = 2000
HEADER_TEXT_MAX = 150
PLAIN_TEXT_INPUT_MAX = 3000
VIEW_TITLE_MAX = 24
VIEW_BUTTON_TEXT_MAX = 24
PRIVATE_METADATA_MAX = 3000
VIEW_BYTES_MAX = 250_000
VIEW_TOO_LARGE = f"bytes (limit {VIEW_BYTES_MAX})"  # check_view's words for view_too_large

OPTION_KEYS = frozenset({"text", "value", "description", "url"})
SELECTS_WITH_OPTIONS = frozenset(
    {"static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"}
)
_TRUE_FALSE = frozenset({"true", "false", "1", "0"})


# ----------------------------------------------------------------------------- parameters


def unknown_params(method: MethodSpec, params: Mapping[str, Any]) -> list[str]:
    """Parameters the method does not declare (Slack ignores them: a typo goes unnoticed)."""
    return [
        f"parameter {name!r} is not declared for {method.name}"
        for name in sorted(params)
        if name not in method.params and name not in ALWAYS_ALLOWED
    ]


def check_params(method: MethodSpec, params: Mapping[str, Any]) -> list[str]:
    """Missing-required and badly typed parameters (Slack refuses the call)."""
    problems: list[str] = []
    for name in sorted(method.required):
        if name not in params or params[name] in (None, ""):
            problems.append(f"required parameter {name!r} is missing")
    for name, kind in method.types:
        if name in params and not _has_type(params[name], kind):
            problems.append(f"parameter {name!r} must be {kind}, got {params[name]!r}")
    return problems


def _has_type(value: Any, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool) or (isinstance(value, str) and value in _TRUE_FALSE)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit())
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def json_param(name: str, value: Any) -> tuple[Any, list[str]]:
    """A structured parameter: a JSON string in form bodies, a JSON value in JSON bodies."""
    if isinstance(value, str):
        try:
            return json.loads(value), []
        except ValueError:
            return None, [f"{name} is not valid JSON"]
    return value, []


# ----------------------------------------------------------------------------- messages


def check_text(text: Any) -> list[str]:
    """A message's top-level `text` (Slack truncates past 40,000 characters: a bug here)."""
    if text is None:
        return []
    if not isinstance(text, str):
        return [f"text must be a string, got {type(text).__name__}"]
    if len(text) > MESSAGE_TEXT_MAX:
        return [f"text is {len(text)} characters (limit {MESSAGE_TEXT_MAX})"]
    return []


def check_blocks(blocks: Any, *, limit: int, where: str = "blocks") -> list[str]:
    """A message's (or a view's) block list."""
    if not isinstance(blocks, list):
        return [f"{where} must be a JSON array"]
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"{where} has {len(blocks)} blocks (limit {limit})")
    if not all(isinstance(b, Mapping) for b in blocks):
        return [*problems, f"{where} must contain objects only"]
    parsed = Block.parse_all(blocks)
    for i, (block, raw) in enumerate(zip(parsed, blocks, strict=True)):
        path = f"{where}[{i}]"
        if block is None:
            problems.append(f"{path}: unknown block type {raw.get('type')!r}")
            continue
        _walk_model(block, raw, path, problems)
    problems += _check_limits(blocks, where)
    problems += _check_unique_ids(blocks, where)
    return problems


def _walk_model(
    obj: JsonObject,
    raw: Mapping[str, Any],
    path: str,
    problems: list[str],
    skip: frozenset[str] = frozenset(),
) -> None:
    """`validate_json()` on `obj` and everything nested in it; unknown fields are errors."""
    try:
        obj.validate_json()
    except SlackObjectFormationError as exc:
        problems.append(f"{path}: {exc}")
    allowed = OPTION_KEYS if isinstance(obj, Option) else set(obj.attributes) | {"type"}
    if isinstance(obj, OptionGroup):
        allowed = {"label", "options"}
    for key in raw:
        if key not in allowed:
            problems.append(f"{path}: unknown field {key!r} for {raw.get('type') or 'object'}")
    for key in sorted(allowed - skip):
        sub_raw = raw.get(key)
        value = getattr(obj, key, None)
        sub_path = f"{path}.{key}"
        if isinstance(value, JsonObject):
            if isinstance(sub_raw, Mapping):
                _walk_model(value, sub_raw, sub_path, problems)
            elif isinstance(sub_raw, str):
                problems.append(f"{sub_path}: must be an object, not a string")
        elif isinstance(value, Sequence) and not isinstance(value, str):
            if not isinstance(sub_raw, list):
                continue
            for j, (item, item_raw) in enumerate(zip(value, sub_raw, strict=False)):
                item_path = f"{sub_path}[{j}]"
                if isinstance(item, JsonObject) and isinstance(item_raw, Mapping):
                    _walk_model(item, item_raw, item_path, problems)
                elif item is None and isinstance(item_raw, Mapping):
                    problems.append(f"{item_path}: unknown element type {item_raw.get('type')!r}")
                elif isinstance(item, Mapping) and key in {"options", "initial_options"}:
                    _walk_model(Option(**item), item, item_path, problems)


def _text_of(obj: Any) -> str:
    if isinstance(obj, Mapping):
        text = obj.get("text")
        return text if isinstance(text, str) else ""
    return obj if isinstance(obj, str) else ""


def _check_limits(node: Any, path: str) -> list[str]:
    """Slack's documented Block Kit limits, over the raw JSON."""
    problems: list[str] = []
    if isinstance(node, list):
        for i, item in enumerate(node):
            problems += _check_limits(item, f"{path}[{i}]")
        return problems
    if not isinstance(node, Mapping):
        return problems

    def over(what: str, size: int, limit: int) -> None:
        if size > limit:
            problems.append(f"{path}: {what} is {size} (limit {limit})")

    kind = node.get("type")
    for key in ("action_id", "block_id"):
        if isinstance(node.get(key), str):
            over(f"{key} length", len(node[key]), ID_MAX)
    if kind == "section":
        over("text length", len(_text_of(node.get("text"))), SECTION_TEXT_MAX)
        fields = node.get("fields") or []
        over("number of fields", len(fields), SECTION_FIELDS_MAX)
        for field in fields:
            over("field text length", len(_text_of(field)), SECTION_FIELD_TEXT_MAX)
    elif kind == "button":
        over("button text length", len(_text_of(node.get("text"))), BUTTON_TEXT_MAX)
        if isinstance(node.get("value"), str):
            over("button value length", len(node["value"]), BUTTON_VALUE_MAX)
    elif kind == "actions":
        over("number of elements", len(node.get("elements") or []), ACTIONS_ELEMENTS_MAX)
    elif kind == "input":
        over("label length", len(_text_of(node.get("label"))), INPUT_LABEL_MAX)
    elif kind == "header":
        over("header text length", len(_text_of(node.get("text"))), HEADER_TEXT_MAX)
    elif kind == "plain_text_input":
        for key in ("max_length", "min_length"):
            if isinstance(node.get(key), int):
                over(key, node[key], PLAIN_TEXT_INPUT_MAX)
    if kind in SELECTS_WITH_OPTIONS:
        options = list(node.get("options") or [])
        for group in node.get("option_groups") or []:
            options += group.get("options") or [] if isinstance(group, Mapping) else []
        limit = OVERFLOW_OPTIONS_MAX if kind == "overflow" else SELECT_OPTIONS_MAX
        over("number of options", len(options), limit)
        for option in options:
            if isinstance(option, Mapping):
                over("option text length", len(_text_of(option.get("text"))), OPTION_TEXT_MAX)
                if isinstance(option.get("value"), str):
                    over("option value length", len(option["value"]), OPTION_VALUE_MAX)
    for key, value in node.items():
        if isinstance(value, (Mapping, list)):
            problems += _check_limits(value, f"{path}.{key}")
    return problems


def _check_unique_ids(blocks: list[Any], where: str) -> list[str]:
    """block_id unique in a message or view; action_id unique within its block."""
    problems: list[str] = []
    seen_blocks: set[str] = set()
    for i, block in enumerate(blocks):
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_blocks:
                problems.append(f"{where}[{i}]: duplicate block_id {block_id!r}")
            seen_blocks.add(block_id)
        seen_actions: set[str] = set()
        for element in _elements(block):
            action_id = element.get("action_id")
            if isinstance(action_id, str):
                if action_id in seen_actions:
                    problems.append(f"{where}[{i}]: duplicate action_id {action_id!r}")
                seen_actions.add(action_id)
    return problems


def _elements(block: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The interactive elements of a block (actions, section accessory, input element)."""
    found: list[Mapping[str, Any]] = []
    for element in block.get("elements") or []:
        if isinstance(element, Mapping):
            found.append(element)
    for key in ("accessory", "element"):
        if isinstance(block.get(key), Mapping):
            found.append(block[key])
    return found


# ----------------------------------------------------------------------------- views


def check_view(view: Any, *, types: frozenset[str]) -> list[str]:
    """A modal or Home tab view as sent to views.open/push/update/publish or in an ack."""
    if not isinstance(view, Mapping):
        return ["view must be a JSON object"]
    problems: list[str] = []
    if view.get("type") not in types:
        problems.append(f"view type must be one of {sorted(types)}, got {view.get('type')!r}")
    raw_blocks = view.get("blocks")
    if not isinstance(raw_blocks, list):
        return [*problems, "view.blocks must be a JSON array"]
    try:
        model = View(**view)
    except TypeError as exc:
        return [*problems, f"view: {exc}"]
    # Blocks are walked by check_blocks (with their own paths); here the view's own fields.
    _walk_model(model, view, "view", problems, skip=frozenset({"blocks"}))
    problems += check_blocks(raw_blocks, limit=VIEW_BLOCKS_MAX, where="view.blocks")
    if view.get("type") == "modal":
        title = _text_of(view.get("title"))
        if not 1 <= len(title) <= VIEW_TITLE_MAX:
            problems.append(f"view.title is {len(title)} characters (1..{VIEW_TITLE_MAX})")
        for key in ("submit", "close"):
            if key in view:
                size = len(_text_of(view[key]))
                if not 1 <= size <= VIEW_BUTTON_TEXT_MAX:
                    problems.append(f"view.{key} is {size} characters (1..{VIEW_BUTTON_TEXT_MAX})")
        has_inputs = any(isinstance(b, Mapping) and b.get("type") == "input" for b in raw_blocks)
        if has_inputs and "submit" not in view:
            problems.append("view has input blocks but no submit button")
    metadata = view.get("private_metadata")
    if isinstance(metadata, str) and len(metadata) > PRIVATE_METADATA_MAX:
        problems.append(
            f"view.private_metadata is {len(metadata)} characters (limit {PRIVATE_METADATA_MAX})"
        )
    callback_id = view.get("callback_id")
    if isinstance(callback_id, str) and len(callback_id) > ID_MAX:
        problems.append(f"view.callback_id is {len(callback_id)} characters (limit {ID_MAX})")
    size = len(json.dumps(view).encode())
    if size > VIEW_BYTES_MAX:
        problems.append(f"view is {size} {VIEW_TOO_LARGE}")
    return problems


def input_block_ids(view: Mapping[str, Any]) -> set[str]:
    return {
        b["block_id"]
        for b in view.get("blocks") or []
        if isinstance(b, Mapping)
        and b.get("type") == "input"
        and isinstance(b.get("block_id"), str)
    }
