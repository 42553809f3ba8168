"""Neutral chat model → Slack Block Kit, always within Slack's limits.

Pure functions, no I/O (stage two of "rendering is pure and two-stage"):

* `message_payload(message)` → `{"text", "blocks"}` for chat.postMessage / update /
  postEphemeral;
* `modal_view(form)` → a modal for views.open / views.update / `response_action`;
* `form_values(view.state.values)` → `{field: value}` back from a view_submission;
* `form_errors_response(errors, form)` → the `response_action: errors` body;
* `full_text_modal(title, text)` → a read-only modal showing a long text.

Text safety: every text that reaches Slack went through `bots.slack.text`
(`escape_mrkdwn` for mrkdwn objects, which are also sent with `verbatim: true`;
`plain_text` for plain_text objects), so item data and relayed replies can never
form `<!channel>`, `<@U…>`, `<#C…>` or links. Only a `Mention` part writes `<@U…>`,
and only for identities `slack:U…`/`slack:W…` that look like Slack user ids.

Limits: every element is cut to its documented limit (counted in UTF-16 code units,
see `text.slack_len`; long texts stay 100 under Slack's 3000/2000), a message keeps
at most 50 blocks and a modal 100. Two cumulative limits are enforced as well:

* `MESSAGE_TEXT_BUDGET`: chat.postMessage rejects blocks whose texts add up to about
  12,000 characters (`msg_blocks_too_long`; undocumented, see slackapi/bolt-js
  #2509 and #2867). Texts share the budget fairly (max-min): short texts stay whole
  and only the longest are cut.
* `VIEW_JSON_BUDGET`: a view must stay under 250 kB; modals measure their texts as
  ASCII-escaped JSON, the worst case of what goes on the wire.

Whatever is cut ends in "…". A cut field value with a `full_text_action` gets a
"Show full text" button as its section's accessory (next to the value, no extra
block); a long field value without one continues in further sections, like a
paragraph; any other loss adds a context note at the end of the message.

Identifiers are not text: an action id, option value, form id or field name that
breaks Slack's limits (or private_metadata over 3000 characters) raises ValueError
instead of being cut, because a cut identifier would silently mean something else.
The core's action codec keeps ids at most 100 characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bots.common.fitting import Budget, chunks
from bots.slack import kit
from bots.slack.text import (
    ELLIPSIS,
    clean,
    defang_start,
    escape_mrkdwn,
    is_blank,
    mend_cut,
    plain_text,
    slack_len,
    truncate,
)
from hdops.chat import (
    Actions,
    Button,
    Context,
    FieldPart,
    Form,
    FormField,
    Heading,
    Image,
    Mention,
    Message,
    Paragraph,
    Part,
    Select,
    Table,
)
from hdops.chat import Option as ChatOption

# Slack's limits (docs.slack.dev; /work/shared/specs/README.md).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_ACTIONS_ELEMENTS = 25
MAX_SELECT_OPTIONS = 100
MAX_ID = 255  # action_id, block_id, callback_id
MAX_OPTION_VALUE = 150
MAX_INPUT_LENGTH = 3000  # plain_text_input max_length and min_length
MAX_PRIVATE_METADATA = 3000

# What we emit, in `slack_len` units.
HEADER_CHARS = 150
BUTTON_CHARS = 75
OPTION_CHARS = 75
PLACEHOLDER_CHARS = 150
TITLE_CHARS = 24  # modal title, submit and close
SECTION_CHARS = 2900  # section text and context elements (Slack: 3000)
INPUT_LABEL_CHARS = 1900  # input label and hint (Slack: 2000)
FIELD_LABEL_CHARS = 300  # the bold label above a field value
ERROR_CHARS = 150  # one form error
FALLBACK_CHARS = 3000  # the message's top-level `text`
MENTIONS_CHARS = 1000  # all `<@U…>` of one message together (about 70 people)

# Cumulative budgets.
MESSAGE_TEXT_BUDGET = 10_000  # all block texts of a message, in slack_len units
VIEW_JSON_BUDGET = 200_000  # all texts of a view as escaped JSON (Slack: 250 kB per view)
CONTROL_TEXTS = 3_000  # at most this many button/option/placeholder texts per message
BLOCK_JSON = 400  # JSON of an input block around its texts, at most
OPTION_JSON = 80  # JSON of an option around its label and value

SPLIT_SUFFIX = "__2"
SHOW_FULL_TEXT = "Show full text"
CUT_NOTE = "Part of this message was too long for Slack and is not shown."
FIELDS_NOTE = "Some fields of this form could not be shown."
TEXT_NOTE = "The text is too long to show in full; it was cut here."
EMPTY_VALUE = "—"
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def json_len(text: str) -> int:
    """Size of `text` as ASCII-escaped JSON (without the quotes): the worst case on the wire."""
    return len(json.dumps(text)) - 2


# --------------------------------------------------------------------------- budgets


def _budget(measure: Callable[[str], int]) -> Budget:
    """A shared budget for one payload's texts, cut in `measure` where Slack's
    entities and broadcasts allow (see `bots.common.fitting.Budget`)."""
    return Budget(measure, mend=mend_cut)


# --------------------------------------------------------------------------- helpers


def _check_id(value: str, what: str) -> str:
    if not value or len(value) > MAX_ID or slack_len(value) > MAX_ID:
        raise ValueError(f"{what} must be 1-{MAX_ID} characters for Slack: {value[:40]!r}…")
    return value


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _plain(text: str, limit: int, default: str) -> str:
    """A one-line plain_text value within `limit`, or `default` if blank."""
    text = _one_line(text)
    return truncate(plain_text(text), limit) if not is_blank(text) else default


def _pt(text: str) -> kit.Obj:
    return kit.plain(text)


def _md(text: str) -> kit.Obj:
    return kit.mrkdwn(text)


def _chunks(text: str, size: int) -> list[str]:
    """Non-blank pieces of at most `size` (slack_len), cut where Slack allows."""
    return chunks(text, size, measure=slack_len, mend=mend_cut, restart=defang_start)


# --------------------------------------------------------------------------- messages


@dataclass
class _Rendered:
    blocks: list[Any]
    lost: bool = False


class _Plan:
    """One part of a message: its blocks before text is fitted, its texts, its render."""

    base_blocks = 1
    priority = 1  # lower is kept first when a message has more parts than blocks

    def collect(self, texts: Budget) -> None:
        raise NotImplementedError

    def render(self, texts: Budget, spare_blocks: int) -> _Rendered:
        raise NotImplementedError


def _cut(text: str, limit: int) -> tuple[str, bool]:
    cut = truncate(text, limit)
    return cut, cut != text


class _HeadingPlan(_Plan):
    def __init__(self, part: Heading) -> None:
        self.text = truncate(plain_text(_one_line(part.text)), HEADER_CHARS)

    def collect(self, texts: Budget) -> None:
        self.slot = texts.add(self.text)

    def render(self, texts: Budget, spare_blocks: int) -> _Rendered:
        return _Rendered([kit.header(_pt(texts[self.slot]))])


class _ParagraphPlan(_Plan):
    """Sections of mrkdwn: as many as the text needs and the message has room for."""

    def __init__(self, part: Paragraph) -> None:
        self.text, self.cut = _cut(escape_mrkdwn(part.text), MESSAGE_TEXT_BUDGET)

    def collect(self, texts: Budget) -> None:
        self.slot = texts.add(self.text)
        texts.reserve(slack_len(ELLIPSIS))  # if the message runs out of blocks

    def render(self, texts: Budget, spare_blocks: int) -> _Rendered:
        # Pieces leave room for an ellipsis in case the last one kept must show one.
        pieces = _chunks(texts[self.slot], SECTION_CHARS - slack_len(ELLIPSIS)) or [ELLIPSIS]
        lost = self.cut or texts.was_cut(self.slot)
        if len(pieces) > 1 + spare_blocks:
            pieces = pieces[: 1 + spare_blocks]
            pieces[-1] += ELLIPSIS
            lost = True
        return _Rendered([kit.section(_md(p)) for p in pieces], lost)


class _ContextPlan(_Plan):
    def __init__(self, part: Context) -> None:
        self.text, self.cut = _cut(escape_mrkdwn(part.text), SECTION_CHARS)

    def collect(self, texts: Budget) -> None:
        self.slot = texts.add(self.text)

    def render(self, texts: Budget, spare_blocks: int) -> _Rendered:
        lost = self.cut or texts.was_cut(self.slot)
        return _Rendered([kit.context([_md(texts[self.slot])])], lost)


class _FieldPlan(_Plan):
    """`*label*` and the value in one section. A value too long for it is cut where
    the field offers its full text (a "Show full text" button); otherwise it goes
    on in further sections, as a paragraph does, as far as the message has room
    (a relayed reply must arrive whole: see `hdops.domain.relay`)."""

    def __init__(self, part: FieldPart) -> None:
        self.action = part.full_text_action
        if self.action is not None:
            _check_id(self.action, "full_text_action")
        self.label = truncate(escape_mrkdwn(_one_line(part.label)), FIELD_LABEL_CHARS)
        value = escape_mrkdwn(part.value) if not is_blank(part.value) else EMPTY_VALUE
        self.room = SECTION_CHARS - (slack_len(self.label) + 3 if self.label else 0)  # "*", "*\n"
        limit = self.room if self.action is not None else MESSAGE_TEXT_BUDGET
        self.value, self.cut = _cut(value, limit)

    def collect(self, texts: Budget) -> None:
        self.label_slot = texts.add(self.label) if self.label else None
        self.value_slot = texts.add(self.value)
        if self.label:
            texts.reserve(3)  # "*", "*\n"
        if self.action is not None:
            texts.add(SHOW_FULL_TEXT, fixed=True)  # reserved: shown only if the value is cut
        else:
            texts.reserve(slack_len(ELLIPSIS))  # if the message runs out of blocks

    def render(self, texts: Budget, spare_blocks: int) -> _Rendered:
        cut = self.cut or texts.was_cut(self.value_slot)
        pieces = [texts[self.value_slot]]
        if self.action is None and slack_len(pieces[0]) > self.room:
            # Every piece leaves room for an ellipsis, in case the last one kept needs one.
            pieces = _chunks(pieces[0], self.room - slack_len(ELLIPSIS)) or [ELLIPSIS]
            if len(pieces) > 1 + spare_blocks:
                pieces = pieces[: 1 + spare_blocks]
                pieces[-1] += ELLIPSIS
                cut = True
        first = pieces[0]
        text = first if self.label_slot is None else f"*{texts[self.label_slot]}*\n{first}"
        accessory = None
        if cut and self.action is not None:
            accessory = kit.button(_pt(SHOW_FULL_TEXT), self.action)
        blocks = [kit.section(_md(text), accessory=accessory)]
        blocks += [kit.section(_md(piece)) for piece in pieces[1:]]
        return _Rendered(blocks, cut and not accessory)


class _MentionPlan(_Plan):
    """`<@U…>` for each Slack identity (the only place that writes one), then the text.
    `room` is what is left of `MENTIONS_CHARS`, shared by the message's Mention parts."""

    def __init__(self, part: Mention, room: list[int]) -> None:
        ids: list[str] = []
        for key in part.identities:
            platform, _, ext = key.partition(":")
            if platform.lower() == "slack" and _is_slack_user_id(ext) and ext not in ids:
                ids.append(ext)
        tags: list[str] = []
        for uid in ids:
            tag = f"<@{uid}>"
            if len(tag) + 1 > room[0]:
                break
            tags.append(tag)
            room[0] -= len(tag) + 1
        omitted = len(ids) - len(tags)
        self.prefix = " ".join(tags) + (f" (+{omitted} more)" if omitted else "")
        text = escape_mrkdwn(part.text) if not is_blank(part.text) else ""
        self.text, self.cut = _cut(text, SECTION_CHARS - slack_len(self.prefix) - 1)

    def empty(self) -> bool:
        return not self.prefix and not self.text

    def collect(self, texts: Budget) -> None:
        self.prefix_slot = texts.add(self.prefix, fixed=True) if self.prefix else None
        self.text_slot = texts.add(self.text) if self.text else None
        texts.reserve(1)  # the space between them

    def render(self, texts: Budget, spare_blocks: int) -> _Rendered:
        words = [texts[s] for s in (self.prefix_slot, self.text_slot) if s is not None]
        lost = self.cut or (self.text_slot is not None and texts.was_cut(self.text_slot))
        return _Rendered([kit.section(_md(" ".join(words)))], lost)


