"""iCalendar (RFC 5545) feeds of a person's shifts, written with `icalendar`.

Calendar apps update an event they already know by its UID and a higher
SEQUENCE, so every shift has a stable UID (`shift-<id>@hdops`) and its revision
as SEQUENCE; a cancelled shift stays in the feed with `STATUS:CANCELLED`, which
removes it from subscribers' calendars instead of leaving a stale copy behind.
Times are written in UTC (`DTSTART:20260302T090000Z`), which every client reads
without needing a VTIMEZONE block.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hdops.render.shifts import ShiftView

PRODID = "-//hdops//shifts//EN"


def shifts_calendar(
    person: str, views: Sequence[ShiftView], revisions: Sequence[int], generated: datetime
) -> bytes:
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"hdops shifts — {person}")
    for view, revision in zip(views, revisions, strict=True):
        event = Event()
        event.add("uid", f"shift-{view.id}@hdops")
        event.add("dtstamp", generated)
        event.add("dtstart", view.starts_at)
        event.add("dtend", view.ends_at)
        what = "on call (researcher)" if view.role == "researcher" else "shift"
        event.add("summary", f"hdops {what} #{view.id}")
        event.add("description", f"{person}: hdops {what}. Status: {view.status}.")
        event.add("sequence", revision)
        event.add("status", "CANCELLED" if view.status == "cancelled" else "CONFIRMED")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
