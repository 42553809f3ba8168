"""Weekly payouts (SPEC §8), being split into modules (the old module is `drafting`)."""

from hdops.services.payouts.drafting import (
    Actor,
    Approval,
    WeeklyRun,
    add_adjustment,
    approve_week,
    cli_actor,
    dispute_view,
    draft_week,
    export_week_csv,
    mark_shown,
    run_weekly_payouts,
    show_week,
    view_json,
    week_is_approved,
    week_view,
)

__all__ = [
    "Actor",
    "Approval",
    "WeeklyRun",
    "add_adjustment",
    "approve_week",
    "cli_actor",
    "dispute_view",
    "draft_week",
    "export_week_csv",
    "mark_shown",
    "run_weekly_payouts",
    "show_week",
    "view_json",
    "week_is_approved",
    "week_view",
]
