"""Work done on items: assignments (an item offered to a contractor) and answers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hdops.store.orm.base import Base, JsonDict


class Assignment(Base):
    """One item offered to one contractor. (item, person) is unique: never twice."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "person_id"),
        Index("ix_assignments_person_status", "person_id", "status"),
        Index("ix_assignments_status_lease", "status", "leased_until"),
        Index("ix_assignments_project_person", "project_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    # offered | answered | skipped | expired | waiting (question open about it)
    # | ready (question resolved: offered to its contractor again before new items)
    status: Mapped[str] = mapped_column(String(16))
    offered_at: Mapped[datetime]
    leased_until: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    instruction_version_id: Mapped[int] = mapped_column(ForeignKey("instruction_versions.id"))
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    skip_note: Mapped[str | None] = mapped_column(Text)
    # Seconds excluded from time spent (e.g. while a clarification was open).
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (
        Index("ix_answers_person_time", "person_id", "answered_at"),
        Index("ix_answers_project_time", "project_id", "answered_at"),
        Index("ix_answers_item", "item_id"),
        # A project's answers by status, newest last: the review queue (flagged
        # answers) and, covering `seconds_spent`, the project's typical answer time
        # read on every answer (hdops.store.review), without touching the table.
        Index(
            "ix_answers_project_status_time", "project_id", "status", "answered_at", "seconds_spent"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    answer: Mapped[JsonDict]
    rationale: Mapped[str | None] = mapped_column(Text)
    instruction_version_id: Mapped[int] = mapped_column(ForeignKey("instruction_versions.id"))
    seconds_spent: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime]
    # Platform event / interaction id: a redelivery with the same key stores nothing.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    gold_correct: Mapped[bool | None] = mapped_column(Boolean)
    # accepted | flagged (waiting for review: paid, but out of aggregates) | rejected
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    rejected_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    rejected_at: Mapped[datetime | None]
    # Why it was flagged for review, comma-separated (hdops.domain.review.REASONS);
    # kept after the review decides, as a record of what was looked at.
    flag_reasons: Mapped[str | None] = mapped_column(String(64))
    flagged_at: Mapped[datetime | None]
    # Decided in review (accepted or rejected there): never flagged again.
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    reviewed_at: Mapped[datetime | None]
    # The project's per-task rate when the answer was given (rates may change later).
    pay_rate: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
