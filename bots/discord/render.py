"""Neutral chat model → Discord API payloads, always within Discord's limits.

Pure functions, no I/O, no discord.py client: the adapter sends what these build.

* `message_payload(message)` → `{"content", "embeds", "components",
  "allowed_mentions"}` for creating or editing a message, an interaction
  response or a webhook follow-up;
* `modal_payload(form, errors)` → the `data` of a MODAL interaction response;
* `form_errors_reply(form, errors, draft_id)` → an ephemeral answer to a modal
  submission the core refused (see "Form errors" below).

Layout. Parts become embeds, in order: a heading titles an embed, paragraphs,
tables (code blocks) and context (`-# ` small print) go into its description,
short labelled values become embed fields; a part that cannot follow in the
same embed (text after fields, a second heading, an image) starts the next one.
A field value too long for an embed field (1024) goes into the description as
`**label**` and the value, unless the field offers its full text
(`full_text_action`): then it is cut and a "Show full text" button added.
`Mention` parts go into `content`, the only place Discord pings from: `<@id>`
for each `discord:<id>` identity and `allowed_mentions` listing exactly those
ids, parsing nothing else. Buttons fill action rows five at a time; a select
takes a row of its own.

Limits (`bots.discord.limits`, counted in UTF-16 units): every text is cut to
its element's limit, and all embed texts share the 6000 total fairly
(`bots.common.fitting.Budget`, max-min: short texts stay whole, the longest are
cut). Whatever is cut ends in "…"; when a whole part is left out (more than ten
embeds, five rows of controls, 25 options) the last embed's footer says so.
Identifiers are not text: a custom id over 100 characters or an option value
over 100 raises ValueError, because a cut id would silently mean something else.
Duplicate custom ids (Discord requires them unique per message) keep the first.

Form errors. A Discord modal cannot show an error next to a field, and a modal
cannot answer a modal submission with another modal. So the core's per-field
errors come back as an ephemeral message saying what to fix, showing what was
typed, with a button that reopens the form filled in with it. Typed text cannot
ride in a custom id, so the adapter keeps the refilled form in
`bots.discord.drafts.Drafts` and the button carries only the draft's key.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bots.common.fitting import Budget
from bots.discord import limits as L
from bots.discord.limits import discord_len
from bots.discord.text import (
    ELLIPSIS,
    chunks,
    clean,
    code_block,
    is_blank,
    markdown,
    mend,
    plain,
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
    Option,
    Paragraph,
    Part,
    Select,
    Table,
)

EPHEMERAL = 64  # message flag: shown only to the person who acted
NO_PINGS: dict[str, Any] = {"parse": []}
CUT_NOTE = "Part of this message was too long for Discord and is not shown."
SHOW_FULL_TEXT = "Show full text"
EMPTY = "—"
MENTIONS_CHARS = 1000  # all `<@id>` of one message together
REOPEN_PREFIX = "hdd:reopen:"  # the adapter's own custom id: reopen a form draft
FIX_LABEL = "Fix and resubmit"
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")

# Component types and styles (Discord API).
ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT, TEXT_DISPLAY, LABEL = 1, 2, 3, 4, 10, 18
_STYLES = {"primary": 1, None: 2, "danger": 4}
SHORT, PARAGRAPH = 1, 2


def check_id(value: str, what: str) -> str:
    """An identifier Discord takes as is, or ValueError (never cut: see module)."""
    if not value or discord_len(value) > L.CUSTOM_ID:
        raise ValueError(f"{what} must be 1-{L.CUSTOM_ID} characters for Discord: {value[:40]!r}")
    return value


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- embeds


@dataclass
class _Block:
    """One part, before fitting: where it goes and which budget slots hold its text.

    kind: "title" (slots: [title]), "desc" (prefix + slots joined + suffix),
    "field" (slots: [name, value]), "image" (slots: [title])."""

    kind: str
    slots: list[int]
    prefix: str = ""
    joiner: str = ""
    suffix: str = ""
    filename: str = ""
    action: str | None = None  # a field's full_text_action
    cut: bool = False  # cut to its element's limit before the budget was shared


@dataclass
class _Embeds:
    """Lays fitted blocks out into at most ten embeds, in order."""

    room: int  # what is left of the 6000 total: a last guard, the budget did the sharing
    embeds: list[dict[str, Any]] = field(default_factory=list)
    lost: bool = False

    def _spend(self, *texts: str) -> bool:
        cost = sum(discord_len(t) for t in texts)
        if cost > self.room:
            self.lost = True
            return False
        self.room -= cost
        return True

    def _current(self, *, fresh: bool = False) -> dict[str, Any] | None:
        if fresh or not self.embeds:
            if len(self.embeds) == L.EMBEDS:
                self.lost = True
                return None
            self.embeds.append({})
        return self.embeds[-1]

    def title(self, text: str) -> None:
        embed = self._current(fresh=bool(self.embeds and self.embeds[-1]))
        if embed is not None and self._spend(text):
            embed["title"] = text

    def describe(self, text: str) -> None:
        last = self.embeds[-1] if self.embeds else {}
        fresh = "fields" in last or "image" in last
        embed = self._current(fresh=fresh)
        if embed is None:
            return
        old = embed.get("description", "")
        joined = f"{old}\n{text}" if old else text
        if discord_len(joined) <= L.EMBED_DESCRIPTION:
            if self._spend(joined[len(old) :]):
                embed["description"] = joined
            return
        pieces = chunks(text, L.EMBED_DESCRIPTION)
        if old:
            embed = self._current(fresh=True)
        for i, piece in enumerate(pieces):
            if embed is None or not self._spend(piece):
                return
            embed["description"] = piece
            if i + 1 < len(pieces):
                embed = self._current(fresh=True)

    def add_field(self, name: str, value: str) -> None:
        last = self.embeds[-1] if self.embeds else {}
        fresh = len(last.get("fields", [])) == L.EMBED_FIELDS or "image" in last
        embed = self._current(fresh=fresh)
        if embed is not None and self._spend(name, value):
            embed.setdefault("fields", []).append({"name": name, "value": value, "inline": False})

    def image(self, title: str, filename: str) -> None:
        embed = self._current(fresh=bool(self.embeds and self.embeds[-1]))
        if embed is not None and self._spend(title):
            if title:
                embed["title"] = title
            embed["image"] = {"url": f"attachment://{filename}"}


def attachment_name(image: Image) -> str:
    """The file name the port uploads an `Image` under (the embed points at
    `attachment://<name>`): letters, digits, `._-` only, ending in `.png`."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", image.filename)[:60].strip("._") or "image"
    return name if name.lower().endswith(".png") else name + ".png"


