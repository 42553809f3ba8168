"""Projects and their work: instruction versions with their FAQ, batches and items."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hdops.store.orm.base import Base, JsonDict


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
    # Answers that stand so far: accepted, or flagged and waiting for review.
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    # target - answers - live offers: > 0 means the item may be offered again.
    open_slots: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
