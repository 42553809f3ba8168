"""The neutral chat model: what the core says, before any platform dresses it.

Renderers in `hdops/render` build these; the Slack, Discord and local adapters
turn them into Block Kit, discord.ui views or terminal text. The models are
pydantic so an outbox row can store a message as JSON and get it back intact.

All text here is plain text. Adapters escape it for their platform; structure
(headings, labelled fields, buttons) is expressed with parts, never with markup,
so user-written text can never smuggle formatting or mentions through.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

_Frozen = ConfigDict(frozen=True, extra="forbid")


class Heading(BaseModel):
    model_config = _Frozen
    kind: Literal["heading"] = "heading"
    text: str


class Paragraph(BaseModel):
    model_config = _Frozen
    kind: Literal["text"] = "text"
    text: str


class FieldPart(BaseModel):
    """A labelled value, e.g. one item field. `full_text_action` lets a platform that
    must shorten the value offer the whole text (a modal or a thread)."""

    model_config = _Frozen
    kind: Literal["field"] = "field"
    label: str
    value: str
    full_text_action: str | None = None


class Button(BaseModel):
    model_config = _Frozen
    kind: Literal["button"] = "button"
    action_id: str
    label: str
    style: Literal["primary", "danger"] | None = None


class Option(BaseModel):
    model_config = _Frozen
    label: str
    value: str


class Select(BaseModel):
    model_config = _Frozen
    kind: Literal["select"] = "select"
    action_id: str
    placeholder: str
    options: list[Option]
    multiple: bool = False


Control = Annotated[Button | Select, Field(discriminator="kind")]


class Actions(BaseModel):
    model_config = _Frozen
    kind: Literal["actions"] = "actions"
    controls: list[Control]


class Context(BaseModel):
    """Small print under a message: progress, instruction version, ids."""

    model_config = _Frozen
    kind: Literal["context"] = "context"
    text: str


class Mention(BaseModel):
    """Mention these people (identity keys such as `slack:U0RES1`). The only way the
    core ever mentions anyone: structurally, never through text."""

    model_config = _Frozen
    kind: Literal["mention"] = "mention"
    identities: list[str]
    text: str = ""


class Image(BaseModel):
    """A picture sent with the message (e.g. a PNG chart in a digest). Stored base64
    in the outbox; platforms upload it as a file next to the message."""

    model_config = _Frozen
    kind: Literal["image"] = "image"
    filename: str
    title: str
    png_base64: str


class Table(BaseModel):
    """A small table (shift lists, coverage, payout summaries). Platforms render it as
    monospaced text; cells are plain text."""

    model_config = _Frozen
    kind: Literal["table"] = "table"
    columns: list[str]
    rows: list[list[str]]

    def text(self) -> str:
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            for i, cell in enumerate(row[: len(widths)]):
                widths[i] = max(widths[i], len(cell))
        lines = ["  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=False))]
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)))
        return "\n".join(line.rstrip() for line in lines)


Part = Annotated[
    Heading | Paragraph | FieldPart | Actions | Context | Mention | Image | Table,
    Field(discriminator="kind"),
]


class Message(BaseModel):
    model_config = _Frozen

    text: str  # one-line summary: notification text and fallback for plain clients
    parts: list[Part] = Field(default_factory=list)

    def buttons(self) -> list[Button]:
        return [
            c
            for p in self.parts
            if isinstance(p, Actions)
            for c in p.controls
            if isinstance(c, Button)
        ]

    def controls(self) -> list[Button | Select]:
        return [c for p in self.parts if isinstance(p, Actions) for c in p.controls]

    def plain(self) -> str:
        """The whole message as plain text (transcripts, logs, the terminal chat)."""
        lines: list[str] = []
        for p in self.parts:
            if isinstance(p, Heading):
                lines.append(f"== {p.text} ==")
            elif isinstance(p, Paragraph | Context):
                lines.append(p.text)
            elif isinstance(p, FieldPart):
                lines.append(f"{p.label}: {p.value}")
            elif isinstance(p, Table):
                lines.append(p.text())
            elif isinstance(p, Image):
                lines.append(f"[image: {p.title} ({p.filename})]")
            elif isinstance(p, Mention):
                lines.append(
                    " ".join(f"@{i}" for i in p.identities) + (f" {p.text}" if p.text else "")
                )
        return "\n".join(lines) if lines else self.text


class FormField(BaseModel):
    model_config = _Frozen

    name: str
    label: str
    kind: Literal["short", "long", "select"] = "long"
    required: bool = True
    min_length: int = 0
    max_length: int = 4000
    options: list[Option] = Field(default_factory=list)
    initial: str | None = None
    hint: str | None = None


class Form(BaseModel):
    """A modal with input fields. Its `form_id` (action codec) says what to do on submit."""

    model_config = _Frozen

    form_id: str
    title: str
    fields: list[FormField]
    submit_label: str = "Submit"
    intro: str | None = None


# --------------------------------------------------------------------------- replies


class Reply(BaseModel):
    """What the core answers to an interaction, shown only to the person who acted.

    * `message`: a private (ephemeral) message;
    * `form`: open this form now (platforms need the interaction's trigger to do so);
    * `form_errors`: a submitted form is invalid; show these per-field errors in it.
    Any of them may be empty: many actions answer through the outbox instead.
    """

    model_config = _Frozen

    message: Message | None = None
    form: Form | None = None
    form_errors: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def say(cls, text: str) -> Reply:
        return cls(message=Message(text=text, parts=[Paragraph(text=text)]))

    @classmethod
    def nothing(cls) -> Reply:
        return cls()


# --------------------------------------------------------------------------- safety

_MENTION_RES = [
    # Slack special mentions and links: <!channel>, <!here>, <@U123>, <#C123>, <https://…|x>
    re.compile(r"<([!@#])"),
    # Plain-text broadcast words on Discord and Slack
    re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE),
    # Discord user/role/channel mentions: <@123>, <@!123>, <@&123>, <#123>
]
ZWSP = "\u200b"
# A Markdown masked link, [text](url): Discord shows only `text` and links it to `url`,
# so a person could pass off one address as another. A zero-width space between `]`
# and `(` leaves the words as written and makes them no link anywhere.
_MASKED_LINK_RE = re.compile(r"\](?=\()")


def defang_mentions(text: str) -> str:
    """Make user-written text unable to mention anyone, or to hide a link's
    address behind other words, on any platform.

    The text stays readable and verbatim apart from a zero-width space after the
    sigil, and between `]` and `(`; adapters still escape for their platform
    (defence in depth)."""
    text = _MASKED_LINK_RE.sub("]" + ZWSP, text)
    text = _MENTION_RES[0].sub(lambda m: "<" + ZWSP + m.group(1), text)
    text = _MENTION_RES[1].sub(lambda m: "@" + ZWSP + m.group(1), text)
    return text