def _is_slack_user_id(text: str) -> bool:
    return _SLACK_USER_ID.fullmatch(text) is not None


def _option_value(option: ChatOption) -> str:
    if not option.value or slack_len(option.value) > MAX_OPTION_VALUE:
        raise ValueError(f"option values must be 1-{MAX_OPTION_VALUE} characters for Slack")
    return option.value


class _ActionsPlan(_Plan):
    """Actions blocks of at most 25 elements; a repeated action id starts a new block."""

    priority = 0  # buttons are what a message is for: kept before any text

    def __init__(self, controls: Sequence[Button | Select]) -> None:
        self.groups: list[list[Button | Select]] = []
        current: list[Button | Select] = []
        for control in controls:
            _check_id(control.action_id, "action_id")
            if isinstance(control, Select):
                for option in control.options[:MAX_SELECT_OPTIONS]:
                    _option_value(option)
            if len(current) == MAX_ACTIONS_ELEMENTS or any(
                c.action_id == control.action_id for c in current
            ):
                self.groups.append(current)
                current = []
            current.append(control)
        if current:
            self.groups.append(current)
        self.base_blocks = len(self.groups)

    def keep_blocks(self, count: int) -> None:
        self.groups = self.groups[:count]
        self.base_blocks = count

    def collect(self, texts: Budget) -> None:
        self.slots: list[list[list[int]]] = []
        for group in self.groups:
            group_slots: list[list[int]] = []
            for control in group:
                if isinstance(control, Button):
                    group_slots.append([texts.add(_plain(control.label, BUTTON_CHARS, "…"))])
                else:
                    placeholder = _plain(control.placeholder, PLACEHOLDER_CHARS, "Choose…")
                    group_slots.append(
                        [texts.add(placeholder)]
                        + [
                            texts.add(_plain(o.label, OPTION_CHARS, EMPTY_VALUE))
                            for o in control.options[:MAX_SELECT_OPTIONS]
                        ]
                    )
            self.slots.append(group_slots)

    def render(self, texts: Budget, spare_blocks: int) -> _Rendered:
        blocks = []
        for group, group_slots in zip(self.groups, self.slots, strict=True):
            elements = [
                _control(control, [texts[s] for s in slots])
                for control, slots in zip(group, group_slots, strict=True)
            ]
            blocks.append(kit.actions(elements))
        return _Rendered(blocks)


