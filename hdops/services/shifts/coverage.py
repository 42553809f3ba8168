"""Coverage (SPEC §7): scheduled contractor-hours per day against the target, as a
report and as the daily digest to ops.

Changes when how coverage is counted or reported changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings
from hdops.domain import shifts as rules
from hdops.domain.shifts import CoverageDay, CoverageReport
from hdops.domain.weeks import parse_week
from hdops.render import charts
from hdops.render import shifts as render
from hdops.store import outbox
from hdops.store import shifts as q


def coverage_report(
    session: Session,
    settings: Settings,
    first_day: datetime | None = None,
    *,
    week: str | None = None,
    now: datetime,
) -> CoverageReport:
    """Scheduled contractor-hours per day (ops timezone) of one ISO week, or of the
    7 days from `first_day`'s local date."""
    zone = settings.ops_zone
    today = now.astimezone(zone).date()
    start_day = (
        first_day.astimezone(zone).date()
        if first_day is not None
        else parse_week(week, today).monday()
    )
    start = rules.local_to_utc(start_day, 0, zone)
    end = rules.local_to_utc(start_day + timedelta(days=7), 0, zone)
    shifts = q.shifts_between(session, start, end, role="contractor", live_only=True)
    minutes = rules.minutes_per_day([(s.starts_at, s.ends_at) for s in shifts], start_day, zone)
    counts = [0] * 7
    for s in shifts:
        index = (s.starts_at.astimezone(zone).date() - start_day).days
        if 0 <= index < 7:
            counts[index] += 1
    days = tuple(
        CoverageDay(start_day + timedelta(days=i), minutes[i], counts[i]) for i in range(7)
    )
    return CoverageReport(start_day, zone.key, int(settings.coverage_target_hours * 60), days)


def send_coverage_digest(session: Session, settings: Settings, now: datetime) -> bool:
    """The daily digest to ops: the next 7 days; on Mondays with the week's chart.
    Once per local day (deduplicated in the outbox)."""
    zone = settings.ops_zone
    today = now.astimezone(zone).date()
    report = coverage_report(session, settings, now, now=now)
    chart = charts.as_base64(charts.coverage_png(report)) if today.weekday() == 0 else None
    title = f"Coverage digest {today:%a %Y-%m-%d}: next 7 days"
    message = render.coverage_message(report, title=title, chart_png=chart)
    before = outbox.pending_count(session)
    intents.to_ops(session, message, now, dedupe_key=f"coverage:{today.isoformat()}")
    return outbox.pending_count(session) > before
