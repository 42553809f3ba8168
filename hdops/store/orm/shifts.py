"""Time: scheduled shifts, declared availability and time entries (check-ins)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hdops.store.orm.base import Base


class Shift(Base):
    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="positive_length"),
        Index("ix_shifts_person_start", "person_id", "starts_at"),
        Index("ix_shifts_status_start", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    role: Mapped[str] = mapped_column(String(16), default="contractor")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    tz: Mapped[str] = mapped_column(String(64))
    # scheduled | cancelled | done | no_show
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    series_id: Mapped[str | None] = mapped_column(String(36))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    created_at: Mapped[datetime]
    no_show_reported_at: Mapped[datetime | None]
    # A pending swap: the person asked to take this shift over (Accept / Decline).
    swap_to: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    swap_requested_at: Mapped[datetime | None]
    # Goes up on every change of time, person or status: reminders are deduplicated
    # per revision (a moved shift is reminded again) and it is the iCalendar SEQUENCE.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Availability(Base):
    __tablename__ = "availability"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    tz: Mapped[str] = mapped_column(String(64))


class TimeEntry(Base):
    __tablename__ = "time_entries"
    __table_args__ = (Index("ix_time_entries_person_start", "person_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    auto_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last time the person did anything in hdops while checked in (see
    # `hdops.services.checkins.close_idle_check_ins`); None: not since check-in.
    last_active_at: Mapped[datetime | None]
    # Hourly rate at check-in time, so a later rate change rewrites nothing.
    hourly_rate: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
