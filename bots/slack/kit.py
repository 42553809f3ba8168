"""Block Kit objects as plain dicts, built directly.

Why not slack_sdk's model classes: building a `SectionBlock` and calling
`to_dict()` validates and walks every attribute again, which made rendering
about a tenth of the CPU of every click (benchmarks/slack_latency.py). The
renderer in `bots/slack/blocks.py` already keeps every text and list within
Slack's limits, and the tests still check each payload with slack_sdk's models
(the fake Slack parses and validates everything the bot sends), so the runtime
need not pay for it twice.

Like slack_sdk's `to_dict()`, a builder leaves out attributes that are None or
empty, so the JSON is the same as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Obj = dict[str, Any]


def _obj(**attributes: Any) -> Obj:
    return {k: v for k, v in attributes.items() if v is not None and v != [] and v != {}}


def plain(text: str) -> Obj:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> Obj:
    """`verbatim`: Slack does not turn URLs, @names or #channels into links itself."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: Obj, *, accessory: Obj | None = None, block_id: str | None = None) -> Obj:
    return _obj(type="section", text=text, accessory=accessory, block_id=block_id)


def context(elements: Sequence[Obj]) -> Obj:
    return _obj(type="context", elements=list(elements))


def header(text: Obj) -> Obj:
    return _obj(type="header", text=text)


def actions(elements: Sequence[Obj]) -> Obj:
    return _obj(type="actions", elements=list(elements))


def button(text: Obj, action_id: str, style: str | None = None) -> Obj:
    return _obj(type="button", text=text, action_id=action_id, style=style)


def option(text: Obj, value: str) -> Obj:
    return {"text": text, "value": value}


def static_select(
    action_id: str,
    options: Sequence[Obj],
    *,
    placeholder: Obj | None = None,
    initial_option: Obj | None = None,
    multiple: bool = False,
) -> Obj:
    return _obj(
        type="multi_static_select" if multiple else "static_select",
        action_id=action_id,
        options=list(options),
        placeholder=placeholder,
        initial_option=initial_option,
    )


def plain_text_input(
    action_id: str,
    *,
    multiline: bool,
    max_length: int,
    min_length: int | None = None,
    initial_value: str | None = None,
) -> Obj:
    return _obj(
        type="plain_text_input",
        action_id=action_id,
        multiline=multiline,
        max_length=max_length,
        min_length=min_length,
        initial_value=initial_value,
    )


def input_block(
    block_id: str, label: Obj, element: Obj, *, optional: bool, hint: Obj | None = None
) -> Obj:
    return _obj(
        type="input", block_id=block_id, label=label, element=element, optional=optional, hint=hint
    )


def modal(
    *,
    title: Obj,
    close: Obj,
    blocks: Sequence[Obj],
    callback_id: str | None = None,
    submit: Obj | None = None,
    private_metadata: str | None = None,
) -> Obj:
    return _obj(
        type="modal",
        callback_id=callback_id,
        title=title,
        submit=submit,
        close=close,
        blocks=list(blocks),
        private_metadata=private_metadata,
    )
