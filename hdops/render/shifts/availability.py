"""Declared availability: windows as text, and the replies to adding, listing
and clearing them."""

from __future__ import annotations

from collections.abc import Sequence

from hdops.chat import Heading, Message, Reply, Table, defang_mentions
from hdops.domain.shifts import WEEKDAYS, Window, hhmm


def window_text(w: Window) -> str:
    return f"{WEEKDAYS[w.weekday]} {hhmm(w.start_minute)}-{hhmm(w.end_minute)} {w.tz}"


def availability_added(days: str, span: str, tz: str) -> Reply:
    return Reply.say(
        f"Availability added: {days} {span} {tz}. /hdops availability list to see all."
    )


def availability_list(person: str, windows: Sequence[Window]) -> Reply:
    if not windows:
        return Reply.say(
            f"{defang_mentions(person)} has declared no availability. "
            "Add some with /hdops availability add mon-fri 09:00-17:00"
        )
    rows = [
        [WEEKDAYS[w.weekday], f"{hhmm(w.start_minute)}-{hhmm(w.end_minute)}", w.tz] for w in windows
    ]
    return Reply(
        message=Message(
            text=f"Availability of {defang_mentions(person)}",
            parts=[
                Heading(text=f"Availability of {defang_mentions(person)}"),
                Table(columns=["day", "time", "timezone"], rows=rows),
            ],
        )
    )


def availability_cleared(count: int) -> Reply:
    return Reply.say(f"Cleared {count} availability window(s).")
