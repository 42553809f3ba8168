"""People and how they are known: persons, their platform identities, roles,
contractor profiles with their rate history, and per-project pseudonyms."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hdops.store.orm.base import Base


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
