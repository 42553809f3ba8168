"""The Monday job: draft last week and publish it (SPEC §8).

Changes when what is sent each week, or to whom, changes: the ops summary with
Approve, and each contractor's own statement, each queued once however often
the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings, load_settings
from hdops.domain.weeks import IsoWeek
from hdops.render import payouts as render
from hdops.services.payouts.drafting import draft_week, mark_shown, refresh_sent_statements
from hdops.services.payouts.keys import STATEMENT_KEY, STATEMENT_REF, SUMMARY_KEY, SUMMARY_REF
from hdops.services.payouts.views import week_view
from hdops.store import payouts as q
from hdops.store.orm import PayoutStatement


@dataclass(frozen=True)
class WeeklyRun:
    week: IsoWeek
    statements: int
    created: int
    dms_queued: int
    summary_queued: bool


def run_weekly_payouts(
    session: Session, now: datetime, settings: Settings | None = None
) -> WeeklyRun:
    """The Monday 09:00 job: draft the previous ISO week (ops timezone), post the ops
    summary with Approve, and DM every contractor their own statement.

    Idempotent: running it twice, or again after a restart, drafts one set of
    statements (drafting is idempotent) and queues each message once (outbox dedupe
    keys per week and per statement)."""
    settings = settings or load_settings()
    week = IsoWeek.containing(now, settings.ops_tz).shift(-1)
    result = draft_week(session, week, now, settings)
    refresh_sent_statements(session, result, week, now, settings)
    return publish_week(session, week, now, settings, created=len(result.created))


def publish_week(
    session: Session, week: IsoWeek, now: datetime, settings: Settings, *, created: int = 0
) -> WeeklyRun:
    """Queue the ops summary and each contractor's statement, once each."""
    view = week_view(session, week, now, settings)
    summary_key = SUMMARY_KEY.format(week=week)
    summary_new = not q.outbox_key_used(session, summary_key)
    if summary_new:
        mark_shown(session, week)
        intents.to_ops(
            session,
            render.week_summary(view, render.summary_chart(view)),
            now,
            dedupe_key=summary_key,
            ref=SUMMARY_REF.format(week=week),
        )
    queued = 0
    for s in view.statements:
        key = STATEMENT_KEY.format(id=s.id)
        if q.outbox_key_used(session, key):
            continue
        intents.dm(
            session,
            s.person_id,
            render.statement_message(s, disputable=True),
            now,
            ref=STATEMENT_REF.format(id=s.id),
            dedupe_key=key,
        )
        queued += 1
        stmt = session.get(PayoutStatement, s.id)
        if stmt is not None and stmt.status == "draft" and stmt.sent_at is None:
            stmt.sent_at = now
    return WeeklyRun(week, len(view.statements), created, queued, summary_new)
