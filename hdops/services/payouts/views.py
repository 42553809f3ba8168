"""The week as people read it: statements, lines and disputes as stored.

Changes when what a statement or the week shows changes. Read only: these views
never draft (drafting and `show_week` are in `drafting`); the CLI, chat replies,
messages and exports all render from them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.domain.money import round_money
from hdops.domain.payouts import DisputeView, LineView, StatementView, WeekView
from hdops.domain.weeks import IsoWeek
from hdops.errors import Conflict
from hdops.store import payouts as q
from hdops.store.orm import Dispute, Person


def week_view(
    session: Session,
    week: IsoWeek,
    now: datetime,
    settings: Settings,
    *,
    person_id: int | None = None,
) -> WeekView:
    """The week as stored (drafts or the approved snapshot), for rendering."""
    key = str(week)
    row = q.get_week(session, key)
    stmts = q.statements(session, key, person_id)
    all_disputes = q.disputes(session, key)
    people = q.people(
        session,
        [s.person_id for s in stmts]
        + [d.person_id for d in all_disputes]
        + [d.resolved_by for d in all_disputes if d.resolved_by is not None]
        + ([row.approved_by] if row is not None and row.approved_by is not None else []),
    )
    open_by_line = {d.line_id: d.id for d in all_disputes if d.status == "open"}
    projects = q.project_names(session) if stmts else {}
    views = []
    for s in stmts:
        person = people.get(s.person_id)
        views.append(
            StatementView(
                id=s.id,
                person_id=s.person_id,
                name=person.name if person else "?",
                display_name=person.display_name if person else "?",
                week=week,
                currency=s.currency,
                status=s.status,
                total=round_money(s.total, s.currency),  # stored with 4 places
                tasks=s.tasks,
                seconds_worked=s.seconds_worked,
                active_seconds=s.active_seconds,
                lines=tuple(
                    LineView(
                        id=line.id,
                        position=line.position,
                        kind=line.kind,
                        description=line.description,
                        quantity=line.quantity,
                        unit_amount=line.unit_amount,
                        amount=round_money(line.amount, s.currency),
                        open_dispute=open_by_line.get(line.id),
                        project=projects.get(line.project_id, "") if line.project_id else "",
                    )
                    for line in s.lines
                ),
                floor=settings.min_hourly,
            )
        )
    shown = [d for d in all_disputes if person_id is None or d.person_id == person_id]
    approver = people.get(row.approved_by) if row is not None and row.approved_by else None
    return WeekView(
        week=week,
        tz=settings.ops_tz,
        status="none" if row is None else row.status,
        ended=now >= week.end(settings.ops_tz),
        statements=tuple(views),
        disputes=tuple(dispute_view(session, d, people) for d in shown),
        approved_at=row.approved_at if row is not None else None,
        approved_by=approver.display_name if approver is not None else None,
        floor=settings.min_hourly,
    )


def dispute_view(session: Session, d: Dispute, people: dict[int, Person]) -> DisputeView:
    found = q.line_with_statement(session, d.line_id)
    line, stmt = found if found is not None else (None, None)
    person = people.get(d.person_id)
    resolver = people.get(d.resolved_by) if d.resolved_by else None
    return DisputeView(
        id=d.id,
        line_id=d.line_id,
        person_id=d.person_id,
        person=person.display_name if person else "?",
        week=d.week,
        reason=d.reason,
        status=d.status,
        line=f"line {line.position}: {line.description}" if line is not None else "?",
        amount=line.amount if line is not None else Decimal(0),
        currency=stmt.currency if stmt is not None else "",
        resolution=d.resolution,
        resolved_by=resolver.display_name if resolver else None,
    )


def export_view(
    session: Session,
    week: IsoWeek,
    now: datetime,
    settings: Settings,
    *,
    include_draft: bool = False,
) -> WeekView:
    """The week to export for payment: only an approved week, unless `include_draft`
    (a preview)."""
    view = week_view(session, week, now, settings)
    if view.status != "approved" and not include_draft:
        raise Conflict(
            f"{week} is not approved yet; approve it first, or pass --include-draft for a preview."
        )
    return view
