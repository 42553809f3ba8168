"""Report figures read from the store: a project's progress, its contractors'
work, its clarifications and instructions; the outbox; a week of shifts.

Anything that reports on what hdops recorded (the demo's report today; the
project status in chat, the quality report and the weekly digest as they come)
reads it here, so one figure is counted one way everywhere. The queries are in
`hdops.store.reports`, the figures and their pure rules in `hdops.domain.reports`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.domain import reports as figures
from hdops.domain import shifts as shift_rules
from hdops.domain.projects import Qualification
from hdops.domain.reports import (
    ClarificationFigures,
    ContractorFigures,
    DeliveryFigures,
    InstructionFigures,
    OpenWork,
    ProjectFigures,
    ShiftWeekFigures,
)
from hdops.services import distribution
from hdops.services.projects import get_project, project_spec
from hdops.services.scheduling import MARKER_PREFIX, marker_kind
from hdops.services.shifts import coverage_report
from hdops.store import outbox
from hdops.store import reports as q


def project_figures(session: Session, project_name: str, *, tz: str = "UTC") -> ProjectFigures:
    """Everything the reports show about one project (NotFound if there is none);
    weeks are read on the wall clock of `tz` (the ops timezone)."""
    project = get_project(session, project_name)
    pid = project.id
    qual = project_spec(project).qualification
    items, gold_items, completed, raised = q.item_counts(session, pid, project.overlap)
    by_status = q.assignments_by_status(session, pid)
    return ProjectFigures(
        name=project.name,
        title=project.title,
        status=project.status,
        overlap=project.overlap,
        qualification=qual,
        items=items,
        gold_items=gold_items,
        items_completed=completed,
        items_raised=raised,
        answers=q.accepted_answers(session, pid),
        skips=by_status.get("skipped", 0),
        expired=by_status.get("expired", 0),
        contractors=_contractors(session, pid, qual),
        clarifications=_clarifications(session, pid),
        instructions=_instructions(session, pid),
        distribution=distribution.distribution(session, project),
        weekly=tuple(distribution.weekly_distributions(session, project, tz=tz)),
    )


def _contractors(
    session: Session, project_id: int, qual: Qualification | None
) -> tuple[ContractorFigures, ...]:
    records = q.answer_records(session, project_id)
    latest_gold = q.latest_gold(session, project_id) if qual is not None else {}
    seconds = q.answer_seconds(session, project_id)
    questions = q.questions_by_person(session, project_id)
    skips = q.skips_by_person(session, project_id)
    rows = []
    for person_id, name, display_name in q.contractors(session, project_id):
        answers, gold_answered, gold_correct = records.get(person_id, (0, 0, 0))
        rows.append(
            ContractorFigures(
                name=name,
                display_name=display_name,
                answers=answers,
                gold_answered=gold_answered,
                gold_correct=gold_correct,
                median_seconds=figures.median(seconds.get(person_id, [])),
                questions=questions.get(person_id, 0),
                skips=skips.get(person_id, 0),
                status=figures.qualification_status(
                    qual, gold_answered, gold_correct, latest_gold.get(person_id, ())
                ),
            )
        )
    rows.sort(key=lambda r: (-r.answers, r.name))
    return tuple(rows)


def _clarifications(session: Session, project_id: int) -> ClarificationFigures:
    timings = q.clarification_timings(session, project_id)
    waited = tuple(
        int((first - opened).total_seconds()) for opened, first, _, _ in timings if first
    )
    return ClarificationFigures(
        asked=len(timings),
        answered=len(waited),
        resolved=sum(1 for _, _, status, _ in timings if status == "resolved"),
        escalated=sum(1 for _, _, _, escalations in timings if escalations > 0),
        first_answer_seconds=waited,
    )


def _instructions(session: Session, project_id: int) -> InstructionFigures:
    versions = q.instruction_versions(session, project_id)
    current_id, current = versions[-1]  # a project always has its first version
    per_version = q.answers_by_version(session, project_id)
    return InstructionFigures(
        current_version=current,
        faq=tuple(q.faq_questions(session, current_id)),
        answers_by_version=tuple((v, per_version.get(vid, 0)) for vid, v in versions),
    )


def delivery_figures(session: Session) -> DeliveryFigures:
    """The outbox by status, every message ever written."""
    counts = outbox.counts(session, ("sent", "pending", "failed"))
    return DeliveryFigures(
        sent=counts.get("sent", 0),
        pending=counts.get("pending", 0),
        failed=counts.get("failed", 0),
    )


def open_work(session: Session) -> OpenWork:
    """What is left to do in every project (a simulation stops when nothing is)."""
    return OpenWork(*q.open_work(session))


def shift_week_figures(
    session: Session, settings: Settings, week: str, *, now: datetime
) -> ShiftWeekFigures:
    """One ISO week (`this`, `next` or `YYYY-Www`, ops timezone): its coverage, and
    what the scheduler and people did in it (reminders, starts, no-shows, check-ins)."""
    coverage = coverage_report(session, settings, week=week, now=now)
    start = shift_rules.local_to_utc(coverage.monday, 0, settings.ops_zone)
    end = shift_rules.local_to_utc(coverage.monday + timedelta(days=7), 0, settings.ops_zone)
    kinds = [marker_kind(k) for k in q.keyed_messages(session, MARKER_PREFIX, start, end)]
    entries = q.time_entries(session, start, end)
    return ShiftWeekFigures(
        coverage=coverage,
        shifts=q.shifts_starting(session, start, end),
        reminders_day_before=kinds.count("remind24h"),
        reminders_15=kinds.count("remind15"),
        started=kinds.count("start"),
        no_shows=tuple(q.no_shows(session, start, end)),
        check_ins=len(entries),
        minutes_checked_in=sum(
            int((ended - started).total_seconds() // 60) for started, ended in entries if ended
        ),
    )