def attachments(message: Message) -> list[tuple[str, bytes]]:
    """(file name, PNG bytes) of the message's images, uploaded with it: the names
    its embeds point at (`attachment://<name>`), each name once."""
    files: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for part in message.parts:
        if isinstance(part, Image):
            name = attachment_name(part)
            if name not in seen:
                seen.add(name)
                files.append((name, base64.b64decode(part.png_base64)))
    return files


def _blocks(parts: Sequence[Part], texts: Budget) -> list[_Block]:
    """Register every embed text in the budget, each already within its own limit."""
    blocks: list[_Block] = []
    for part in parts:
        if isinstance(part, Heading) and not is_blank(part.text):
            slot = texts.add(truncate(markdown(_one_line(part.text)), L.EMBED_TITLE))
            blocks.append(_Block("title", [slot]))
        elif isinstance(part, Paragraph) and not is_blank(part.text):
            slot = texts.add(truncate(markdown(part.text), L.EMBED_TOTAL))
            blocks.append(_Block("desc", [slot]))
            texts.reserve(1)  # the newline joining it to what comes before
        elif isinstance(part, Context) and not is_blank(part.text):
            slot = texts.add(truncate(markdown(_one_line(part.text)), L.EMBED_DESCRIPTION - 3))
            blocks.append(_Block("desc", [slot], prefix="-# "))
            texts.reserve(4)
        elif isinstance(part, Table):
            body = truncate(code_block(part.text()), L.EMBED_DESCRIPTION - 8)
            blocks.append(_Block("desc", [texts.add(body)], prefix="```\n", suffix="\n```"))
            texts.reserve(9)
        elif isinstance(part, FieldPart):
            blocks.append(_field_block(part, texts))
        elif isinstance(part, Image):
            slot = texts.add(plain(part.title, L.EMBED_TITLE, ""))
            blocks.append(_Block("image", [slot], filename=attachment_name(part)))
    return blocks