def _control(control: Button | Select, labels: list[str]) -> kit.Obj:
    if isinstance(control, Button):
        return kit.button(_pt(labels[0]), control.action_id, control.style)
    options = [
        kit.option(_pt(label), o.value)
        for o, label in zip(control.options[:MAX_SELECT_OPTIONS], labels[1:], strict=True)
    ]
    return kit.static_select(
        control.action_id, options, placeholder=_pt(labels[0]), multiple=control.multiple
    )


def _control_texts(control: Button | Select) -> int:
    return 1 if isinstance(control, Button) else 1 + len(control.options[:MAX_SELECT_OPTIONS])


def _plans(parts: Sequence[Part]) -> tuple[list[_Plan], bool]:
    """Plans for the parts worth showing; True if something had to be left out."""
    plans: list[_Plan] = []
    lost = False
    control_texts = 0
    mention_room = [MENTIONS_CHARS]
    for part in parts:
        if isinstance(part, Heading):
            if not is_blank(part.text):
                plans.append(_HeadingPlan(part))
        elif isinstance(part, Paragraph):
            if not is_blank(part.text):
                plans.append(_ParagraphPlan(part))
        elif isinstance(part, Context):
            if not is_blank(part.text):
                plans.append(_ContextPlan(part))
        elif isinstance(part, FieldPart):
            plans.append(_FieldPlan(part))
        elif isinstance(part, Mention):
            mention = _MentionPlan(part, mention_room)
            if not mention.empty():
                plans.append(mention)
        elif isinstance(part, Table):
            # Monospaced in a code block; cells are escaped like any other text.
            plans.append(_ParagraphPlan(Paragraph(text=f"```\n{part.text()}\n```")))
        elif isinstance(part, Image):
            pass  # uploaded as a file next to the message by the port
        elif isinstance(part, Actions):
            controls: list[Button | Select] = []
            for control in part.controls:
                cost = _control_texts(control)
                if isinstance(control, Select) and not control.options:
                    lost = True  # Slack has no empty selects
                elif control_texts + cost > CONTROL_TEXTS:
                    lost = True
                else:
                    control_texts += cost
                    controls.append(control)
            if controls:
                plans.append(_ActionsPlan(controls))
    return plans, lost


