"""Approving a week: the lock on its pay (SPEC §8).

Changes when the conditions for approval, or what approval locks, change.
Approval locks the week: from then on the ORM and database triggers refuse any
change to its statements, lines and adjustments. It approves only what ops were
last shown (the draft's revision), and takes the week's row lock first, so a
draft, adjustment or dispute racing it either lands before its last look or
waits and then finds the week approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings
from hdops.domain.money import money_text
from hdops.domain.payouts import WeekView
from hdops.domain.weeks import IsoWeek
from hdops.errors import Conflict
from hdops.render import payouts as render
from hdops.services import audit
from hdops.services.payouts.actors import Actor, require_ops
from hdops.services.payouts.drafting import draft_week, mark_shown, refresh_sent_statements
from hdops.services.payouts.keys import APPROVED_KEY, SUMMARY_KEY, SUMMARY_REF
from hdops.services.payouts.views import week_view
from hdops.store import payouts as q


def week_is_approved(session: Session, week: IsoWeek) -> bool:
    """Whether the week is approved. Callers are about to book something into it, so
    its row is locked (on PostgreSQL) and it cannot become approved before they commit:
    an approval in flight makes them wait, then they see it approved."""
    row = q.lock_week_row(session, str(week))
    return row is not None and row.status == "approved"


@dataclass(frozen=True)
class Approval:
    # approved | already | needs_confirmation (below the floor: --force) |
    # changed (not what ops were last shown: `view` shows it now, approve again)
    status: str
    view: WeekView


def approve_week(
    session: Session,
    actor: Actor,
    week: IsoWeek,
    now: datetime,
    settings: Settings,
    *,
    force: bool = False,
) -> Approval:
    """Lock the week's pay. Refused while the week is running, while disputes are
    open, while a check-in that overlaps the week is still open (its hours are not
    known yet), or when the statements changed since ops were last shown them
    (an adjustment, a late answer, a corrected check-in): then the result is
    `changed` with the refreshed view, which counts as shown, so approving again
    approves what ops have now seen. Effective rates below `HDOPS_MIN_HOURLY`
    need `force` (ops are warned first)."""
    require_ops(session, actor, "approve payouts")
    key = str(week)
    row = q.lock_week_row(session, key)
    if row is not None and row.status == "approved":
        return Approval("already", week_view(session, week, now, settings))
    if now < week.end(settings.ops_tz):
        raise Conflict(
            f"{week} has not ended yet (it ends {week.end(settings.ops_tz):%Y-%m-%d %H:%M} UTC); "
            "approve it once it is over."
        )
    open_disputes = q.disputes(session, key, only_open=True)
    if open_disputes:
        ids = ", ".join(f"#{d.id}" for d in open_disputes)
        raise Conflict(
            f"{week} has {len(open_disputes)} open dispute(s) ({ids}); accept or decline "
            "them before approving."
        )
    still_open = q.open_time_spans_before(session, week.end(settings.ops_tz))
    if still_open:
        names = q.people(session, [span.person_id for span in still_open])
        who = ", ".join(
            f"{names[span.person_id].display_name} (since "
            f"{span.started_at.astimezone(settings.ops_zone):%a %Y-%m-%d %H:%M})"
            for span in still_open
            if span.person_id in names
        )
        raise Conflict(
            f"{week} can't be approved yet: still checked in: {who}. Their hours are known "
            "once the check-in closes (at checkout, the shift's end, or by itself after "
            f"{settings.checkin_idle_minutes} min without activity)."
        )
    result = draft_week(session, week, now, settings)
    refresh_sent_statements(session, result, week, now, settings)
    row = q.get_week(session, key)
    if row is not None and row.revision != row.shown_revision:
        mark_shown(session, week)
        changed = week_view(session, week, now, settings)
        if q.outbox_key_used(session, SUMMARY_KEY.format(week=week)):  # keep it current
            intents.edit(session, SUMMARY_REF.format(week=week), render.week_summary(changed), now)
        return Approval("changed", changed)
    view = week_view(session, week, now, settings)
    if not view.statements:
        raise Conflict(f"{week} has no statements to approve.")
    if view.below_floor and not force:
        return Approval("needs_confirmation", view)
    stmts = q.statements(session, key)
    for stmt in stmts:
        stmt.status = "approved"
        stmt.approved_at = now
        stmt.approved_by = actor.person_id
    session.flush()  # statements first: the week's lock then forbids touching them
    row = q.get_week(session, key)
    assert row is not None  # draft_week created it with the statements
    row.status = "approved"
    row.approved_at = now
    row.approved_by = actor.person_id
    session.flush()
    totals = {c: money_text(t, c) for c, t in view.totals.items()}
    audit.record(
        session,
        "payout.approve",
        f"week:{key}",
        actor_id=actor.person_id,
        at=now,
        statements=len(stmts),
        totals=totals,
        below_floor=[s.name for s in view.below_floor],
        **actor.audit_details(),
    )
    approved = week_view(session, week, now, settings)
    if q.outbox_key_used(session, SUMMARY_KEY.format(week=week)):
        intents.edit(session, SUMMARY_REF.format(week=week), render.week_summary(approved), now)
    for s in approved.statements:
        intents.dm(
            session,
            s.person_id,
            render.statement_approved(s),
            now,
            dedupe_key=APPROVED_KEY.format(id=s.id),
        )
    return Approval("approved", approved)