def _field_block(part: FieldPart, texts: Budget) -> _Block:
    label = markdown(_one_line(part.label))
    value = markdown(part.value) if not is_blank(part.value) else EMPTY
    if part.full_text_action is not None:
        check_id(part.full_text_action, "full_text_action")
    if part.full_text_action is not None or discord_len(value) <= L.FIELD_VALUE:
        name = truncate(label, L.FIELD_NAME) if not is_blank(label) else EMPTY
        shown = truncate(value, L.FIELD_VALUE)
        slots = [texts.add(name), texts.add(shown)]
        return _Block("field", slots, action=part.full_text_action, cut=shown != value)
    # Too long for a field and no full text to offer: `**label**` and the value in
    # the description, where it has room to arrive whole (relayed replies must).
    value = truncate(value, L.EMBED_TOTAL)
    if is_blank(label):
        return _Block("desc", [texts.add(value)])
    texts.reserve(6)
    slots = [texts.add(truncate(label, L.FIELD_NAME)), texts.add(value)]
    return _Block("desc", slots, prefix="**", joiner="**\n")


def _embeds(parts: Sequence[Part]) -> tuple[list[dict[str, Any]], list[str], bool]:
    """The embeds, the full-text actions of fields that were cut, and whether
    something was left out that no "…" shows."""
    texts = Budget(discord_len, mend=mend)
    blocks = _blocks(parts, texts)
    texts.add(CUT_NOTE, fixed=True)  # kept room for the footer, shown only if needed
    texts.fit(L.EMBED_TOTAL)
    out = _Embeds(room=L.EMBED_TOTAL - discord_len(CUT_NOTE))
    cut_actions: list[str] = []
    for block in blocks:
        fitted = [texts[s] for s in block.slots]
        if block.kind == "title":
            out.title(fitted[0])
        elif block.kind == "desc":
            out.describe(block.prefix + block.joiner.join(fitted) + block.suffix)
        elif block.kind == "field":
            out.add_field(fitted[0], fitted[1] or EMPTY)
            if block.action is not None and (block.cut or texts.was_cut(block.slots[1])):
                cut_actions.append(block.action)
        else:
            out.image(fitted[0], block.filename)
    return [e for e in out.embeds if e], cut_actions, out.lost


# --------------------------------------------------------------------------- mentions


def _mention_content(parts: Sequence[Part]) -> tuple[str, list[str]]:
    """`content` for the Mention parts (tags, then their text) and the user ids it
    may ping: `discord:<snowflake>` identities only, at most 100, within
    `MENTIONS_CHARS`; the rest are counted as "(+N more)"."""
    texts = Budget(discord_len, mend=mend)
    lines: list[tuple[int, int | None]] = []
    users: list[str] = []
    room = MENTIONS_CHARS
    for part in parts:
        if not isinstance(part, Mention):
            continue
        tags, omitted = [], 0
        for key in part.identities:
            platform, _, ext = key.partition(":")
            if platform.lower() != "discord" or not _SNOWFLAKE.fullmatch(ext) or ext in users:
                continue
            tag = f"<@{ext}>"
            if len(users) == L.MENTION_USERS or len(tag) + 1 > room:
                omitted += 1
                continue
            users.append(ext)
            tags.append(tag)
            room -= len(tag) + 1
        prefix = " ".join(tags) + (f" (+{omitted} more)" if omitted else "")
        text = markdown(_one_line(part.text)) if not is_blank(part.text) else ""
        if not prefix and not text:
            continue
        lines.append(
            (
                texts.add(prefix, fixed=True),
                texts.add(truncate(text, L.CONTENT)) if text else None,
            )
        )
        texts.reserve(2)  # the space after the tags, the newline between parts
    texts.fit(L.CONTENT)
    rendered = [
        " ".join(w for w in (texts[p], texts[t] if t is not None else "") if w) for p, t in lines
    ]
    content = truncate("\n".join(rendered), L.CONTENT)
    return content, [u for u in users if f"<@{u}>" in content]


# --------------------------------------------------------------------------- components


def _button(custom_id: str, label: str, style: str | None = None) -> dict[str, Any]:
    return {
        "type": BUTTON,
        "style": _STYLES.get(style, 2),
        "custom_id": check_id(custom_id, "custom_id"),
        "label": plain(label, L.BUTTON_LABEL, ELLIPSIS),
    }


