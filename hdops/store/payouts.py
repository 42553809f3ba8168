"""SQL for payouts (SPEC §8): the week's earnings as aggregates, statements, disputes.

Earnings are read with `GROUP BY` in the database, never by loading answers:
one row per (person, currency, project, rate, status) however many answers a
week has, so drafting a week of a million answers moves a few thousand rows.
Money columns are exact on both backends (`Money`), so `SUM` is exact too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Integer, Select, Table, any_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, selectinload

from hdops.store.bulk import insert_rows
from hdops.store.orm import (
    Adjustment,
    Answer,
    AuditEntry,
    Dispute,
    Item,
    OutboxMessage,
    PayoutLine,
    PayoutStatement,
    PayoutWeek,
    Person,
    Project,
    RateChange,
    TimeEntry,
)

# The audit action `hdops.services.answers.reject_answer` records; corrections for
# answers rejected after their week was approved are found through it.
REJECT_AUDIT_ACTION = "answer.reject"


@dataclass(frozen=True, slots=True)
class AnswerGroup:
    person_id: int
    currency: str
    project_id: int
    rate: Decimal
    status: str
    count: int
    seconds: int


@dataclass(frozen=True, slots=True)
class RejectedAnswer:
    answer_id: int
    person_id: int
    currency: str
    project_id: int
    rate: Decimal
    reason: str
    item: str


@dataclass(frozen=True, slots=True)
class TimeSpan:
    person_id: int
    started_at: datetime
    ended_at: datetime | None
    hourly_rate: Decimal | None
    currency: str


@dataclass(frozen=True, slots=True)
class LateRejection:
    """An answer rejected after the week it was answered in was approved (paid)."""

    answer_id: int
    person_id: int
    currency: str
    rate: Decimal
    project_id: int
    item: str
    answered_at: datetime
    rejected_at: datetime | None
    reason: str


def answer_groups(
    session: Session, start: datetime, end: datetime, person_id: int | None = None
) -> list[AnswerGroup]:
    """Answers in [start, end) counted per person, currency, project, rate and status."""
    stmt = (
        select(
            Answer.person_id,
            Answer.currency,
            Answer.project_id,
            Answer.pay_rate,
            Answer.status,
            func.count(),
            func.coalesce(func.sum(Answer.seconds_spent), 0),
        )
        .where(Answer.answered_at >= start, Answer.answered_at < end)
        .group_by(
            Answer.person_id, Answer.currency, Answer.project_id, Answer.pay_rate, Answer.status
        )
    )
    if person_id is not None:
        stmt = stmt.where(Answer.person_id == person_id)
    return [AnswerGroup(*row) for row in session.execute(stmt)]


def _rejected_in(
    start: datetime, end: datetime, person_id: int | None
) -> Select[int, int, str, int, Decimal, str, str]:
    """Rejected answers given in [start, end), with reason and item, in answer order."""
    stmt = (
        select(
            Answer.id,
            Answer.person_id,
            Answer.currency,
            Answer.project_id,
            Answer.pay_rate,
            func.coalesce(Answer.rejected_reason, ""),
            Item.external_id,
        )
        .join(Item, Item.id == Answer.item_id)
        .where(Answer.answered_at >= start, Answer.answered_at < end, Answer.status == "rejected")
        .order_by(Answer.id)
    )
    if person_id is not None:
        stmt = stmt.where(Answer.person_id == person_id)
    return stmt


def rejected_answers(
    session: Session, start: datetime, end: datetime, person_id: int | None = None
) -> list[RejectedAnswer]:
    """Rejected answers in [start, end), with their reason and item, in answer order."""
    return [RejectedAnswer(*row) for row in session.execute(_rejected_in(start, end, person_id))]


def rejected_answers_by_audit(
    session: Session, start: datetime, end: datetime, person_id: int | None = None
) -> list[RejectedAnswer]:
    """The same rows as `rejected_answers`, found through the audit log: an answer
    in [start, end) can only have been rejected at or after `start`, and the log is
    indexed by time, so this reads a few rows instead of scanning the week's answers.
    The caller checks the count against the aggregate and falls back to the scan."""
    ids = _rejected_ids_since(session, start)
    found: list[RejectedAnswer] = []
    if ids and session.get_bind().dialect.name == "postgresql":
        # One query with the ids as one array parameter: a list of thousands of
        # parameters (or a dozen lists of 900) costs more to plan than to run.
        stmt = _rejected_in(start, end, person_id).where(
            Answer.id == any_(literal(ids, ARRAY(Integer)))
        )
        return [RejectedAnswer(*row) for row in session.execute(stmt)]
    for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        stmt = _rejected_in(start, end, person_id).where(Answer.id.in_(ids[i : i + 900]))
        found.extend(RejectedAnswer(*row) for row in session.execute(stmt))
    return sorted(found, key=lambda r: r.answer_id)


def _rejected_ids_since(session: Session, since: datetime) -> list[int]:
    subjects = session.scalars(
        select(AuditEntry.subject).where(
            AuditEntry.action == REJECT_AUDIT_ACTION, AuditEntry.at >= since
        )
    )
    return sorted(
        {int(s.split(":", 1)[1]) for s in subjects if s.startswith("answer:") and s[7:].isdigit()}
    )


def time_spans(
    session: Session, start: datetime, end: datetime, person_id: int | None = None
) -> list[TimeSpan]:
    """Check-ins that overlap [start, end) (open ones included; they count nothing
    until they close, see `hdops.domain.payouts.clipped_seconds`)."""
    stmt = (
        select(
            TimeEntry.person_id,
            TimeEntry.started_at,
            TimeEntry.ended_at,
            TimeEntry.hourly_rate,
            TimeEntry.currency,
        )
        .where(
            TimeEntry.started_at < end,
            or_(TimeEntry.ended_at.is_(None), TimeEntry.ended_at > start),
        )
        .order_by(TimeEntry.person_id, TimeEntry.started_at)
    )
    if person_id is not None:
        stmt = stmt.where(TimeEntry.person_id == person_id)
    return [TimeSpan(*row) for row in session.execute(stmt)]


def open_time_spans_before(session: Session, end: datetime) -> list[TimeSpan]:
    """Check-ins still open that started before `end`: hours a week ending at `end`
    may still gain once they close."""
    stmt = (
        select(
            TimeEntry.person_id,
            TimeEntry.started_at,
            TimeEntry.ended_at,
            TimeEntry.hourly_rate,
            TimeEntry.currency,
        )
        .where(TimeEntry.ended_at.is_(None), TimeEntry.started_at < end)
        .order_by(TimeEntry.started_at, TimeEntry.person_id)
    )
    return [TimeSpan(*row) for row in session.execute(stmt)]


def rate_at(session: Session, person_id: int, when: datetime) -> tuple[Decimal, str] | None:
    """The person's hourly rate in force at `when`, from the rate history."""
    row = session.execute(
        select(RateChange.hourly_rate, RateChange.currency)
        .where(RateChange.person_id == person_id, RateChange.effective_from <= when)
        .order_by(RateChange.effective_from.desc(), RateChange.id.desc())
        .limit(1)
    ).first()
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


