"""Weekly payouts (SPEC §8): draft, show, adjust, approve.

The ledger is what the store already holds — accepted answers with the per-task
rate they were given at, check-ins with the hourly rate snapshot taken at
check-in, and ops adjustments — so a later rate change never rewrites past
earnings. A week's statements are derived from that ledger; approval locks them,
and corrections go into a later week.

One module per reason to change:

- `drafting`: computing a week's statements from the ledger and keeping the
  draft (and the statements already sent) current; `show_week` drafts on demand;
- `weekly`: the Monday job that drafts last week and publishes it;
- `approval`: the lock on a week's pay, and the race against it;
- `adjustments`: bonuses and corrections booked by ops;
- `views`: the week as stored, for rendering;
- `actors`: who acts, for the permission check and the audit log;
- `keys`: the outbox keys and refs of the payout messages.

Shaping a week for scripts (JSON) and for payment (CSV) is output, not a use
case: it is in `hdops.cli.payouts_export`, next to the command that prints it.

The names below are re-exported for callers outside `hdops` (the scheduler's
jobs, the demo, tests, benchmarks); code inside `hdops` imports the module that
owns a name.
"""

from hdops.services.payouts.actors import Actor, cli_actor
from hdops.services.payouts.adjustments import add_adjustment
from hdops.services.payouts.approval import Approval, approve_week
from hdops.services.payouts.drafting import DraftResult, draft_week, mark_shown, show_week
from hdops.services.payouts.views import week_view
from hdops.services.payouts.weekly import WeeklyRun, run_weekly_payouts

__all__ = [
    "Actor",
    "Approval",
    "DraftResult",
    "WeeklyRun",
    "add_adjustment",
    "approve_week",
    "cli_actor",
    "draft_week",
    "mark_shown",
    "run_weekly_payouts",
    "show_week",
    "week_view",
]
