"""Relayed replies: what one side of a clarification or dispute thread wrote, as
the other side sees it."""

from __future__ import annotations

from hdops.chat import FieldPart, Message, Paragraph, defang_mentions


def relayed(
    author: str,
    text: str,
    role: str,
    *,
    part: tuple[int, int] | None = None,
    edited: bool = False,
) -> Message:
    """`author (role)`, then the text, made unable to mention anyone. `part` is
    (n, of) for one piece of a reply split across messages; `edited` marks the
    new version of a reply that was changed after it was relayed."""
    label = f"{defang_mentions(author)} ({role})"
    if edited:
        label += ", edited"
    if part is not None and part[1] > 1:
        label += f" ({part[0]}/{part[1]})"
    safe = defang_mentions(text)
    return Message(text=f"{label}: {safe}", parts=[FieldPart(label=label, value=safe)])


def deletion_not_relayed() -> Message:
    """Told privately to someone who deleted a message in a relay thread."""
    text = (
        "Deleting a message here does not remove what hdops already relayed to the "
        "other side. To correct it, reply again in this thread."
    )
    return Message(text=text, parts=[Paragraph(text=text)])
