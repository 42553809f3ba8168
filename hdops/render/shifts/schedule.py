"""Replies to ops scheduling shifts: the shift table, shifts added (with their
warnings), clashes, and shifts cancelled or moved."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from hdops.chat import Context, Heading, Message, Paragraph, Reply, Table, defang_mentions
from hdops.render.shifts.formatting import (
    STATUS_TEXT,
    ShiftView,
    day_text,
    say,
    shift_label,
    time_span,
    when,
)


def shifts_table(views: Sequence[ShiftView], tz: ZoneInfo, title: str) -> Message:
    if not views:
        return say(f"{title}: no shifts.")
    rows = []
    for v in views:
        status = STATUS_TEXT.get(v.status, v.status)
        if v.swap_to:
            status += f" (swap asked: {defang_mentions(v.swap_to)})"
        rows.append(
            [
                str(v.id),
                defang_mentions(v.person),
                v.role,
                day_text(v.starts_at, tz),
                time_span(v.starts_at, v.ends_at, tz),
                status,
            ]
        )
    return Message(
        text=f"{title}: {len(views)} shift(s)",
        parts=[
            Heading(text=title),
            Table(columns=["id", "who", "role", "day", "time", "status"], rows=rows),
            Context(text=f"Times in {tz.key}."),
        ],
    )


def shifts_added(
    views: Sequence[ShiftView], tz: ZoneInfo, person: str, warnings: Sequence[str]
) -> Reply:
    who = defang_mentions(person)
    if len(views) == 1:
        head = f"Scheduled {who}: {shift_label(views[0], tz)}."
    else:
        first, last = views[0], views[-1]
        head = (
            f"Scheduled {len(views)} weekly shifts for {who}, "
            f"#{first.id}–#{last.id}: {when(first, tz)} … {day_text(last.starts_at, tz)}."
        )
    parts: list[Paragraph | Context] = [Paragraph(text=head)]
    for warning in warnings:
        parts.append(Paragraph(text=f"⚠ {warning}"))
    parts.append(Context(text=f"{who} has been told."))
    return Reply(message=Message(text=head, parts=list(parts)))


def clash_text(views: Sequence[ShiftView], tz: ZoneInfo, person: str) -> str:
    listed = "; ".join(shift_label(v, tz) for v in views)
    who = defang_mentions(person)
    return f"That shift clashes with {who}'s shift {listed}. Nothing was scheduled."


def outside_availability(person: str, view: ShiftView, tz: ZoneInfo) -> str:
    return f"{shift_label(view, tz)} is outside {defang_mentions(person)}'s declared availability."


def shift_cancelled_reply(view: ShiftView, tz: ZoneInfo) -> Reply:
    return Reply.say(
        f"Cancelled shift {shift_label(view, tz)} of {defang_mentions(view.person)}; "
        "they have been told."
    )


def shift_moved_reply(view: ShiftView, tz: ZoneInfo, warnings: Sequence[str]) -> Reply:
    who = defang_mentions(view.person)
    text = f"Moved shift #{view.id} of {who} to {when(view, tz)}; they have been told."
    return Reply.say("\n".join([text, *(f"⚠ {w}" for w in warnings)]))
