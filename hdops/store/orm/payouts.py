"""Pay: adjustments, the weekly payout lock, statements with their lines, and
disputes. What guards approved weeks lives in `hdops.store.orm.payout_guards`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hdops.store.orm.base import Base, JsonDict


class Adjustment(Base):
    __tablename__ = "adjustments"
    __table_args__ = (Index("ix_adjustments_week", "week", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, e.g. 2026-W48
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    created_at: Mapped[datetime]
    # What caused an automatic adjustment (`dispute:7`, `rejected:123`): unique, so
    # a correction is booked exactly once however often a week is drafted.
    source: Mapped[str | None] = mapped_column(String(64), unique=True)


class PayoutWeek(Base):
    """The lock of one ISO week's pay. Approving sets `approved`; from then on the
    week's statements, lines and adjustments never change (guarded here and by
    database triggers, see migration 0003)."""

    __tablename__ = "payout_weeks"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | approved
    drafted_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    # Goes up whenever the drafted statements change; `shown_revision` is the one
    # ops were last shown. Approve needs them equal: ops approve what they saw.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    shown_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class PayoutStatement(Base):
    __tablename__ = "payout_statements"
    __table_args__ = (UniqueConstraint("person_id", "week", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    week: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal]
    tasks: Mapped[int] = mapped_column(Integer, default=0)
    seconds_worked: Mapped[int] = mapped_column(Integer, default=0)
    # Checked-in time or time spent on tasks, whichever is longer: the divisor of
    # the effective hourly rate shown on the statement.
    active_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | approved
    created_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    sent_at: Mapped[datetime | None]

    lines: Mapped[list[PayoutLine]] = relationship(
        back_populates="statement", cascade="all, delete-orphan", order_by="PayoutLine.position"
    )


class PayoutLine(Base):
    __tablename__ = "payout_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("payout_statements.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # tasks | hours | adjustment | rejected
    # Stable identity of the line across re-drafts (`tasks:3:0.4000`, `adj:12`), so a
    # dispute keeps pointing at the same line when a draft is recomputed.
    key: Mapped[str] = mapped_column(String(64), default="", server_default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal]
    unit_amount: Mapped[Decimal]
    amount: Mapped[Decimal]

    statement: Mapped[PayoutStatement] = relationship(back_populates="lines")


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("payout_lines.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    week: Mapped[str] = mapped_column(String(8), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|accepted|declined
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    refs: Mapped[JsonDict] = mapped_column(default=dict)
