"""What a person is told when their request could not be carried out at all:
the platform sent something incomplete, or handling it failed unexpectedly.
(Refusals with a reason — no permission, invalid input — are the domain
errors' own messages.)"""

from __future__ import annotations

from hdops.chat import Message, Paragraph

TRY_AGAIN = "Please try again; if it keeps happening, tell ops."


def unreadable(what: str) -> Message:
    """The platform's request lacked something hdops needs; nothing was done."""
    return _say(f"hdops could not read that {what} (part of it was missing), so nothing was done.")


def failed(what: str) -> Message:
    """Handling the request failed unexpectedly (ops find it in the logs)."""
    return _say(f"That {what} did not work: something went wrong on hdops' side.")


def busy(what: str) -> Message:
    """The database stayed locked longer than hdops waits (another writer held it):
    nothing was saved, and the same request will most likely work shortly."""
    text = (
        f"hdops is busy right now, so that {what} was not saved. "
        "Please try again in a minute; if it keeps happening, tell ops."
    )
    return Message(text=text, parts=[Paragraph(text=text)])


def _say(first: str) -> Message:
    text = f"{first} {TRY_AGAIN}"
    return Message(text=text, parts=[Paragraph(text=text)])
