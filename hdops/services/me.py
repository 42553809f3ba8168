"""A contractor's own view (`/hdops me`, SPEC §6b): their work per project, their
gold record and standing, skips and questions, and this week's earnings so far.

Read only, and only their own rows: the queries (`hdops.store.me`) and the
earnings (`hdops.services.payouts.drafting.earnings_so_far`, the statement's own
pricing) are all filtered by the person, so nobody else's numbers or names can
reach the reply. "This week" is the ISO week on the ops clock, as payouts use it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.domain.me import OwnEarnings, OwnFigures, OwnProject
from hdops.domain.projects import parse_project_spec
from hdops.domain.reports import qualification_status
from hdops.domain.weeks import IsoWeek
from hdops.errors import InvalidInput
from hdops.services.payouts.drafting import earnings_so_far
from hdops.services.quality import rater_agreement
from hdops.store import me as q
from hdops.store.orm import Person


def _own_agreement(session: Session, project_name: str, person_id: int) -> float | None:
    """Their agreement with the others' consensus in the project (from the answers on
    their own items only: see `rater_agreement`)."""
    try:
        return rater_agreement(session, project_name, person_id)
    except InvalidInput:
        return None


def own_figures(session: Session, person: Person, now: datetime, settings: Settings) -> OwnFigures:
    tz = settings.ops_tz
    week = IsoWeek.containing(now, tz)
    projects = []
    for row in q.own_projects(session, person.id, week.start(tz), week.end(tz)):
        qual = parse_project_spec({**row.spec, "instructions": ""}).qualification
        projects.append(
            OwnProject(
                name=row.name,
                title=row.title,
                answers=row.answers,
                answers_week=row.answers_in_period,
                rejected=row.rejected,
                gold_answered=row.gold_answered,
                gold_correct=row.gold_correct,
                standing=qualification_status(qual, row.gold_answered, row.gold_correct),
                skips=row.skips,
                skips_week=row.skips_in_period,
                questions=row.questions,
                questions_week=row.questions_in_period,
                agreement=_own_agreement(session, row.name, person.id),
            )
        )
    earnings = tuple(
        OwnEarnings(d.currency, d.total, d.tasks, d.seconds_worked)
        for d in earnings_so_far(session, week, now, settings, person.id)
    )
    return OwnFigures(
        display_name=person.display_name or person.name,
        week=str(week),
        projects=tuple(projects),
        earnings=earnings,
    )
