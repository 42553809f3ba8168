"""Wording about people: profile changes and the notice of a deactivation."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from hdops.chat import Context, Message, Paragraph, defang_mentions
from hdops.domain.money import format_rate
from hdops.domain.people import PersonChange
from hdops.render.shifts import ShiftView, shift_label


def _rate(pair: tuple[Decimal | None, str]) -> str:
    rate, currency = pair
    return "none" if rate is None else f"{format_rate(rate, currency)} {currency}/h"


def change_line(change: PersonChange) -> str:
    """One line per change, as `hdops person update` prints it."""
    kind, before, after = change.kind, change.before, change.after
    if kind == "identity_add":
        return f"added identity {after}"
    if kind == "identity_remove":
        return f"removed identity {before}"
    if kind == "skills":
        return f"skills: {', '.join(before) or 'none'} → {', '.join(after) or 'none'}"
    if kind == "rate":
        return f"hourly rate: {_rate(before)} → {_rate(after)} (from now on)"
    if kind == "tz":
        return f"timezone: {before or 'ops timezone'} → {after}"
    if kind == "display_name":
        return f"display name: {before} → {after}"
    return f"{kind}: {before} → {after}"


def deactivated_notice(withdrawn: int, cancelled: int) -> Message:
    """What a person is told when ops deactivate them."""
    lines = ["Ops have ended your work in hdops: you won't get tasks or shifts any more."]
    if withdrawn:
        lines.append(
            "Your open task went back to the pool."
            if withdrawn == 1
            else f"Your {withdrawn} open tasks went back to the pool."
        )
    if cancelled:
        lines.append(
            "Your upcoming shift is cancelled."
            if cancelled == 1
            else f"Your {cancelled} upcoming shifts are cancelled."
        )
    lines.append("What you earned so far is kept and paid as usual.")
    text = " ".join(lines)
    return Message(
        text=text,
        parts=[Paragraph(text=text), Context(text="Questions? Ask ops.")],
    )


def swap_void(view: ShiftView, tz: ZoneInfo, other: str) -> Message:
    """To a shift's owner whose swap request went to someone since deactivated."""
    text = (
        f"{defang_mentions(other)} can no longer take over your shift {shift_label(view, tz)}: "
        "they are no longer working with hdops. The shift is still yours; "
        "/hdops shift swap asks someone else."
    )
    return Message(text=text, parts=[Paragraph(text=text)])
