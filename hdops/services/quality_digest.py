"""The weekly quality digest (SPEC §6b): each project's researchers get, once a week,
its progress, agreement, gold accuracy, spread of work and open questions in a
direct message. Run by the scheduler on Monday mornings; deduplicated per project,
researcher and week in the outbox, so a second run (or a restart) sends nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings
from hdops.domain.weeks import IsoWeek
from hdops.errors import InvalidInput
from hdops.render.quality_digest import quality_digest
from hdops.services.clarifications import researchers_of
from hdops.services.people import find_person
from hdops.services.projects import list_projects
from hdops.services.quality import project_quality
from hdops.services.reports import project_figures
from hdops.store import outbox


def send_quality_digests(session: Session, settings: Settings, now: datetime) -> int:
    """Queue last week's digest of every active project to its researchers; how many
    messages were queued (0 when this week's were queued already)."""
    week = IsoWeek.containing(now, settings.ops_tz).shift(-1)
    before = outbox.pending_count(session)
    for project in list_projects(session):
        if project.status != "active":
            continue
        people = [find_person(session, ref) for ref in researchers_of(project)]
        readers = sorted({p.id for p in people if p is not None})
        if not readers:
            continue
        figures = project_figures(session, project.name)
        try:
            quality = project_quality(session, project.name) if figures.answers else None
        except InvalidInput:
            quality = None
        message = quality_digest(week, figures, quality)
        for person_id in readers:
            key = f"qdigest:{project.id}:{person_id}:{week}"
            intents.dm(session, person_id, message, now, dedupe_key=key)
    return outbox.pending_count(session) - before