def option_payload(option: Option, *, default: bool = False) -> dict[str, Any]:
    if not option.value or discord_len(option.value) > L.OPTION_TEXT:
        raise ValueError(f"option values must be 1-{L.OPTION_TEXT} characters for Discord")
    out: dict[str, Any] = {
        "label": plain(option.label, L.OPTION_TEXT, EMPTY),
        "value": option.value,
    }
    if default:
        out["default"] = True
    return out


def _select(control: Select) -> tuple[dict[str, Any], bool]:
    options, seen = [], set()
    for option in control.options:
        if option.value not in seen:
            seen.add(option.value)
            options.append(option_payload(option))
    kept = options[: L.OPTIONS]
    select = {
        "type": STRING_SELECT,
        "custom_id": check_id(control.action_id, "custom_id"),
        "placeholder": plain(control.placeholder, L.PLACEHOLDER, "Choose…"),
        "options": kept,
        "min_values": 1,
        "max_values": len(kept) if control.multiple else 1,
    }
    return select, len(kept) < len(options)


def _components(
    parts: Sequence[Part], full_text_actions: Sequence[str]
) -> tuple[list[dict[str, Any]], bool]:
    """Action rows: each Actions part starts a row, buttons five to a row, a select
    alone in one; "Show full text" buttons last. True if a control was left out."""
    rows: list[list[dict[str, Any]]] = []
    ids: set[str] = set()
    lost = False
    groups: list[list[Button | Select]] = [
        list(p.controls) for p in parts if isinstance(p, Actions)
    ]
    groups.append([Button(action_id=a, label=SHOW_FULL_TEXT) for a in full_text_actions])
    for group in groups:
        row: list[dict[str, Any]] | None = None
        for control in group:
            check_id(control.action_id, "custom_id")
            if control.action_id in ids or (isinstance(control, Select) and not control.options):
                lost = True  # Discord wants ids unique per message, and no empty selects
                continue
            if isinstance(control, Select):
                select, cut = _select(control)
                if len(rows) == L.ROWS:
                    lost = True
                    continue
                rows.append([select])
                lost = lost or cut
                row = None
            else:
                if row is None or len(row) == L.ROW_BUTTONS:
                    if len(rows) == L.ROWS:
                        lost = True
                        continue
                    row = []
                    rows.append(row)
                row.append(_button(control.action_id, control.label, control.style))
            ids.add(control.action_id)
    return [{"type": ACTION_ROW, "components": row} for row in rows], lost


# --------------------------------------------------------------------------- messages


def message_payload(message: Message) -> dict[str, Any]:
    """The message as a Discord payload; see the module docstring."""
    embeds, cut_actions, lost = _embeds(message.parts)
    components, dropped = _components(message.parts, cut_actions)
    content, users = _mention_content(message.parts)
    if not embeds and not content:
        fallback = message.text if not is_blank(message.text) else message.plain()
        content = truncate(markdown(fallback), L.CONTENT) if not is_blank(fallback) else EMPTY
    if lost or dropped:
        if not embeds:
            embeds.append({})
        embeds[-1]["footer"] = {"text": CUT_NOTE}
    payload: dict[str, Any] = {
        "content": content,
        "embeds": embeds,
        "components": components,
        "allowed_mentions": {**NO_PINGS, "users": users} if users else dict(NO_PINGS),
    }
    return payload


# --------------------------------------------------------------------------- modals


def _input(spec: FormField) -> dict[str, Any]:
    """A Label (name, hint) around a text input or a string select."""
    label: dict[str, Any] = {
        "type": LABEL,
        "label": plain(spec.label, L.INPUT_LABEL, plain(spec.name, L.INPUT_LABEL, "Answer")),
    }
    if spec.hint and not is_blank(spec.hint):
        label["description"] = plain(spec.hint, L.INPUT_DESCRIPTION, EMPTY)
    name = check_id(spec.name, "field name")
    if spec.kind == "select" and spec.options:
        chosen = set((spec.initial or "").split(",")) if spec.initial else set()
        options = [option_payload(o, default=o.value in chosen) for o in spec.options]
        options = options[: L.OPTIONS]
        label["component"] = {
            "type": STRING_SELECT,
            "custom_id": name,
            "options": options,
            "required": spec.required,
            "min_values": 1 if spec.required else 0,
            "max_values": 1,
        }
        return label
    max_length = max(1, min(spec.max_length, L.INPUT_VALUE))
    element: dict[str, Any] = {
        "type": TEXT_INPUT,
        "custom_id": name,
        "style": SHORT if spec.kind == "short" else PARAGRAPH,
        "required": spec.required,
        "max_length": max_length,
    }
    if spec.min_length > 0:
        element["min_length"] = min(spec.min_length, max_length)
    if spec.initial:
        value = truncate(clean(spec.initial).replace("\r\n", "\n"), max_length, ellipsis="")
        if spec.kind == "short":
            value = _one_line(value)
        if value:
            element["value"] = value
    label["component"] = element
    return label


