"""The limits Discord documents for messages, embeds, components and modals.

The vendored OpenAPI spec is looser than Discord in places (it allows 4000 characters of
content; it has no modal component rules), and the documentation is what Discord enforces
(discord.com/developers/docs: Message Resource "Create Message", Embed Limits, Component
Reference, Interaction "Modal"). Each check returns `FormError`s, which the server turns
into Discord's own 400 answer (code 50035 "Invalid Form Body", errors nested by field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000  # all text of all embeds of one message
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
OPTION_TEXT_MAX = 100  # label, value, description
PLACEHOLDER_MAX = 150
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_VALUE_MAX = 4000
TEXT_INPUT_PLACEHOLDER_MAX = 100
MENTIONS_LIST_MAX = 100
MENTION_PARSE = frozenset({"roles", "users", "everyone"})

BUTTON, TEXT_INPUT, ACTION_ROW, LABEL = 2, 4, 1, 18
SELECTS = frozenset({3, 5, 6, 7, 8})
LINK_STYLE, PREMIUM_STYLE = 5, 6


@dataclass(frozen=True)
class FormError:
    """One field Discord refuses: where (a JSON path), its code and message."""

    path: tuple[str | int, ...]
    code: str
    message: str

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path) or "body"
        return f"{where}: {self.message} ({self.code})"


def _too_long(path: tuple[str | int, ...], value: Any, limit: int) -> list[FormError]:
    if isinstance(value, str) and len(value) > limit:
        return [FormError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")]
    return []


def _too_many(path: tuple[str | int, ...], value: Any, limit: int) -> list[FormError]:
    if isinstance(value, list) and len(value) > limit:
        return [FormError(path, "BASE_TYPE_BAD_LENGTH", f"Must be {limit} or fewer in length.")]
    return []


def check_message(body: Mapping[str, Any], *, editing: bool = False) -> list[FormError]:
    """A message as created or edited (channel message, webhook, interaction response)."""
    errors = _too_long(("content",), body.get("content"), CONTENT_MAX)
    errors += check_embeds(body.get("embeds"))
    errors += check_components(body.get("components"))
    errors += check_allowed_mentions(body.get("allowed_mentions"))
    empty = not any(body.get(k) for k in ("content", "embeds", "components", "attachments"))
    if empty and not editing and not body.get("sticker_ids") and not body.get("poll"):
        errors.append(FormError((), "50006", "Cannot send an empty message"))
    return errors


def check_embeds(embeds: Any) -> list[FormError]:
    if not isinstance(embeds, list):
        return []
    errors = _too_many(("embeds",), embeds, EMBEDS_MAX)
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, Mapping):
            continue
        at: tuple[str | int, ...] = ("embeds", i)
        errors += _too_long((*at, "title"), embed.get("title"), EMBED_TITLE_MAX)
        errors += _too_long((*at, "description"), embed.get("description"), EMBED_DESCRIPTION_MAX)
        footer = embed.get("footer") or {}
        author = embed.get("author") or {}
        errors += _too_long((*at, "footer", "text"), footer.get("text"), EMBED_FOOTER_MAX)
        errors += _too_long((*at, "author", "name"), author.get("name"), EMBED_AUTHOR_MAX)
        fields = embed.get("fields") or []
        errors += _too_many((*at, "fields"), fields, EMBED_FIELDS_MAX)
        texts = [embed.get("title"), embed.get("description"), footer.get("text")]
        texts.append(author.get("name"))
        for j, item in enumerate(fields if isinstance(fields, list) else []):
            if isinstance(item, Mapping):
                name, value = item.get("name"), item.get("value")
                errors += _too_long((*at, "fields", j, "name"), name, EMBED_FIELD_NAME_MAX)
                errors += _too_long((*at, "fields", j, "value"), value, EMBED_FIELD_VALUE_MAX)
                texts += [name, value]
        total += sum(len(t) for t in texts if isinstance(t, str))
    if total > EMBED_TOTAL_MAX:
        errors.append(
            FormError(
                ("embeds",), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {6000}"
            )
        )
    return errors


def check_components(rows: Any, where: str = "components") -> list[FormError]:
    """Action rows of a message: 5 rows, 5 buttons or one select a row, ids ≤ 100, unique."""
    if not isinstance(rows, list):
        return []
    errors = _too_many((where,), rows, ACTION_ROWS_MAX)
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping) or row.get("type") != ACTION_ROW:
            continue
        children = row.get("components") or []
        at: tuple[str | int, ...] = (where, i, "components")
        has_select = any(isinstance(c, Mapping) and c.get("type") in SELECTS for c in children)
        if has_select and len(children) != 1:
            errors.append(FormError(at, "BASE_TYPE_BAD_LENGTH", "Must be 1 in length."))
        errors += _too_many(at, children, ROW_BUTTONS_MAX)
        for j, child in enumerate(children):
            if isinstance(child, Mapping):
                errors += _check_component(child, (*at, j), seen)
    return errors


def _check_component(
    child: Mapping[str, Any], at: tuple[str | int, ...], seen: set[str]
) -> list[FormError]:
    errors: list[FormError] = []
    custom_id = child.get("custom_id")
    errors += _too_long((*at, "custom_id"), custom_id, CUSTOM_ID_MAX)
    if isinstance(custom_id, str):
        if custom_id in seen:
            errors.append(
                FormError(
                    (*at, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            )
        seen.add(custom_id)
    kind = child.get("type")
    if kind == BUTTON:
        errors += _too_long((*at, "label"), child.get("label"), BUTTON_LABEL_MAX)
        link = child.get("style") in (LINK_STYLE, PREMIUM_STYLE)
        if not link and not custom_id:
            errors.append(
                FormError((*at, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
            )
    elif kind in SELECTS:
        errors += _too_long((*at, "placeholder"), child.get("placeholder"), PLACEHOLDER_MAX)
        options = child.get("options") or []
        errors += _too_many((*at, "options"), options, SELECT_OPTIONS_MAX)
        for k, option in enumerate(options if isinstance(options, list) else []):
            if isinstance(option, Mapping):
                for key in ("label", "value", "description"):
                    errors += _too_long((*at, "options", k, key), option.get(key), OPTION_TEXT_MAX)
    return errors


def check_allowed_mentions(mentions: Any) -> list[FormError]:
    if not isinstance(mentions, Mapping):
        return []
    errors: list[FormError] = []
    parse = mentions.get("parse") or []
    for i, item in enumerate(parse if isinstance(parse, list) else []):
        if item not in MENTION_PARSE:
            errors.append(
                FormError(
                    ("allowed_mentions", "parse", i), "ENUM_TYPE_COERCE", "Not a valid choice"
                )
            )
    for kind in ("users", "roles"):
        listed = mentions.get(kind)
        errors += _too_many(("allowed_mentions", kind), listed, MENTIONS_LIST_MAX)
        if listed and isinstance(parse, list) and kind in parse:
            errors.append(
                FormError(
                    ("allowed_mentions", "parse"),
                    "SET_TYPE_ALREADY_CONTAINS_VALUE",
                    f"parse contains {kind!r} and {kind} is given: they are mutually exclusive",
                )
            )
    return errors


def check_modal(data: Mapping[str, Any]) -> list[FormError]:
    """A modal (interaction callback type 9): title ≤ 45, 1–5 inputs, inputs ≤ 4000."""
    errors: list[FormError] = []
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= MODAL_TITLE_MAX:
        errors.append(
            FormError(
                ("data", "title"), "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {45} in length."
            )
        )
    errors += _too_long(("data", "custom_id"), data.get("custom_id"), CUSTOM_ID_MAX)
    rows = data.get("components")
    if not isinstance(rows, list) or not 1 <= len(rows) <= MODAL_COMPONENTS_MAX:
        errors.append(
            FormError(
                ("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
            )
        )
        return errors
    for i, row in enumerate(rows):
        for at, field in _modal_inputs(row, ("data", "components", i)):
            errors += _check_text_input(field, at)
    return errors


def _modal_inputs(
    row: Any, at: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    """The text inputs of one top-level modal component (an action row or a label)."""
    if not isinstance(row, Mapping):
        return []
    if row.get("type") == LABEL:
        inner = row.get("component")
        return [((*at, "component"), inner)] if isinstance(inner, Mapping) else []
    children = row.get("components") or []
    return [((*at, "components", j), c) for j, c in enumerate(children) if isinstance(c, Mapping)]


def _check_text_input(field: Mapping[str, Any], at: tuple[str | int, ...]) -> list[FormError]:
    errors = _too_long((*at, "custom_id"), field.get("custom_id"), CUSTOM_ID_MAX)
    if field.get("type") != TEXT_INPUT:
        return errors
    errors += _too_long((*at, "label"), field.get("label"), TEXT_INPUT_LABEL_MAX)
    errors += _too_long((*at, "value"), field.get("value"), TEXT_INPUT_VALUE_MAX)
    errors += _too_long((*at, "placeholder"), field.get("placeholder"), TEXT_INPUT_PLACEHOLDER_MAX)
    for key, low in (("min_length", 0), ("max_length", 1)):
        value = field.get(key)
        if isinstance(value, int) and not low <= value <= TEXT_INPUT_VALUE_MAX:
            errors.append(
                FormError(
                    (*at, key),
                    "NUMBER_TYPE_MAX" if value > TEXT_INPUT_VALUE_MAX else "NUMBER_TYPE_MIN",
                    f"Must be between {low} and {TEXT_INPUT_VALUE_MAX}.",
                )
            )
    return errors


def error_body(errors: list[FormError]) -> dict[str, Any]:
    """Discord's 400 answer for a refused body: code 50035 with the errors nested by field."""
    nested: dict[str, Any] = {}
    for error in errors:
        node = nested
        for part in error.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": error.code, "message": error.message})
    return {"message": "Invalid Form Body", "code": 50035, "errors": nested}