def adjustments(session: Session, week: str, person_id: int | None = None) -> list[Adjustment]:
    stmt = select(Adjustment).where(Adjustment.week == week).order_by(Adjustment.id)
    if person_id is not None:
        stmt = stmt.where(Adjustment.person_id == person_id)
    return list(session.scalars(stmt))


def adjustment_by_source(session: Session, source: str) -> Adjustment | None:
    return session.scalar(select(Adjustment).where(Adjustment.source == source))


def project_names(session: Session) -> dict[int, str]:
    return {pid: name for pid, name in session.execute(select(Project.id, Project.name))}


def people(session: Session, ids: Sequence[int]) -> dict[int, Person]:
    if not ids:
        return {}
    found: dict[int, Person] = {}
    unique = sorted(set(ids))
    for i in range(0, len(unique), 900):  # stay under SQLite's bound-parameter limit
        chunk = unique[i : i + 900]
        for person in session.scalars(select(Person).where(Person.id.in_(chunk))):
            found[person.id] = person
    return found


# --------------------------------------------------------------------------- weeks


def get_week(session: Session, week: str) -> PayoutWeek | None:
    return session.get(PayoutWeek, week)


def lock_week_row(session: Session, week: str) -> PayoutWeek | None:
    """The week row, locked against a concurrent approval on PostgreSQL."""
    stmt = select(PayoutWeek).where(PayoutWeek.week == week)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def approved_weeks_before(session: Session, week: str) -> list[PayoutWeek]:
    """Approved weeks earlier than `week` (ISO week strings sort in time order)."""
    return list(
        session.scalars(
            select(PayoutWeek)
            .where(PayoutWeek.status == "approved", PayoutWeek.week < week)
            .order_by(PayoutWeek.week)
        )
    )