def modal_payload(form: Form, errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The form as the `data` of a MODAL (type 9) interaction response.

    At most five components: the fields first (a Label around a text input or a
    string select; custom_id = field name, the modal's = the form id), then, if
    there is room, the errors (when a draft is reopened) and the intro as text.
    Text inputs take at most 4000 characters: a field allowing more is capped.
    Discord modals have no custom submit label; `form.submit_label` is unused.
    Raises ValueError for a form id or field name over 100 characters or repeated."""
    check_id(form.form_id, "form_id")
    names = [f.name for f in form.fields]
    if len(set(names)) != len(names):
        raise ValueError("field names must be unique")
    fields = [_input(f) for f in form.fields[: L.MODAL_COMPONENTS]]
    notes: list[str] = []
    if errors:
        notes.append("⚠️ " + markdown(_error_lines(form, errors)))
    if form.intro and not is_blank(form.intro):
        notes.append(markdown(form.intro))
    shown = [
        {"type": TEXT_DISPLAY, "content": truncate(n, L.TEXT_DISPLAY)}
        for n in notes[: L.MODAL_COMPONENTS - len(fields)]
    ]
    components = shown + fields
    if not components:
        components = [{"type": TEXT_DISPLAY, "content": EMPTY}]
    return {
        "custom_id": form.form_id,
        "title": plain(form.title, L.MODAL_TITLE, "Form"),
        "components": components,
    }


def _error_lines(form: Form, errors: Mapping[str, str]) -> str:
    labels = {f.name: _one_line(f.label) or f.name for f in form.fields}
    lines = []
    for key, text in errors.items():
        text = _one_line(text)
        lines.append(f"{labels[key]}: {text}" if key in labels else text)
    return "\n".join(lines)


def refilled(form: Form, typed: Mapping[str, str]) -> Form:
    """`form` with each field's initial value set to what was typed into it."""
    fields = [
        f.model_copy(update={"initial": typed[f.name]}) if f.name in typed else f
        for f in form.fields
    ]
    return form.model_copy(update={"fields": fields})


def _typed(form: Form, name: str, value: str) -> str:
    """What was typed into a field, a choice shown by its label."""
    spec = next(f for f in form.fields if f.name == name)
    if spec.kind != "select" or not spec.options:
        return value
    labels = {o.value: o.label for o in spec.options}
    return ", ".join(labels.get(v, v) for v in value.split(",") if v)


def form_errors_reply(
    form: Form, errors: Mapping[str, str], typed: Mapping[str, str], draft_id: str
) -> dict[str, Any]:
    """An ephemeral answer to a refused modal submission: what to fix, what was
    typed (so nothing is lost even if the draft expires), and a button
    (`REOPEN_PREFIX + draft_id`) that reopens the form filled in with it; the
    caller keeps `refilled(form, typed)` under `draft_id` (`bots.discord.drafts`)."""
    labels = {f.name: _one_line(f.label) or f.name for f in form.fields}
    parts: list[Part] = [Paragraph(text="Please fix this and submit again:")]
    for key, text in errors.items():
        parts.append(FieldPart(label=labels.get(key, "Form"), value=_one_line(text) or EMPTY))
    kept = [(labels[n], _typed(form, n, v)) for n, v in typed.items() if n in labels]
    kept = [(label, v) for label, v in kept if not is_blank(v)]
    if kept:
        parts.append(Context(text="What you typed:"))
        parts.extend(FieldPart(label=label, value=value) for label, value in kept)
    parts.append(
        Actions(
            controls=[Button(action_id=REOPEN_PREFIX + draft_id, label=FIX_LABEL, style="primary")]
        )
    )
    payload = message_payload(Message(text="Please fix the form and submit again.", parts=parts))
    payload["flags"] = EPHEMERAL
    return payload
