"""Shifts, swaps, availability, coverage and the shift jobs (SPEC §7).

Use cases called by the command layer (chat and CLI alike) and by the scheduled
jobs, one module per reason to change:

- `shifts`: adding, moving, cancelling and listing shifts (and the calendar
  feed), plus what the other modules share: a person's timezone, a shift's
  view, telling people, refusing clashes;
- `swaps`: offering a shift to someone else, and their answer;
- `availability`: the weekly windows people say they can work;
- `coverage`: scheduled hours per day against the target, and the daily digest;
- `jobs`: what the scheduler runs at a shift's times (reminders, start,
  no-show, end, closing a forgotten check-in).

Time tracking (check-in, check-out, fixes, closing idle check-ins) stays beside
this package in `hdops.services.checkins`: it is paid time, a ledger of payouts
as much as a part of shifts (it books into unapproved weeks only), it runs on
every message a contractor sends (`note_activity`), and people check in without
a shift too. It uses this package; this package does not use it.

The names below are re-exported for callers that take the package as one
module (`hdops.core`, the scheduler's jobs, the demo, tests); code inside
`hdops.services`, the CLI and the chat commands imports the module that owns a
name.
"""

from hdops.services.shifts.coverage import coverage_report, send_coverage_digest
from hdops.services.shifts.jobs import run_shift_job
from hdops.services.shifts.shifts import add_shifts, ics_feed, zone_of
from hdops.services.shifts.swaps import answer_swap

__all__ = [
    "add_shifts",
    "answer_swap",
    "coverage_report",
    "ics_feed",
    "run_shift_job",
    "send_coverage_digest",
    "zone_of",
]
