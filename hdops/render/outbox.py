"""What ops are told when a message could not be delivered."""

from __future__ import annotations

from hdops.chat import Context, Heading, Message, Paragraph, defang_mentions


def delivery_failed(row_id: int, summary: str, error: str, *, gave_up_after: str | None) -> Message:
    """A message failed for good: permanently refused, or still undelivered after
    the outbox's maximum age. It stays in the outbox for `hdops outbox retry`."""
    why = (
        f"still not delivered after {gave_up_after} ({error})"
        if gave_up_after
        else f"the platform refused it ({error})"
    )
    summary = defang_mentions(summary[:120]) or "(no text)"
    text = f"A message could not be delivered: {why}."
    return Message(
        text=text,
        parts=[
            Heading(text="Message not delivered"),
            Paragraph(text=text),
            Paragraph(text=f"It said: {summary}"),
            Context(
                text=(
                    f"Outbox row {row_id}. See `hdops outbox list --failed`; after fixing the "
                    f"cause, `hdops outbox retry {row_id}` sends it again."
                )
            ),
        ],
    )
