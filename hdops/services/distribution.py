"""The spread of work in a project (SPEC §6b): answers per contractor, the Gini
coefficient and the top-20 % share, all time or per ISO week.

Every report that shows the spread reads it here (`hdops project show`,
`/hdops project status`, the report figures the demo prints), so it is counted
one way everywhere; the rules are in `hdops.domain.distribution`, the queries
in `hdops.store.distribution`. Who counts: everyone offered a task of the
project in the period, or who answered one in it (see the store module).

Names: callers choose the label — display names for ops and researchers, or the
project's export pseudonyms (`rater-001`, given out as an export does, to those
who have none yet) for anything shared further. A contractor is never shown
this breakdown: their own view (`hdops.services.me`) reads only their own rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from hdops.domain.distribution import ContractorAnswers, Distribution
from hdops.domain.pseudonyms import next_aliases
from hdops.domain.weeks import IsoWeek
from hdops.services.projects import get_project
from hdops.store import distribution as q
from hdops.store import exports as export_store
from hdops.store.orm import Project

Names = Literal["display", "pseudonym"]


def project_distribution(
    session: Session,
    project_name: str,
    *,
    week: IsoWeek | None = None,
    tz: str = "UTC",
    names: Names = "display",
) -> Distribution:
    """The project's distribution, all time or in `week` (on the wall clock of `tz`)."""
    return distribution(session, get_project(session, project_name), week=week, tz=tz, names=names)


def distribution(
    session: Session,
    project: Project,
    *,
    week: IsoWeek | None = None,
    tz: str = "UTC",
    names: Names = "display",
) -> Distribution:
    start: datetime | None = week.start(tz) if week is not None else None
    end: datetime | None = week.end(tz) if week is not None else None
    rows = q.answers_per_participant(session, project.id, start, end)
    labels = (
        _pseudonyms(session, project.id, [r[0] for r in rows])
        if names == "pseudonym"
        else {person: display or name for person, name, display, _ in rows}
    )
    return Distribution.of(
        project.name,
        str(week) if week is not None else None,
        [ContractorAnswers(person, labels[person], n) for person, _, _, n in rows],
    )


def weekly_distributions(
    session: Session, project: Project, *, tz: str = "UTC", names: Names = "display"
) -> list[Distribution]:
    """One distribution per ISO week from the project's first work to its last,
    oldest first (weeks without work included: a gap is worth seeing)."""
    span = q.work_span(session, project.id)
    if span is None:
        return []
    week, last = IsoWeek.containing(span[0], tz), IsoWeek.containing(span[1], tz)
    weeks = []
    while week <= last:
        weeks.append(distribution(session, project, week=week, tz=tz, names=names))
        week = week.shift(1)
    return weeks


def _pseudonyms(session: Session, project_id: int, person_ids: list[int]) -> dict[int, str]:
    """The export pseudonyms of these people, handing out the next ones (as an
    export does, and kept for good) to those who have none yet."""
    have = q.aliases(session, project_id)
    missing = [p for p in sorted(person_ids) if p not in have]
    if missing:
        fresh = next_aliases(list(have.values()), len(missing))
        export_store.add_pseudonyms(session, project_id, list(zip(missing, fresh, strict=True)))
        have.update(zip(missing, fresh, strict=True))
    return have
