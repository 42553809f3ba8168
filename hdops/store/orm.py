"""The whole domain as SQLAlchemy 2.0 typed ORM models.

This module is the single definition of the schema. Alembic migrations under
`hdops/store/migrations` must agree with it exactly; a test compares the
migrated database with these models on SQLite and PostgreSQL.

Conventions:
* every timestamp is `UTCDateTime` (aware UTC in, aware UTC out);
* every amount of money is `Money` (exact Decimal), never a float;
* enumerations are short strings checked in the service layer, so adding a
  value never needs a migration;
* indexes are named for the hot query they serve.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    select,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    Session,
    mapped_column,
    object_session,
    relationship,
)

from hdops.errors import Conflict
from hdops.store.types import Money, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonDict = dict[str, Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: Money(),
        JsonDict: JSON(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[Any]: JSON(),
    }


# --------------------------------------------------------------------------- people


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    tz: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # The platform this person used last (slack | discord | console): their direct
    # messages go there (see `hdops.store.outbox.address_person`).
    last_platform: Mapped[str | None] = mapped_column(String(16))
    # Chosen with `/hdops prefer`: direct messages go here while the person has an
    # identity on it, whichever platform they used last. None: follow the last used.
    preferred_platform: Mapped[str | None] = mapped_column(String(16))

    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="Identity.id"
    )
    roles: Mapped[list[RoleGrant]] = relationship(
        back_populates="person",
        cascade="all, delete-orphan",
        order_by="RoleGrant.role",
        foreign_keys="RoleGrant.person_id",
    )
    profile: Mapped[ContractorProfile | None] = relationship(
        back_populates="person", cascade="all, delete-orphan", uselist=False
    )


class Identity(Base):
    """A platform identity such as `slack:U0123ABC`; one person may have several."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # slack | discord | console
    external_id: Mapped[str] = mapped_column(String(64))
    # Cached direct-message channel on the platform (saves conversations.open calls).
    dm_channel: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person] = relationship(back_populates="identities")

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.external_id}"


class RoleGrant(Base):
    __tablename__ = "role_grants"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_at: Mapped[datetime]
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))

    person: Mapped[Person] = relationship(back_populates="roles", foreign_keys=[person_id])


class ContractorProfile(Base):
    __tablename__ = "contractor_profiles"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    skills: Mapped[list[str]] = mapped_column(default=list)
    hourly_rate: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # active: may receive tasks; paused: asked not to get pushes; inactive: offboarded
    status: Mapped[str] = mapped_column(String(16), default="active")
    # True while the contractor wants tasks pushed (on shift or after `next`).
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    # Fingerprint of the reasons they were last given for having no task
    # (`hdops.domain.no_task.NoTask.key`): pushes tell them again only on a change.
    no_task_told: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person] = relationship(back_populates="profile")


class RateChange(Base):
    """History of hourly rates so past earnings are never rewritten by a new rate."""

    __tablename__ = "rate_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    hourly_rate: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3))
    effective_from: Mapped[datetime]

    __table_args__ = (Index("ix_rate_changes_person_from", "person_id", "effective_from"),)


# --------------------------------------------------------------------------- projects


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    task_type: Mapped[str] = mapped_column(String(32))
    # The validated spec (pydantic dump, JSON mode); the columns below are copies of
    # the fields the dispatcher filters on, so the hot query needs no JSON parsing.
    spec: Mapped[JsonDict]
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    priority: Mapped[int] = mapped_column(Integer, default=0)
    overlap: Mapped[int] = mapped_column(Integer)
    max_overlap: Mapped[int] = mapped_column(Integer)
    gold_share: Mapped[float] = mapped_column(Float, default=0.0)
    lease_minutes: Mapped[int] = mapped_column(Integer)
    max_share: Mapped[float | None] = mapped_column(Float)
    pay_per_task: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    instruction_versions: Mapped[list[InstructionVersion]] = relationship(
        back_populates="project", order_by="InstructionVersion.version"
    )