def _choose(plans: list[_Plan], limit: int) -> tuple[list[_Plan], bool]:
    """The plans that fit in `limit` blocks: actions first, then the rest in order."""
    used, kept, lost = 0, set(), False
    for i in sorted(range(len(plans)), key=lambda i: (plans[i].priority, i)):
        plan = plans[i]
        if used + plan.base_blocks <= limit:
            kept.add(i)
            used += plan.base_blocks
        else:
            lost = True
            if isinstance(plan, _ActionsPlan) and used < limit:
                plan.keep_blocks(limit - used)
                kept.add(i)
                used = limit
    return [plans[i] for i in sorted(kept)], lost


def _fallback(message: Message) -> str:
    for candidate in (message.text, message.plain()):
        if not is_blank(candidate):
            return truncate(escape_mrkdwn(candidate), FALLBACK_CHARS)
    return "(no text)"


def message_payload(message: Message) -> dict[str, Any]:
    """`{"text": fallback, "blocks": [...]}` for chat.postMessage, chat.update and
    chat.postEphemeral. See the module docstring for how it stays within limits."""
    plans, lost = _plans(message.parts)
    plans, dropped = _choose(plans, MAX_MESSAGE_BLOCKS - 1)  # one block kept for a note
    texts = _budget(slack_len)
    for plan in plans:
        plan.collect(texts)
    texts.add(CUT_NOTE, fixed=True)
    texts.fit(MESSAGE_TEXT_BUDGET)

    blocks: list[Any] = []
    spare = MAX_MESSAGE_BLOCKS - 1 - sum(plan.base_blocks for plan in plans)
    for plan in plans:
        rendered = plan.render(texts, spare)
        spare -= len(rendered.blocks) - plan.base_blocks
        lost = lost or rendered.lost
        blocks.extend(rendered.blocks)
    fallback = _fallback(message)
    if not blocks:
        blocks.append(kit.section(_md(truncate(fallback, SECTION_CHARS))))
    if lost or dropped:
        blocks.append(kit.context([_md(CUT_NOTE)]))
    return {"text": fallback, "blocks": _with_ids(blocks, lambda i: f"b{i}")}


