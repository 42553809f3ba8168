"""Outbox intents: what the core wants sent, as stored JSON.

An intent names its target in domain terms (a person, a project's clarification
channels, the ops channel, the thread under a stored message, or a stored
message to edit); the delivery loop resolves that to a platform at send time.
`ref` names the key under which the sent message's location is recorded.

Every function takes the unit of work's `Session`, or the hot path's `Tx` on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hdops.chat import Message
from hdops.store import outbox
from hdops.store.prepared import Tx


class Target(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    person: int | None = None
    channels: dict[str, str] = Field(default_factory=dict)  # platform -> channel id
    ops: bool = False
    thread_of: str | None = None  # ref key of the parent message
    edit: str | None = None  # ref key of the message to replace

    @property
    def lane(self) -> str:
        """What this message must keep its order with. Messages to one person, in
        one thread, to one channel set, or edits of one message, are sent in the
        order they were made; different lanes are sent concurrently. An edit is
        not ordered with new messages: it changes a message already shown."""
        if self.edit is not None:
            return f"edit:{self.edit}"[:200]
        if self.thread_of is not None:
            return f"thread:{self.thread_of}"[:200]
        if self.person is not None:
            return f"person:{self.person}"
        if self.ops:
            return "ops"
        return ("channels:" + ",".join(f"{p}={c}" for p, c in sorted(self.channels.items())))[:200]


class Intent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["send", "edit"]
    target: Target
    message: Message
    ref: str | None = None


# --------------------------------------------------------------------------- hand-off

HANDOFF = "hdops.outbox.handoff"  # key in Session.info: the unit of work's Handed list


@dataclass(frozen=True)
class Handed:
    """A row this unit of work enqueued, to be handed to the running delivery loop
    once the transaction commits (see `Deliverer.accept`)."""

    row_id: int
    intent: Intent
    lane: str
    created_at: datetime
    dedupe_key: str | None
    platform: str | None


class HandoffTarget(Protocol):
    """The running delivery loop, as the core sees it."""

    def ready(self) -> bool: ...

    def takes(self, platform: str | None) -> bool:
        """Whether this process sends messages addressed to `platform` (None: to no
        platform in particular)."""
        ...

    def accept(self, handed: Sequence[Handed]) -> None: ...


@dataclass
class _Collector:
    target: HandoffTarget
    handed: list[Handed]


def collect_handoff(session: Session, target: HandoffTarget) -> list[Handed]:
    """From now on, the intents this session enqueues for `target` are born claimed
    (not due before the claim period ends) and listed here for the caller to hand
    over after commit. Intents for platforms `target` does not serve, and all
    intents without a hand-off, are due at once for whichever process claims them."""
    collector = _Collector(target, [])
    session.info[HANDOFF] = collector
    return collector.handed


def address(db: Session | Tx, target: Target) -> str | None:
    """The platform a message is addressed to, fixed when it is written: a person's
    chosen or last used platform; the platform of the message replied to or
    edited; the one platform of a post to a single channel (a project's home
    clarifications channel). Ops notices and posts to channels on several
    platforms are not addressed (None): a process serving one of them sends it."""
    if target.person is not None:
        return outbox.address_person(db, target.person)
    key = target.edit or target.thread_of
    if key is not None:
        return outbox.address_ref(db, key)
    if not target.ops and len(target.channels) == 1:
        return next(iter(target.channels))
    return None


def _put(db: Session | Tx, intent: Intent, now: datetime, dedupe_key: str | None) -> None:
    session = db.session if isinstance(db, Tx) else db
    collector: _Collector | None = session.info.get(HANDOFF)
    platform = address(db, intent.target)
    # Order only matters within one platform's conversation.
    lane = intent.target.lane if platform is None else f"{platform}:{intent.target.lane}"[:200]
    born_claimed = collector is not None and collector.target.takes(platform)
    # Serialised once, straight to JSON text: a dict from `model_dump` would be
    # dumped again by the JSON column, twice the work on every answer.
    row_id = outbox.enqueue(
        db,
        intent.kind,
        intent.model_dump_json(),
        now,
        dedupe_key=dedupe_key,
        lane=lane,
        not_before=now + timedelta(seconds=outbox.CLAIM_SECONDS) if born_claimed else None,
        platform=platform,
        ref_key=intent.ref,
    )
    if born_claimed and collector is not None and row_id is not None:
        collector.handed.append(Handed(row_id, intent, lane, now, dedupe_key, platform))


def dm(
    db: Session | Tx,
    person_id: int,
    message: Message,
    now: datetime,
    *,
    ref: str | None = None,
    dedupe_key: str | None = None,
) -> None:
    _put(
        db,
        Intent(kind="send", target=Target(person=person_id), message=message, ref=ref),
        now,
        dedupe_key,
    )


def to_channels(
    db: Session | Tx,
    channels: dict[str, str],
    message: Message,
    now: datetime,
    *,
    ref: str | None = None,
) -> None:
    _put(
        db,
        Intent(kind="send", target=Target(channels=channels), message=message, ref=ref),
        now,
        None,
    )


def to_ops(
    db: Session | Tx,
    message: Message,
    now: datetime,
    *,
    dedupe_key: str | None = None,
    ref: str | None = None,
) -> None:
    _put(
        db,
        Intent(kind="send", target=Target(ops=True), message=message, ref=ref),
        now,
        dedupe_key,
    )


def in_thread(db: Session | Tx, parent_ref: str, message: Message, now: datetime) -> None:
    _put(
        db,
        Intent(kind="send", target=Target(thread_of=parent_ref), message=message),
        now,
        None,
    )


def edit(db: Session | Tx, ref: str, message: Message, now: datetime) -> None:
    _put(db, Intent(kind="edit", target=Target(edit=ref), message=message), now, None)
