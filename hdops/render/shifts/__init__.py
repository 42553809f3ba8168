"""Shift, availability, time-tracking and coverage messages (SPEC §7).

Times are shown in the reader's timezone, always with the zone's name, so a
message forwarded to someone elsewhere is still unambiguous.

One module per kind of message: `formatting` (`ShiftView` and the shared
wording), `schedule` (replies to ops scheduling), `notices` (shift changes,
reminders, starts, no-shows), `checkins` (time tracking), `swaps`,
`availability` and `coverage`. Everything is re-exported here, so callers keep
`from hdops.render import shifts as render`.
"""

from __future__ import annotations

from hdops.render.shifts.availability import (
    availability_added,
    availability_cleared,
    availability_list,
    window_text,
)
from hdops.render.shifts.checkins import (
    FIX_HINT,
    already_checked_in,
    auto_closed,
    auto_closed_for_contractor,
    check_in_fix_form,
    check_in_fixed,
    check_in_fixed_reply,
    checked_in,
    checked_out,
    idle_closed,
    not_checked_in,
)
from hdops.render.shifts.coverage import coverage_message, coverage_table
from hdops.render.shifts.formatting import (
    STATUS_TEXT,
    ShiftView,
    day_text,
    hours,
    shift_label,
    time_span,
    when,
)
from hdops.render.shifts.notices import (
    CHANGE_TEXT,
    no_show,
    reminder,
    series_assigned,
    shift_change,
    shift_started,
)
from hdops.render.shifts.schedule import (
    clash_text,
    outside_availability,
    shift_cancelled_reply,
    shift_moved_reply,
    shifts_added,
    shifts_table,
)
from hdops.render.shifts.swaps import (
    swap_asked_reply,
    swap_closed,
    swap_declined,
    swap_request,
    swap_to_ops,
)

__all__ = [
    "CHANGE_TEXT",
    "FIX_HINT",
    "STATUS_TEXT",
    "ShiftView",
    "already_checked_in",
    "auto_closed",
    "auto_closed_for_contractor",
    "availability_added",
    "availability_cleared",
    "availability_list",
    "check_in_fix_form",
    "check_in_fixed",
    "check_in_fixed_reply",
    "checked_in",
    "checked_out",
    "clash_text",
    "coverage_message",
    "coverage_table",
    "day_text",
    "hours",
    "idle_closed",
    "no_show",
    "not_checked_in",
    "outside_availability",
    "reminder",
    "series_assigned",
    "shift_cancelled_reply",
    "shift_change",
    "shift_label",
    "shift_moved_reply",
    "shift_started",
    "shifts_added",
    "shifts_table",
    "swap_asked_reply",
    "swap_closed",
    "swap_declined",
    "swap_request",
    "swap_to_ops",
    "time_span",
    "when",
    "window_text",
]