def _with_ids(blocks: Sequence[kit.Obj], block_id: Callable[[int], str]) -> list[dict[str, Any]]:
    for i, block in enumerate(blocks):
        block.setdefault("block_id", block_id(i))
    return list(blocks)


# --------------------------------------------------------------------------- modals

CONTINUED = " (continued)"
CONTINUE_HINT = "Only if your answer is longer than the box above allows: continue here."


class _InputPlan:
    """One form field: an input block, or two when its text can exceed Slack's 3000."""

    def __init__(self, spec: FormField) -> None:
        self.spec = spec
        self.options = spec.options[:MAX_SELECT_OPTIONS] if spec.kind == "select" else []
        for option in self.options:
            _option_value(option)
        self.select = bool(self.options)  # a select without options degrades to a text box
        capacity = max(1, spec.max_length)
        self.split = not self.select and capacity > MAX_INPUT_LENGTH
        self.max_lengths = [min(capacity, MAX_INPUT_LENGTH)]
        if self.split:
            self.max_lengths.append(min(capacity - MAX_INPUT_LENGTH, MAX_INPUT_LENGTH))
        self.blocks = len(self.max_lengths)
        room = INPUT_LABEL_CHARS - (len(CONTINUED) if self.split else 0)
        self.label = _plain(spec.label, room, truncate(plain_text(spec.name), room))
        hint = "" if spec.hint is None or is_blank(spec.hint) else spec.hint
        self.hint = truncate(plain_text(hint), INPUT_LABEL_CHARS) if hint else None
        self.initials: list[str] = []
        rest = clean(spec.initial or "")
        if not self.select:
            for limit in self.max_lengths:
                part = truncate(rest, limit, ellipsis="")
                self.initials.append(part)
                rest = rest[len(part) :]

    def names(self) -> list[str]:
        return [self.spec.name] + ([self.spec.name + SPLIT_SUFFIX] if self.split else [])

    def _overhead(self) -> int:
        return self.blocks * BLOCK_JSON + len(self.options) * OPTION_JSON

    def least_json(self) -> int:
        """The JSON size this field takes however much its texts are cut."""
        ids = sum(2 * json_len(name) for name in self.names())
        values = sum(json_len(o.value) for o in self.options)
        texts = 1 + bool(self.hint) + len(self.initials) + len(self.options)
        return self._overhead() + ids + values + texts * json_len(ELLIPSIS)

    def collect(self, texts: Budget) -> None:
        texts.reserve(self._overhead())
        for name in self.names():
            texts.add(name, fixed=True)  # block_id
            texts.add(name, fixed=True)  # action_id
        self.label_slot = texts.add(self.label)
        self.hint_slot = texts.add(self.hint) if self.hint else None
        self.initial_slots = [texts.add(i, ellipsis="") if i else None for i in self.initials]
        self.option_slots = [
            texts.add(_plain(o.label, OPTION_CHARS, EMPTY_VALUE)) for o in self.options
        ]
        for option in self.options:
            texts.add(option.value, fixed=True)

    def render(self, texts: Budget) -> list[Any]:
        label = texts[self.label_slot]
        hint = texts[self.hint_slot] if self.hint_slot is not None else None
        if self.select:
            options = [
                kit.option(_pt(texts[s]), o.value)
                for o, s in zip(self.options, self.option_slots, strict=True)
            ]
            initial = next((o for o in options if o["value"] == self.spec.initial), None)
            select = kit.static_select(self.spec.name, options, initial_option=initial)
            return [self._input(self.spec.name, label, select, not self.spec.required, hint)]
        blocks = []
        for index, name in enumerate(self.names()):
            max_length = self.max_lengths[index]
            min_length = min(max(self.spec.min_length, 0), max_length) if index == 0 else 0
            slot = self.initial_slots[index]
            element = kit.plain_text_input(
                name,
                multiline=self.spec.kind == "long",
                max_length=max_length,
                min_length=min_length or None,
                initial_value=texts[slot] if slot is not None and texts[slot] else None,
            )
            if index == 0:
                blocks.append(self._input(name, label, element, not self.spec.required, hint))
            else:
                blocks.append(self._input(name, label + CONTINUED, element, True, CONTINUE_HINT))
        return blocks

    @staticmethod
    def _input(
        name: str, label: str, element: kit.Obj, optional: bool, hint: str | None
    ) -> kit.Obj:
        return kit.input_block(
            name, _pt(label), element, optional=optional, hint=_pt(hint) if hint else None
        )


