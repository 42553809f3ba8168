"""Shift, availability, time-tracking and coverage messages (SPEC §7).

Times are shown in the reader's timezone, always with the zone's name, so a
message forwarded to someone elsewhere is still unambiguous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hdops import actions
from hdops.chat import (
    Actions,
    Button,
    Context,
    Form,
    FormField,
    Heading,
    Image,
    Message,
    Paragraph,
    Reply,
    Table,
    defang_mentions,
)
from hdops.domain.shifts import WEEKDAYS, CoverageReport, Window, hhmm


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


def _say(text: str) -> Message:
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


def _duration(delta: timedelta) -> str:
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


# --------------------------------------------------------------------------- ops replies


def shifts_table(views: Sequence[ShiftView], tz: ZoneInfo, title: str) -> Message:
    if not views:
        return _say(f"{title}: no shifts.")
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


# --------------------------------------------------------------------------- contractor DMs

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
        return _say(text)
    text = f"Your shift has started (until {until} {tz.key})."
    text += (
        " Your first task is below."
        if pushed
        else " Tasks will come here as soon as there is work."
    )
    if not checked_in:
        text += " Use /hdops checkin to start your paid time."
    return _say(text)


def no_show(view: ShiftView, tz: ZoneInfo, minutes: int) -> Message:
    text = (
        f"No-show: {defang_mentions(view.person)} has not checked in {minutes} min after "
        f"the start of shift {shift_label(view, tz)}."
    )
    return Message(text=text, parts=[Heading(text="No-show"), Paragraph(text=text)])


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
        f"happened for {idle_minutes} minutes after it. {_duration(ended - started)} "
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
        f"{ended.astimezone(tz):%H:%M} {tz.key} ({_duration(ended - started)}). "
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
        f"({_duration(after - started)}). Reason: {defang_mentions(reason)}"
    )
    return Message(text=text, parts=[Heading(text="Check-in corrected"), Paragraph(text=text)])


# --------------------------------------------------------------------------- swaps


def swap_request(view: ShiftView, tz: ZoneInfo, requester: str, person_id: int) -> Message:
    text = f"{defang_mentions(requester)} asks you to take over shift {shift_label(view, tz)}."
    return Message(
        text=text,
        parts=[
            Heading(text="Shift swap"),
            Paragraph(text=text),
            Actions(
                controls=[
                    Button(
                        action_id=actions.encode(actions.SWAP_OK, view.id, str(person_id)),
                        label="Accept",
                        style="primary",
                    ),
                    Button(
                        action_id=actions.encode(actions.SWAP_NO, view.id, str(person_id)),
                        label="Decline",
                    ),
                ]
            ),
        ],
    )


def swap_asked_reply(view: ShiftView, tz: ZoneInfo, other: str) -> Reply:
    return Reply.say(
        f"Asked {defang_mentions(other)} to take over shift {shift_label(view, tz)}. "
        "You keep it until they accept."
    )


def swap_closed(view: ShiftView, tz: ZoneInfo, requester: str, accepted: bool) -> Message:
    """The swap request, edited once answered (no buttons any more)."""
    verdict = "✓ You accepted" if accepted else "✗ You declined"
    text = f"{verdict} taking over shift {shift_label(view, tz)} from {defang_mentions(requester)}."
    return Message(text=text, parts=[Heading(text="Shift swap"), Paragraph(text=text)])


def swap_declined(view: ShiftView, tz: ZoneInfo, other: str) -> Message:
    return _say(
        f"{defang_mentions(other)} declined to take over your shift {shift_label(view, tz)}. "
        "It is still yours."
    )


def swap_to_ops(view: ShiftView, tz: ZoneInfo, before: str, after: str) -> Message:
    text = (
        f"Shift swap: {defang_mentions(after)} took over shift {shift_label(view, tz)} "
        f"from {defang_mentions(before)}."
    )
    return _say(text)


# --------------------------------------------------------------------------- time tracking


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
        f"{_duration(ended - started)} recorded. "
        "No more tasks will be pushed until you check in, /hdops next or your next shift."
    )


def not_checked_in() -> Reply:
    return Reply.say("You're not checked in. /hdops checkin to start your paid time.")


# --------------------------------------------------------------------------- availability


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


# --------------------------------------------------------------------------- coverage


def coverage_table(report: CoverageReport) -> Table:
    rows = []
    for d in report.days:
        short = max(0, report.target_minutes - d.minutes)
        rows.append(
            [
                d.day.strftime("%a %Y-%m-%d"),
                hours(d.minutes),
                hours(report.target_minutes),
                str(d.shifts),
                f"-{hours(short)}" if short else "ok",
            ]
        )
    rows.append(
        [
            "total",
            hours(report.total_minutes),
            hours(report.target_minutes * len(report.days)),
            str(sum(d.shifts for d in report.days)),
            "",
        ]
    )
    return Table(columns=["day", "hours", "target", "shifts", "gap"], rows=rows)


def _gap_lines(report: CoverageReport) -> str:
    gaps = report.gaps()
    if not gaps:
        return "No gaps: every day meets the target."
    return "Gaps: " + "; ".join(f"{d.day:%a} short {hours(missing)} h" for d, missing in gaps) + "."


def coverage_message(
    report: CoverageReport, *, title: str | None = None, chart_png: str | None = None
) -> Message:
    """The coverage report; with `chart_png` (base64) the chart is attached."""
    head = title or f"Coverage {report.week}"
    parts: list[Heading | Table | Paragraph | Context | Image] = [
        Heading(text=head),
        coverage_table(report),
        Paragraph(text=_gap_lines(report)),
        Context(
            text=f"Scheduled contractor-hours per day ({report.tz}); "
            f"target {hours(report.target_minutes)} h a day."
        ),
    ]
    if chart_png is not None:
        parts.append(
            Image(
                filename=f"coverage-{report.week}.png",
                title=f"Coverage {report.week}",
                png_base64=chart_png,
            )
        )
    gaps = len(report.gaps())
    summary = f"{head}: {hours(report.total_minutes)} h scheduled, {gaps} day(s) under target"
    return Message(text=summary, parts=list(parts))