class InstructionVersion(Base):
    """An immutable snapshot of a project's instructions plus FAQ."""

    __tablename__ = "instruction_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    change_summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))

    project: Mapped[Project] = relationship(back_populates="instruction_versions")
    faq: Mapped[list[FaqEntry]] = relationship(
        back_populates="instruction_version", order_by="FaqEntry.position"
    )


class FaqEntry(Base):
    """One Q&A of a version's FAQ. Each version carries its full FAQ list."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    instruction_version_id: Mapped[int] = mapped_column(
        ForeignKey("instruction_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    clarification_id: Mapped[int | None] = mapped_column(ForeignKey("clarifications.id"))

    instruction_version: Mapped[InstructionVersion] = relationship(back_populates="faq")


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        # Next task: open items of a project, gold or not, fewest answers first.
        Index("ix_items_dispatch", "project_id", "is_gold", "open_slots", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    data: Mapped[JsonDict]
    gold: Mapped[JsonDict | None] = mapped_column(JSON(none_as_null=True))
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    # Answers wanted (overlap, raised up to max_overlap on disagreement).
    target: Mapped[int] = mapped_column(Integer)
    # Accepted answers stored so far.
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    # target - answers - live offers: > 0 means the item may be offered again.
    open_slots: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --------------------------------------------------------------------------- work


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
    # accepted | rejected
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    rejected_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    rejected_at: Mapped[datetime | None]
    # The project's per-task rate when the answer was given (rates may change later).
    pay_rate: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))


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


# --------------------------------------------------------------------------- time


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


# --------------------------------------------------------------------------- pay


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


# --------------------------------------------------------------------------- plumbing


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[JsonDict] = mapped_column(default=dict)


class OutboxMessage(Base):
    """A message the core decided to send, written in the same transaction as the
    state change that caused it. The delivery loop sends it and records the result."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_lane", "lane", "status"),
        Index("ix_outbox_ref_key", "ref_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[JsonDict]
    # pending | sent | failed (gave up) ; delivery never sends a 'sent' row again
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Messages of one lane (a person's DMs, one thread, one channel set, edits of
    # one message) are sent in id order; different lanes go concurrently.
    lane: Mapped[str | None] = mapped_column(String(200))
    # The platform it is addressed to, fixed when it is written: only a process
    # serving that platform sends it. None: any process with a channel for it
    # (ops notices, project channels) — see `Deliverer(claims_unaddressed=…)`.
    platform: Mapped[str | None] = mapped_column(String(16))
    # The intent's `ref`: where this message will be recorded once sent, so a reply
    # or an edit written before it is sent knows its platform.
    ref_key: Mapped[str | None] = mapped_column(String(64))
    # True while a process holds the row (claimed, or handed over at birth); cleared
    # with its outcome. Claimed again while still True: its holder died, and it
    # may have been sent (the platform is asked first).
    sending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set by `hdops outbox retry`: the maximum age counts from here, not created_at.
    retried_at: Mapped[datetime | None]
    # Platform references of what was sent (message ids), for later edits.
    result: Mapped[JsonDict | None] = mapped_column(JSON(none_as_null=True))
    # Optional key so that an intent is enqueued at most once (e.g. one statement DM).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class MessageRef(Base):
    """Where a message the core sent lives on a platform, under a domain key such as
    `assignment:12` (the task DM) or `clar:5` (the researchers' thread). Edits and
    thread replies find their target here, and inbound thread replies are routed
    back to the domain object by (platform, channel, message_id)."""

    __tablename__ = "message_refs"
    __table_args__ = (
        UniqueConstraint("key", "platform"),
        Index("ix_message_refs_locator", "platform", "channel", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Platform event ids already handled: a redelivered event is a no-op."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]


class Pseudonym(Base):
    """Stable per-project pseudonym of a contractor, used in exports."""

    __tablename__ = "pseudonyms"
    __table_args__ = (
        UniqueConstraint("project_id", "person_id"),
        UniqueConstraint("project_id", "alias"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    alias: Mapped[str] = mapped_column(String(32))


# --------------------------------------------------------------------------- guards


class ApprovedPayoutChange(Conflict):
    """A write would change an approved payout week. Raised inside a flush, so no
    code path (service, command, script) can change what was approved; the database
    triggers of migration 0003 refuse the same writes made with plain SQL."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Approved payouts never change ({what}); "
            "book a correction as an adjustment in a later week."
        )


def _week_is_approved(connection: Connection, week: str, target: object = None) -> bool:
    """Whether `week` is approved. A week row already loaded in the target's session
    answers from memory (drafting inserts a thousand statements of one week); else
    one query. The database triggers check again either way."""
    session = object_session(target) if target is not None else None
    if session is not None:
        loaded = session.identity_map.get(Session.identity_key(PayoutWeek, week))
        if isinstance(loaded, PayoutWeek):
            return bool(_committed(loaded, "status") == "approved")
    status = connection.execute(
        select(PayoutWeek.status).where(PayoutWeek.week == week)
    ).scalar_one_or_none()
    return status == "approved"


def _statement_is_approved(connection: Connection, statement_id: int | None) -> bool:
    if statement_id is None:
        return False
    status = connection.execute(
        select(PayoutStatement.status).where(PayoutStatement.id == statement_id)
    ).scalar_one_or_none()
    return status == "approved"


def _committed(target: Any, attr: str) -> Any:
    """The value of `attr` as loaded from the database (before this flush's change)."""
    history = inspect(target).attrs[attr].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(target, attr)


@event.listens_for(PayoutWeek, "before_update")
@event.listens_for(PayoutWeek, "before_delete")
def _guard_week(_m: Mapper[Any], _c: Connection, target: PayoutWeek) -> None:
    if _committed(target, "status") == "approved":
        raise ApprovedPayoutChange(f"week {target.week}")


@event.listens_for(PayoutStatement, "before_insert")
def _guard_new_statement(_m: Mapper[Any], connection: Connection, target: PayoutStatement) -> None:
    if _week_is_approved(connection, target.week, target):
        raise ApprovedPayoutChange(f"new statement in week {target.week}")


@event.listens_for(PayoutStatement, "before_update")
@event.listens_for(PayoutStatement, "before_delete")
def _guard_statement(_m: Mapper[Any], _c: Connection, target: PayoutStatement) -> None:
    if _committed(target, "status") == "approved":
        raise ApprovedPayoutChange(f"statement {target.id}")


@event.listens_for(PayoutLine, "before_insert")
@event.listens_for(PayoutLine, "before_update")
@event.listens_for(PayoutLine, "before_delete")
def _guard_line(_m: Mapper[Any], connection: Connection, target: PayoutLine) -> None:
    ids = {_committed(target, "statement_id"), target.statement_id}
    parent = inspect(target).attrs["statement"].loaded_value
    if isinstance(parent, PayoutStatement):
        # The statement is in the session: its status as loaded (or as about to be
        # inserted) answers without a query per line; the triggers still check.
        state = inspect(parent)
        status = parent.status if state.pending else _committed(parent, "status")
        if status == "approved":
            raise ApprovedPayoutChange(f"line of statement {parent.id}")
        ids.discard(parent.id)
    if any(_statement_is_approved(connection, i) for i in ids if i is not None):
        raise ApprovedPayoutChange(f"line of statement {target.statement_id}")


@event.listens_for(Adjustment, "before_insert")
@event.listens_for(Adjustment, "before_update")
@event.listens_for(Adjustment, "before_delete")
def _guard_adjustment(_m: Mapper[Any], connection: Connection, target: Adjustment) -> None:
    for week in {_committed(target, "week"), target.week}:
        if week is not None and _week_is_approved(connection, week, target):
            raise ApprovedPayoutChange(f"adjustment in week {week}")
