"""Queries behind a contractor's own view (`/hdops me`): one person's work per
project, all time and in one period. Every query is filtered by that person, so
the view can only ever hold their own rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from hdops.store.orm import Answer, Assignment, Clarification, Project


@dataclass(frozen=True)
class OwnProjectRow:
    """One person's record in one project: all time, and in the period asked for."""

    project_id: int
    name: str
    title: str
    spec: dict[str, object]
    answers: int  # accepted
    answers_in_period: int
    rejected: int
    gold_answered: int  # accepted gold answers (what the qualification rule reads)
    gold_correct: int
    skips: int
    skips_in_period: int
    questions: int
    questions_in_period: int


def _counts(
    session: Session, person_id: int, start: datetime, end: datetime
) -> dict[int, dict[str, int]]:
    """Per project id: the person's counts, keyed by figure name."""
    figures: dict[int, dict[str, int]] = {}

    def put(project_id: int, **values: int) -> None:
        figures.setdefault(int(project_id), {}).update(values)

    in_period = and_(Answer.answered_at >= start, Answer.answered_at < end)
    accepted = Answer.status == "accepted"
    for pid, answers, recent, rejected, gold, right in session.execute(
        select(
            Answer.project_id,
            func.count(Answer.id).filter(accepted),
            func.count(Answer.id).filter(accepted, in_period),
            func.count(Answer.id).filter(Answer.status == "rejected"),
            func.count(Answer.id).filter(accepted, Answer.gold_correct.is_not(None)),
            func.count(Answer.id).filter(accepted, Answer.gold_correct.is_(True)),
        )
        .where(Answer.person_id == person_id)
        .group_by(Answer.project_id)
    ):
        put(pid, answers=answers, recent=recent, rejected=rejected, gold=gold, right=right)
    skipped_recently = and_(Assignment.closed_at >= start, Assignment.closed_at < end)
    for pid, skips, recent_skips, offered in session.execute(
        select(
            Assignment.project_id,
            func.count(Assignment.id).filter(Assignment.status == "skipped"),
            func.count(Assignment.id).filter(Assignment.status == "skipped", skipped_recently),
            func.count(Assignment.id),
        )
        .where(Assignment.person_id == person_id)
        .group_by(Assignment.project_id)
    ):
        put(pid, skips=skips, recent_skips=recent_skips, offered=offered)
    asked_recently = and_(Clarification.opened_at >= start, Clarification.opened_at < end)
    for pid, asked, recent_asked in session.execute(
        select(
            Clarification.project_id,
            func.count(Clarification.id),
            func.count(Clarification.id).filter(asked_recently),
        )
        .where(Clarification.person_id == person_id)
        .group_by(Clarification.project_id)
    ):
        put(pid, asked=asked, recent_asked=recent_asked)
    return figures


def own_projects(
    session: Session, person_id: int, start: datetime, end: datetime
) -> list[OwnProjectRow]:
    """The person's record in every project they were offered a task of or asked
    about, with counts in [start, end) beside the totals; by project title."""
    figures = _counts(session, person_id, start, end)
    if not figures:
        return []
    projects = session.execute(
        select(Project.id, Project.name, Project.title, Project.spec)
        .where(Project.id.in_(sorted(figures)))
        .order_by(Project.title, Project.name)
    )
    rows = []
    for pid, name, title, spec in projects:
        f = figures[int(pid)]
        rows.append(
            OwnProjectRow(
                project_id=int(pid),
                name=name,
                title=title,
                spec=dict(spec),
                answers=f.get("answers", 0),
                answers_in_period=f.get("recent", 0),
                rejected=f.get("rejected", 0),
                gold_answered=f.get("gold", 0),
                gold_correct=f.get("right", 0),
                skips=f.get("skips", 0),
                skips_in_period=f.get("recent_skips", 0),
                questions=f.get("asked", 0),
                questions_in_period=f.get("recent_asked", 0),
            )
        )
    return rows