def _check_names(fields: Sequence[FormField]) -> None:
    seen: set[str] = set()
    for spec in fields:
        _check_id(spec.name, "field name")
        if spec.name.endswith(SPLIT_SUFFIX):
            raise ValueError(f"field names must not end in {SPLIT_SUFFIX!r}: {spec.name!r}")
        if spec.name in seen:
            raise ValueError(f"field names must be unique: {spec.name!r}")
        seen.add(spec.name)
        if spec.max_length > MAX_INPUT_LENGTH and spec.kind != "select":
            _check_id(spec.name + SPLIT_SUFFIX, "field name")


def _error_lines(errors: Mapping[str, str], fields: Sequence[FormField]) -> str:
    labels = {f.name: _one_line(f.label) or f.name for f in fields}
    lines = []
    for key, message in errors.items():
        text = _one_line(message)
        lines.append(f"{labels[key]}: {text}" if key in labels else text)
    return "⚠️ " + "\n".join(lines)


def modal_view(
    form: Form,
    *,
    private_metadata: str = "",
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The form as a modal (`View(type="modal")` as a dict) for views.open/update.

    Each field is an input block with `block_id` = `action_id` = the field name:
    short → plain_text_input, long → multiline plain_text_input, select →
    static_select. Slack caps a plain_text_input at 3000 characters, so a text
    field with `max_length` > 3000 becomes two inputs, `name` (3000) and
    `name__2` (the rest, at most another 3000, always optional); `form_values`
    joins them back into `name`. Answers longer than 6000 characters cannot be
    given in one Slack modal. Field names must therefore not end in `__2`.

    `errors` (field name or "_" → message), if given, are listed above the form,
    e.g. when a form is shown again with `response_action: update`. Per-field
    errors on submission go through `form_errors_response` instead.

    Raises ValueError for identifiers Slack cannot take: a form id or field name
    over 255 characters, duplicate names, private_metadata over 3000 characters."""
    callback_id = _check_id(form.form_id, "form_id")
    if slack_len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError(f"private_metadata must be at most {MAX_PRIVATE_METADATA} characters")
    _check_names(form.fields)

    title = _plain(form.title, TITLE_CHARS, "Form")
    submit = _plain(form.submit_label, TITLE_CHARS, "Submit")
    close = "Cancel"
    inputs = [_InputPlan(f) for f in form.fields]
    error_text = _error_lines(errors, form.fields) if errors else ""
    intro = escape_mrkdwn(form.intro) if form.intro and not is_blank(form.intro) else ""

    # Blocks: errors, intro, inputs (kept first), a note if fields had to go. Fields
    # also go when even their shortest JSON would not fit (say, 100 selects of 100).
    room = MAX_VIEW_BLOCKS - bool(error_text) - bool(intro)
    json_room = VIEW_JSON_BUDGET // 2
    kept: list[_InputPlan] = []
    if sum(p.blocks for p in inputs) > room or sum(p.least_json() for p in inputs) > json_room:
        room -= 1
    for plan in inputs:
        if plan.blocks > room or plan.least_json() > json_room:
            break
        kept.append(plan)
        room -= plan.blocks
        json_room -= plan.least_json()
    dropped = len(kept) < len(inputs)

    texts = _budget(json_len)
    for fixed in (title, submit, close, callback_id, private_metadata, FIELDS_NOTE):
        texts.add(fixed, fixed=True)
    error_slot = None
    if error_text:
        error_slot = texts.add(truncate(escape_mrkdwn(error_text), SECTION_CHARS))
    intro_slot = (
        texts.add(truncate(intro, (room + 1) * (SECTION_CHARS - slack_len(ELLIPSIS))))
        if intro
        else None
    )
    for plan in kept:
        plan.collect(texts)
    texts.fit(VIEW_JSON_BUDGET)

    blocks: list[Any] = []
    if error_slot is not None:
        blocks.append(kit.section(_md(texts[error_slot]), block_id="_errors"))
    if intro_slot is not None:
        pieces = _chunks(texts[intro_slot], SECTION_CHARS - slack_len(ELLIPSIS)) or [ELLIPSIS]
        if len(pieces) > room + 1:
            pieces = pieces[: room + 1]
            pieces[-1] += ELLIPSIS
        blocks.extend(kit.section(_md(p)) for p in pieces)
    for plan in kept:
        blocks.extend(plan.render(texts))
    if dropped:
        blocks.append(kit.context([_md(FIELDS_NOTE)]))
    if not blocks:
        blocks.append(kit.section(_md(EMPTY_VALUE)))

    taken = {name for plan in kept for name in plan.names()}
    return kit.modal(
        callback_id=callback_id,
        title=_pt(title),
        submit=_pt(submit) if kept else None,
        close=_pt(close),
        blocks=_with_ids(blocks, lambda i: _free_id(f"_b{i}", taken)),
        private_metadata=private_metadata or None,
    )


def _free_id(candidate: str, taken: set[str]) -> str:
    while candidate in taken:
        candidate = "_" + candidate
    taken.add(candidate)
    return candidate


def form_values(view_state_values: Mapping[str, Any]) -> dict[str, str]:
    """`{field name: value}` from a view_submission's `view.state.values`.

    Text inputs give their value ("" when left empty), selects the chosen option's
    value, multi-selects the chosen values joined with ",". The two inputs of a
    long text field (`name`, `name__2`, see `modal_view`) are joined, as typed,
    into `name`."""
    values: dict[str, str] = {}
    for block_id, elements in view_state_values.items():
        for action_id, state in (elements or {}).items():
            values[action_id or block_id] = _state_value(state or {})
    for name in [n for n in values if n.endswith(SPLIT_SUFFIX)]:
        base = name[: -len(SPLIT_SUFFIX)]
        if base in values:
            values[base] += values.pop(name)
    return values


def _state_value(state: Mapping[str, Any]) -> str:
    if "selected_options" in state:
        return ",".join(str(o.get("value", "")) for o in state["selected_options"] or [])
    if "selected_option" in state:
        return str((state["selected_option"] or {}).get("value", ""))
    value = state.get("value")
    return "" if value is None else str(value)


def form_errors_response(errors: Mapping[str, str], form: Form) -> dict[str, Any]:
    """The ack body that shows per-field errors in a submitted modal:
    `{"response_action": "errors", "errors": {block_id: message}}`.

    Keys are field names; "_" (form-level) and unknown names go to the first input.
    Messages sharing a block are joined; each is one line of at most 150 characters."""
    names = [f.name for f in form.fields]
    merged: dict[str, list[str]] = {}
    for key, message in errors.items():
        block = key if key in names else (names[0] if names else None)
        text = _one_line(message)
        if block is not None and text:
            merged.setdefault(block, []).append(text)
    return {
        "response_action": "errors",
        "errors": {
            block: truncate(plain_text(" · ".join(texts)), ERROR_CHARS)
            for block, texts in merged.items()
        },
    }


def full_text_modal(title: str, text: str) -> dict[str, Any]:
    """A read-only modal showing a long text as plain_text sections (shown exactly as
    written: no mrkdwn formatting), cut with a note past 99 sections or the view
    size budget."""
    body = plain_text(text)
    shown = truncate(body, (MAX_VIEW_BLOCKS - 1) * (SECTION_CHARS - slack_len(ELLIPSIS)))
    shown = truncate(shown, VIEW_JSON_BUDGET, measure=json_len)
    pieces = _chunks(shown, SECTION_CHARS - slack_len(ELLIPSIS)) or [EMPTY_VALUE]
    lost = shown != body
    if len(pieces) > MAX_VIEW_BLOCKS - 1:
        pieces = pieces[: MAX_VIEW_BLOCKS - 1]
        pieces[-1] += ELLIPSIS
        lost = True
    blocks: list[kit.Obj] = [kit.section(_pt(p)) for p in pieces]
    if lost:
        blocks.append(kit.context([_md(TEXT_NOTE)]))
    return kit.modal(
        title=_pt(_plain(title, TITLE_CHARS, "Full text")),
        close=_pt("Close"),
        blocks=_with_ids(blocks, lambda i: f"b{i}"),
    )
