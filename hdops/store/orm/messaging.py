"""Platform messaging plumbing: the outbox of messages to send, the refs of
messages sent (for edits, replies and routing inbound thread replies), and the
platform event ids already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from hdops.store.orm.base import Base, JsonDict


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


class PaceCell(Base):
    """One platform rate limit's state, shared by every worker on the store (see
    `hdops.services.shared_pacing`): its theoretical arrival time and how long a 429
    holds it, both in the database's epoch seconds so workers need no common clock."""

    __tablename__ = "pace_cells"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tat: Mapped[float | None] = mapped_column(Float(precision=53))
    held_until: Mapped[float | None] = mapped_column(Float(precision=53))


class ProcessedEvent(Base):
    """Platform event ids already handled: a redelivered event is a no-op."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]
