"""Time tracking: check-in and check-out replies, check-ins closed automatically
(after a shift or when idle), and the contractor's correction of one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hdops import actions
from hdops.chat import (
    Actions,
    Button,
    Context,
    Form,
    FormField,
    Heading,
    Message,
    Paragraph,
    Reply,
    defang_mentions,
)
from hdops.render.shifts.formatting import ShiftView, duration, shift_label


def auto_closed(
    person: str, view: ShiftView, tz: ZoneInfo, started: datetime, ended: datetime
) -> Message:
    text = (
        f"{defang_mentions(person)} was still checked in 30 min after shift "
        f"{shift_label(view, tz)} "
        f"ended. The check-in from {started.astimezone(tz):%a %H:%M} was closed at "
        f"{ended.astimezone(tz):%H:%M} (the shift's end); please review it."
    )
    return Message(
        text=text, parts=[Heading(text="Check-in closed automatically"), Paragraph(text=text)]
    )


FIX_HINT = "/hdops checkin fix HH:MM REASON"


def _fix_button(entry_id: int) -> Actions:
    return Actions(
        controls=[
            Button(action_id=actions.encode(actions.CHECKIN_FIX, entry_id), label="Correct it")
        ]
    )


def auto_closed_for_contractor(
    entry_id: int, view: ShiftView, tz: ZoneInfo, ended: datetime
) -> Message:
    text = (
        f"You were still checked in after your shift ended; I closed it at "
        f"{ended.astimezone(tz):%H:%M} {tz.key}. Ops will review it. If you worked "
        f"until another time, correct it with the button or {FIX_HINT}."
    )
    return Message(
        text=text,
        parts=[Heading(text="Check-in closed"), Paragraph(text=text), _fix_button(entry_id)],
    )


def idle_closed(
    entry_id: int, started: datetime, ended: datetime, idle_minutes: int, tz: ZoneInfo
) -> Message:
    """To the contractor: their check-in closed itself after a stretch without activity."""
    text = (
        f"Your check-in from {started.astimezone(tz):%a %H:%M} was closed at "
        f"{ended.astimezone(tz):%H:%M} {tz.key}, your last activity in hdops: nothing "
        f"happened for {idle_minutes} minutes after it. {duration(ended - started)} "
        "recorded. No more tasks are pushed until you /hdops checkin again."
    )
    hint = f"Were you working longer? Correct the end time with the button or {FIX_HINT}."
    return Message(
        text=text,
        parts=[
            Heading(text="Check-in closed"),
            Paragraph(text=text),
            Context(text=hint),
            _fix_button(entry_id),
        ],
    )


def check_in_fix_form(entry_id: int, started: datetime, ended: datetime, tz: ZoneInfo) -> Form:
    return Form(
        form_id=actions.encode(actions.F_CHECKIN_FIX, entry_id),
        title="Correct a check-in",
        intro=(
            f"Checked in {started.astimezone(tz):%a %H:%M}, closed automatically at "
            f"{ended.astimezone(tz):%H:%M} {tz.key}. When did you stop working? "
            "Ops see the correction and your reason."
        ),
        fields=[
            FormField(
                name="until",
                label=f"Worked until (HH:MM, {tz.key})",
                kind="short",
                max_length=5,
                initial=f"{ended.astimezone(tz):%H:%M}",
            ),
            FormField(name="reason", label="Reason", kind="long", min_length=3, max_length=1000),
        ],
        submit_label="Correct",
    )


def check_in_fixed_reply(started: datetime, ended: datetime, tz: ZoneInfo) -> Reply:
    return Reply.say(
        f"Corrected: your check-in from {started.astimezone(tz):%a %H:%M} now ends at "
        f"{ended.astimezone(tz):%H:%M} {tz.key} ({duration(ended - started)}). "
        "Ops have been told."
    )


def check_in_fixed(
    person: str, started: datetime, before: datetime, after: datetime, reason: str, tz: ZoneInfo
) -> Message:
    """To ops: a contractor corrected a check-in that had closed by itself."""
    text = (
        f"{defang_mentions(person)} corrected their check-in from "
        f"{started.astimezone(tz):%a %Y-%m-%d %H:%M}: it closed automatically at "
        f"{before.astimezone(tz):%H:%M}, now it ends at {after.astimezone(tz):%H:%M} {tz.key} "
        f"({duration(after - started)}). Reason: {defang_mentions(reason)}"
    )
    return Message(text=text, parts=[Heading(text="Check-in corrected"), Paragraph(text=text)])


def checked_in(started: datetime, tz: ZoneInfo, shift: ShiftView | None) -> Reply:
    text = f"Checked in at {started.astimezone(tz):%H:%M} {tz.key}."
    if shift is not None:
        text += f" Shift until {shift.ends_at.astimezone(tz):%H:%M}."
    return Reply.say(text + " /hdops checkout when you stop.")


def already_checked_in(started: datetime, tz: ZoneInfo) -> Reply:
    return Reply.say(f"You're already checked in since {started.astimezone(tz):%a %H:%M} {tz.key}.")


def checked_out(started: datetime, ended: datetime, tz: ZoneInfo) -> Reply:
    return Reply.say(
        f"Checked out at {ended.astimezone(tz):%H:%M} {tz.key}: "
        f"{duration(ended - started)} recorded. "
        "No more tasks will be pushed until you check in, /hdops next or your next shift."
    )


def not_checked_in() -> Reply:
    return Reply.say("You're not checked in. /hdops checkin to start your paid time.")
