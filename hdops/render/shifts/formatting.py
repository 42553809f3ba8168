"""How shifts read: `ShiftView` (one shift as people see it) and the shared
wording of days, time spans, durations, hours and statuses.

Times are shown in the reader's timezone, always with the zone's name, so a
message forwarded to someone elsewhere is still unambiguous."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hdops.chat import Message, Paragraph


@dataclass(frozen=True)
class ShiftView:
    """One shift as people see it; built by the shift service."""

    id: int
    person: str  # display name
    role: str
    starts_at: datetime
    ends_at: datetime
    status: str
    swap_to: str | None = None


def say(text: str) -> Message:
    """A message of one plain paragraph."""
    return Message(text=text, parts=[Paragraph(text=text)])


def day_text(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%a %Y-%m-%d")


def time_span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """`09:00–13:00`, or `22:00–02:00 (+1 day)` across midnight."""
    ls, le = start.astimezone(tz), end.astimezone(tz)
    later = (le.date() - ls.date()).days
    suffix = f" (+{later} day)" if later == 1 else (f" (+{later} days)" if later > 1 else "")
    return f"{ls:%H:%M}–{le:%H:%M}{suffix}"


def when(view: ShiftView, tz: ZoneInfo) -> str:
    """`Mon 2026-03-02 09:00–13:00 Europe/London`."""
    return f"{day_text(view.starts_at, tz)} {time_span(view.starts_at, view.ends_at, tz)} {tz.key}"


def shift_label(view: ShiftView, tz: ZoneInfo) -> str:
    return f"#{view.id} {when(view, tz)}"


def duration(delta: timedelta) -> str:
    """`45 min`, or `2 h 05 min` from an hour on."""
    minutes = max(0, int(delta.total_seconds() // 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


STATUS_TEXT = {
    "scheduled": "scheduled",
    "cancelled": "cancelled",
    "no_show": "no-show",
    "done": "done",
}
