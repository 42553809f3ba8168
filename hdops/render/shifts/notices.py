"""What people are told as their shifts change and happen: a shift added, moved,
cancelled or swapped, a weekly series, reminders, the start of a shift, and the
no-show notice to ops."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from hdops.chat import Context, Heading, Message, Paragraph, defang_mentions
from hdops.render.shifts.formatting import ShiftView, day_text, say, shift_label, when

CHANGE_TEXT = {
    "new": "New shift for you: {when}.",
    "moved": "Your shift #{id} was moved: now {when} (was {before}).",
    "cancelled": "Your shift #{id} on {when} was cancelled.",
    "swapped_in": "You took over shift #{id} from {other}: {when}.",
    "swapped_out": "Your shift #{id} on {when} now belongs to {other} (swap accepted).",
}


def shift_change(
    kind: str, view: ShiftView, tz: ZoneInfo, *, before: str = "", other: str = ""
) -> Message:
    text = CHANGE_TEXT[kind].format(
        id=view.id, when=when(view, tz), before=before, other=defang_mentions(other)
    )
    parts: list[Paragraph | Context] = [Paragraph(text=text)]
    if kind in ("new", "moved", "swapped_in"):
        parts.append(Context(text="You'll get a reminder a day before and 15 minutes before."))
    return Message(text=text, parts=list(parts))


def series_assigned(views: Sequence[ShiftView], tz: ZoneInfo) -> Message:
    first, last = views[0], views[-1]
    text = (
        f"New weekly shifts for you: {when(first, tz)}, {len(views)} weeks in all "
        f"(the last on {day_text(last.starts_at, tz)}). Shift ids #{first.id}–#{last.id}."
    )
    return Message(
        text=text,
        parts=[
            Paragraph(text=text),
            Context(text="You'll get a reminder a day before and 15 minutes before each."),
        ],
    )


def reminder(view: ShiftView, tz: ZoneInfo, kind: str) -> Message:
    span = when(view, tz)
    if kind == "remind24h":
        text = f"Reminder: you have a shift tomorrow, {span}."
    else:
        text = f"Reminder: your shift starts in 15 minutes ({span})."
    if view.role == "researcher":
        text += " You're on call for clarification questions."
    return Message(
        text=text,
        parts=[Paragraph(text=text), Context(text="Can't make it? /hdops shift swap ID @someone")],
    )


def shift_started(view: ShiftView, tz: ZoneInfo, *, pushed: bool, checked_in: bool) -> Message:
    until = view.ends_at.astimezone(tz).strftime("%H:%M")
    if view.role == "researcher":
        text = f"You're on call for clarification questions until {until} {tz.key}."
        return say(text)
    text = f"Your shift has started (until {until} {tz.key})."
    text += (
        " Your first task is below."
        if pushed
        else " Tasks will come here as soon as there is work."
    )
    if not checked_in:
        text += " Use /hdops checkin to start your paid time."
    return say(text)


def no_show(view: ShiftView, tz: ZoneInfo, minutes: int) -> Message:
    text = (
        f"No-show: {defang_mentions(view.person)} has not checked in {minutes} min after "
        f"the start of shift {shift_label(view, tz)}."
    )
    return Message(text=text, parts=[Heading(text="No-show"), Paragraph(text=text)])
