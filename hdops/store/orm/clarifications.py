"""Clarification questions about a task, and the messages of their threads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hdops.store.orm.base import Base, JsonDict


class Clarification(Base):
    __tablename__ = "clarifications"
    __table_args__ = (
        Index("ix_clarifications_status_opened", "status", "opened_at"),
        Index("ix_clarifications_assignment", "assignment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    opened_at: Mapped[datetime]
    first_answered_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    last_escalated_at: Mapped[datetime | None]
    # Researchers' thread and contractor's thread, per platform:
    # {"researchers": {"platform", "channel", "thread"}, "contractor": {...}}
    refs: Mapped[JsonDict] = mapped_column(default=dict)


class ClarificationMessage(Base):
    __tablename__ = "clarification_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    clarification_id: Mapped[int] = mapped_column(
        ForeignKey("clarifications.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    # to_researchers | to_contractor
    direction: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