def statements(session: Session, week: str, person_id: int | None = None) -> list[PayoutStatement]:
    stmt = (
        select(PayoutStatement)
        .where(PayoutStatement.week == week)
        .options(selectinload(PayoutStatement.lines))
        .order_by(PayoutStatement.person_id, PayoutStatement.currency)
    )
    if person_id is not None:
        stmt = stmt.where(PayoutStatement.person_id == person_id)
    return list(session.scalars(stmt))


def line_with_statement(
    session: Session, line_id: int
) -> tuple[PayoutLine, PayoutStatement] | None:
    row = session.execute(
        select(PayoutLine, PayoutStatement)
        .join(PayoutStatement, PayoutStatement.id == PayoutLine.statement_id)
        .where(PayoutLine.id == line_id)
    ).first()
    return None if row is None else (row[0], row[1])


def insert_statements(
    session: Session, week: str, rows: Sequence[dict[str, Any]]
) -> dict[tuple[int, str], int]:
    """Insert a week's new draft statements in bulk (`hdops.store.bulk`) and return
    every statement id of the week by (person, currency). The week is a draft
    (the caller holds its row locked); the database triggers check it again."""
    insert_rows(session, cast(Table, PayoutStatement.__table__), rows)
    if not rows:
        return {}
    ids = session.execute(
        select(PayoutStatement.person_id, PayoutStatement.currency, PayoutStatement.id).where(
            PayoutStatement.week == week
        )
    )
    return {(person, currency): sid for person, currency, sid in ids}


def insert_lines(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert statement lines in bulk (`hdops.store.bulk`: no per-row RETURNING).
    The lines' statements are drafts of an unapproved week; the triggers check it."""
    insert_rows(session, cast(Table, PayoutLine.__table__), rows)


def disputed_line_ids(session: Session, week: str) -> set[int]:
    return set(session.scalars(select(Dispute.line_id).where(Dispute.week == week)))


def disputes(
    session: Session, week: str | None = None, *, only_open: bool = False
) -> list[Dispute]:
    stmt = select(Dispute).order_by(Dispute.id)
    if week is not None:
        stmt = stmt.where(Dispute.week == week)
    if only_open:
        stmt = stmt.where(Dispute.status == "open")
    return list(session.scalars(stmt))


def open_dispute_on_line(session: Session, line_id: int) -> Dispute | None:
    return session.scalar(
        select(Dispute).where(Dispute.line_id == line_id, Dispute.status == "open").limit(1)
    )


def outbox_key_used(session: Session, dedupe_key: str) -> bool:
    """Whether an intent with this dedupe key was ever queued (sent or not)."""
    return (
        session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        is not None
    )


# --------------------------------------------------------------------------- corrections


def late_rejections(session: Session, since: datetime) -> list[LateRejection]:
    """Answers rejected at or after `since` (found through the audit log's index on
    time, so no scan of the answers table), with what a correction needs."""
    ids = _rejected_ids_since(session, since)
    found: list[LateRejection] = []
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        rows = session.execute(
            select(
                Answer.id,
                Answer.person_id,
                Answer.currency,
                Answer.pay_rate,
                Answer.project_id,
                Item.external_id,
                Answer.answered_at,
                Answer.rejected_at,
                func.coalesce(Answer.rejected_reason, ""),
            )
            .join(Item, Item.id == Answer.item_id)
            .where(
                Answer.id.in_(chunk),
                Answer.status == "rejected",
                Answer.rejected_at.is_not(None),
            )
            .order_by(Answer.id)
        )
        found.extend(LateRejection(*row) for row in rows)
    return found
