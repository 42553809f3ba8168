"""Outbox rows and message refs: the store side of "nothing lost, nothing twice".

Intents are inserted in the same transaction as the state change that caused
them. Delivery claims due rows (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
several workers can drain one outbox), pushes the claim's deadline forward so a
crashed sender's rows become due again, and records what happened to a whole
batch of rows in one transaction (`record_outcomes`): `sent` with the platform
refs it produced, deferred to a later attempt, or `failed` for good. A `sent`
row is never selected again; a `failed` row waits for `hdops outbox retry`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import JSON, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hdops.store.orm import Identity, MessageRef, OutboxMessage, Person, ProcessedEvent
from hdops.store.prepared import JSONText, Prepared, Tx, as_tx

# A claimed row comes due again this long after its holder stops renewing the claim
# (the deliverer renews it every few seconds while it works on the row).
CLAIM_SECONDS = 15

# Core tables for the batch statements (executemany on the session's connection).
_OUTBOX = cast(Table, OutboxMessage.__table__)
_REFS = cast(Table, MessageRef.__table__)
_IDENTITIES = cast(Table, Identity.__table__)

INSERT_INTENT = Prepared(
    insert(OutboxMessage)
    .values(payload=bindparam("payload_json", type_=JSONText()))
    .returning(OutboxMessage.id),
    columns=[
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "dedupe_key",
        "lane",
        "platform",
        "ref_key",
        "sending",
    ],
)

DEDUPE_KEY_USED = Prepared(
    select(OutboxMessage.id).where(OutboxMessage.dedupe_key == bindparam("dedupe_key"))
)


def enqueue(
    db: Session | Tx,
    kind: str,
    payload: dict[str, Any] | str,
    now: datetime,
    *,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    lane: str | None = None,
    platform: str | None = None,
    ref_key: str | None = None,
) -> int | None:
    """Add an intent; returns its row id. With a `dedupe_key` already used, nothing
    is added (returns None).

    `payload` is the intent as a dict or as JSON text (what `model_dump_json`
    gives: serialised once, on the hot path); either reads back as the same dict.
    The row is inserted at once, in call order, so delivery (in id order, per
    `lane`) sends intents in the order they were made."""
    tx = as_tx(db)
    if dedupe_key is not None and tx.scalar(DEDUPE_KEY_USED, {"dedupe_key": dedupe_key}):
        return None
    new_id: int = tx.scalar(
        INSERT_INTENT,
        {
            "kind": kind,
            "payload_json": payload if isinstance(payload, str) else json.dumps(payload),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": not_before or now,
            "created_at": now,
            "dedupe_key": dedupe_key,
            "lane": lane,
            "platform": platform,
            "ref_key": ref_key,
            # Born claimed (`not_before` ahead): held by this process from the start.
            "sending": not_before is not None and not_before > now,
        },
    )
    return new_id


# --------------------------------------------------------------------------- addressing

# When a person has several identities and has not used any yet: the first of these.
PLATFORM_PREFERENCE = ("slack", "discord", "console")

PERSON_PLATFORMS = Prepared(
    select(Person.preferred_platform, Person.last_platform, Identity.platform)
    .join(Identity, Identity.person_id == Person.id)
    .where(Person.id == bindparam("pid"))
)
REF_PLATFORM = Prepared(
    select(MessageRef.platform)
    .where(MessageRef.key == bindparam("key"))
    .order_by(MessageRef.id.desc())
    .limit(1)
)
UNSENT_REF_PLATFORM = Prepared(
    select(OutboxMessage.platform)
    .where(OutboxMessage.ref_key == bindparam("key"))
    .order_by(OutboxMessage.id.desc())
    .limit(1)
)


def address_person(db: Session | Tx, person_id: int) -> str | None:
    """The platform a direct message to this person goes to: the one they chose
    with `/hdops prefer`, else the one they used last, if they still have an
    identity there; else their first identity in `PLATFORM_PREFERENCE`. None if
    they have no identity at all."""
    rows = as_tx(db).rows(PERSON_PLATFORMS, {"pid": person_id})
    platforms = {platform for _, _, platform in rows}
    for chosen in (rows[0][0], rows[0][1]) if rows else ():
        if chosen in platforms:
            return str(chosen)
    return next((p for p in PLATFORM_PREFERENCE if p in platforms), None)


def address_ref(db: Session | Tx, key: str) -> str | None:
    """The platform of the message recorded (or still to be sent) under `key`:
    replies and edits go where their message is. None if nothing is known yet."""
    tx = as_tx(db)
    found = tx.scalar(REF_PLATFORM, {"key": key})
    if found is None:
        found = tx.scalar(UNSENT_REF_PLATFORM, {"key": key})
    return None if found is None else str(found)


# --------------------------------------------------------------------------- claiming


class Claimed(NamedTuple):
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    retried_at: datetime | None
    lane: str
    dedupe_key: str | None
    platform: str | None = None
    # Its last holder died holding it: it may have been sent already.
    maybe_sent: bool = False

    @property
    def age_from(self) -> datetime:
        """Where the row's maximum age counts from."""
        return self.retried_at or self.created_at


_CLAIMED_COLUMNS = (
    _OUTBOX.c.id,
    _OUTBOX.c.kind,
    _OUTBOX.c.payload,
    _OUTBOX.c.attempts,
    _OUTBOX.c.created_at,
    _OUTBOX.c.retried_at,
    _OUTBOX.c.lane,
    _OUTBOX.c.dedupe_key,
    _OUTBOX.c.platform,
    _OUTBOX.c.sending,
)


def _claimed(row: Any) -> Claimed:
    """A row selected with `_CLAIMED_COLUMNS`, as claiming and expiry see it."""
    return Claimed(
        row.id,
        row.kind,
        row.payload,
        row.attempts,
        row.created_at,
        row.retried_at,
        row.lane or "",
        row.dedupe_key,
        row.platform,
        bool(row.sending),
    )


def claim_due(
    session: Session,
    now: datetime,
    deadline: datetime,
    limit: int = 100,
    *,
    platforms: Collection[str] | None = None,
    unaddressed: bool = True,
) -> list[Claimed]:
    """Claim up to `limit` due rows in id order: they are not due again before
    `deadline` unless their outcome is recorded first (or the claim extended).

    Only rows addressed to one of `platforms` (all, if None), and rows addressed
    to no platform in particular if `unaddressed`."""
    table = _OUTBOX
    stmt = (
        select(*_CLAIMED_COLUMNS)
        .where(table.c.status == "pending", table.c.next_attempt_at <= now)
        .order_by(table.c.id)
        .limit(limit)
    )
    if platforms is not None:
        mine = table.c.platform.in_(list(platforms))
        stmt = stmt.where(or_(mine, table.c.platform.is_(None)) if unaddressed else mine)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = [_claimed(r) for r in session.execute(stmt)]
    if rows:
        extend_claims(session, [r.id for r in rows], deadline)
    return rows


def stale(session: Session, now: datetime, max_age: timedelta, limit: int = 100) -> list[Claimed]:
    """Pending rows older than `max_age` that nobody holds right now (whatever
    platform they are addressed to: maybe no process serves it any more)."""
    table = _OUTBOX
    cutoff = now - max_age
    stmt = (
        select(*_CLAIMED_COLUMNS)
        .where(
            table.c.status == "pending",
            table.c.next_attempt_at <= now,
            or_(
                and_(table.c.retried_at.is_(None), table.c.created_at <= cutoff),
                table.c.retried_at <= cutoff,
            ),
        )
        .order_by(table.c.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return [_claimed(r) for r in session.execute(stmt)]


def extend_claims(session: Session, ids: Collection[int], deadline: datetime) -> None:
    """Keep claimed rows from coming due while their sender still works on them."""
    if not ids:
        return
    table = _OUTBOX
    session.execute(
        update(table)
        .where(table.c.id.in_(list(ids)), table.c.status == "pending")
        .values(next_attempt_at=deadline, sending=True)
    )


WAITING_IN_LANE = Prepared(
    select(OutboxMessage.id, OutboxMessage.next_attempt_at)
    .where(
        OutboxMessage.lane == bindparam("lane"),
        OutboxMessage.status == "pending",
        OutboxMessage.id < bindparam("below"),
    )
    .order_by(OutboxMessage.id)
)


def earlier_pending(
    db: Session | Tx, lanes: Collection[str], first_ids: dict[str, int], known: Collection[int]
) -> dict[str, datetime]:
    """Lanes that have a pending row older than the first row claimed for them
    (`first_ids`), other than the rows this process already holds (`known`): a
    message deferred for a retry, or held by another worker. Returns, per such
    lane, when its oldest waiting row is next due, so later rows wait behind it.
    (One indexed query per lane: batches are small on the hot path.)"""
    tx = as_tx(db)
    blocked: dict[str, datetime] = {}
    for lane in lanes:
        for row_id, due in tx.rows(WAITING_IN_LANE, {"lane": lane, "below": first_ids[lane]}):
            if row_id not in known:
                blocked[lane] = min(blocked.get(lane, due), due)
    return blocked


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Sent:
    row_id: int
    sent_at: datetime
    platform: str
    channel: str | None = None  # None: nothing new was posted (an edit)
    message_id: str | None = None
    ref: str | None = None  # the intent's ref key, recorded to point at the message
    dm_person: int | None = None  # cache `channel` as this person's DM channel
    attempted: bool = True


@dataclass(frozen=True)
class Deferred:
    row_id: int
    until: datetime
    error: str
    attempted: bool  # a real attempt (counts for back-off), not a throttle or a wait


@dataclass(frozen=True)
class Failed:
    row_id: int
    error: str
    attempted: bool


Outcome = Sent | Deferred | Failed


_PENDING = OutboxMessage.status == "pending"
_THIS_ROW = OutboxMessage.id == bindparam("rid")
MARK_SENT = Prepared(
    update(OutboxMessage)
    .where(_THIS_ROW, _PENDING)
    .values(
        status="sent",
        sending=False,
        sent_at=bindparam("at"),
        result=bindparam("res", type_=JSON(none_as_null=True)),
        last_error=None,
        attempts=OutboxMessage.attempts + bindparam("inc"),
    )
)
MARK_DEFERRED = Prepared(
    update(OutboxMessage)
    .where(_THIS_ROW, _PENDING)
    .values(
        next_attempt_at=bindparam("until"),
        sending=False,
        last_error=bindparam("err"),
        attempts=OutboxMessage.attempts + bindparam("inc"),
    )
)
MARK_FAILED = Prepared(
    update(OutboxMessage)
    .where(_THIS_ROW, _PENDING)
    .values(
        status="failed",
        sending=False,
        last_error=bindparam("err"),
        attempts=OutboxMessage.attempts + bindparam("inc"),
    )
)
MOVE_REF = Prepared(
    update(MessageRef)
    .where(MessageRef.key == bindparam("k"), MessageRef.platform == bindparam("p"))
    .values(channel=bindparam("c"), message_id=bindparam("m"))
)
ADD_REF = Prepared(
    insert(MessageRef), columns=["key", "platform", "channel", "message_id", "created_at"]
)
CACHE_DM = Prepared(
    update(Identity)
    .where(
        Identity.person_id == bindparam("pid"),
        Identity.platform == bindparam("p"),
        or_(Identity.dm_channel.is_(None), Identity.dm_channel != bindparam("c")),
    )
    .values(dm_channel=bindparam("c"))
)


def record_outcomes(db: Session | Tx, outcomes: Sequence[Outcome]) -> None:
    """Write what happened to a batch of rows, in the caller's transaction.

    Rows already `sent` or `failed` are left alone (`status = 'pending'` guards
    every update), so a stale outcome can never undo a later one. This runs for
    every message sent, so its statements are prepared (`hdops.store.prepared`)."""
    tx = as_tx(db)
    for o in outcomes:
        if isinstance(o, Sent):
            result = (
                {"platform": o.platform, "channel": o.channel, "message_id": o.message_id}
                if o.channel is not None
                else {}
            )
            tx.execute(
                MARK_SENT,
                {"rid": o.row_id, "at": o.sent_at, "inc": int(o.attempted), "res": result},
            )
            if o.ref and o.channel and o.message_id:
                where = {"k": o.ref, "p": o.platform, "c": o.channel, "m": o.message_id}
                if not tx.execute(MOVE_REF, where):
                    tx.execute(
                        ADD_REF,
                        {
                            "key": o.ref,
                            "platform": o.platform,
                            "channel": o.channel,
                            "message_id": o.message_id,
                            "created_at": o.sent_at,
                        },
                    )
            if o.dm_person is not None and o.channel:
                tx.execute(CACHE_DM, {"pid": o.dm_person, "p": o.platform, "c": o.channel})
        elif isinstance(o, Deferred):
            tx.execute(
                MARK_DEFERRED,
                {"rid": o.row_id, "until": o.until, "err": o.error[:2000], "inc": int(o.attempted)},
            )
        else:
            tx.execute(
                MARK_FAILED, {"rid": o.row_id, "err": o.error[:2000], "inc": int(o.attempted)}
            )


# --------------------------------------------------------------------------- routing reads


class DmIdentity(NamedTuple):
    person_id: int
    platform: str
    external_id: str
    dm_channel: str | None


IDENTITIES_OF = Prepared(
    select(Identity.person_id, Identity.platform, Identity.external_id, Identity.dm_channel).where(
        Identity.person_id == bindparam("pid")
    )
)
REFS_OF = Prepared(
    select(MessageRef.platform, MessageRef.channel, MessageRef.message_id).where(
        MessageRef.key == bindparam("key")
    )
)


def dm_identities(db: Session | Tx, person_ids: Iterable[int]) -> list[DmIdentity]:
    tx = as_tx(db)
    return [
        DmIdentity(*row)
        for pid in sorted(set(person_ids))
        for row in tx.rows(IDENTITIES_OF, {"pid": pid})
    ]


def refs_for(db: Session | Tx, keys: Iterable[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """(key, platform) → (channel, message_id) for the given ref keys."""
    tx = as_tx(db)
    return {
        (key, platform): (channel, message_id)
        for key in sorted(set(keys))
        for platform, channel, message_id in tx.rows(REFS_OF, {"key": key})
    }


# --------------------------------------------------------------------------- ops views


class Row(NamedTuple):
    id: int
    kind: str
    status: str
    lane: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None
    summary: str


def list_rows(session: Session, *, failed_only: bool = False, limit: int = 200) -> list[Row]:
    """Rows still waiting (or, with `failed_only`, the failed ones), oldest first."""
    table = _OUTBOX
    statuses = ["failed"] if failed_only else ["pending", "failed"]
    stmt = (
        select(
            table.c.id,
            table.c.kind,
            table.c.status,
            table.c.lane,
            table.c.attempts,
            table.c.created_at,
            table.c.next_attempt_at,
            table.c.last_error,
            table.c.payload,
        )
        .where(table.c.status.in_(statuses))
        .order_by(table.c.id)
        .limit(limit)
    )
    out = []
    for r in session.execute(stmt):
        message = (r.payload or {}).get("message") or {}
        out.append(
            Row(
                r.id,
                r.kind,
                r.status,
                r.lane or "",
                r.attempts,
                r.created_at,
                r.next_attempt_at,
                r.last_error,
                str(message.get("text", ""))[:120],
            )
        )
    return out


def counts(session: Session, statuses: Collection[str] = ("pending", "failed")) -> dict[str, int]:
    """Messages per status, of these statuses (the default leaves out the many 'sent')."""
    table = _OUTBOX
    return {
        status: n
        for status, n in session.execute(
            select(table.c.status, func.count())
            .where(table.c.status.in_(list(statuses)))
            .group_by(table.c.status)
        )
    }


def retry(session: Session, now: datetime, ids: Collection[int] | None) -> list[int]:
    """Put failed rows (these, or all with `ids=None`) back in the queue, due now,
    with a fresh maximum age. Returns the ids that were failed and now wait again."""
    table = _OUTBOX
    where = [table.c.status == "failed"]
    if ids is not None:
        where.append(table.c.id.in_(list(ids)))
    chosen = list(session.scalars(select(table.c.id).where(and_(*where)).order_by(table.c.id)))
    if chosen:
        session.execute(
            update(table)
            .where(table.c.id.in_(chosen), table.c.status == "failed")
            .values(
                status="pending", next_attempt_at=now, retried_at=now, attempts=0, sending=False
            )
        )
    return chosen


def pending_count(session: Session) -> int:
    return (
        session.scalar(select(func.count()).where(OutboxMessage.__table__.c.status == "pending"))
        or 0
    )


# --------------------------------------------------------------------------- refs


def keys_for_message(session: Session, platform: str, channel: str, message_id: str) -> list[str]:
    return list(
        session.scalars(
            select(MessageRef.key).where(
                MessageRef.platform == platform,
                MessageRef.channel == channel,
                MessageRef.message_id == message_id,
            )
        )
    )


def ref_of_message(session: Session, platform: str, message_id: str) -> tuple[str, str] | None:
    """(ref key, channel) of a message the core sent and recorded, by its id alone:
    the local chat's ids are unique across sessions, so a session can reply under a
    message an earlier one printed."""
    row = session.execute(
        select(MessageRef.key, MessageRef.channel)
        .where(MessageRef.platform == platform, MessageRef.message_id == message_id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def ref_message_ids(session: Session, platform: str) -> list[str]:
    """Every message id recorded for `platform`. The local chat numbers its messages
    past these, so a new session never reuses an id an old ref still points to."""
    return list(
        session.scalars(select(MessageRef.message_id).where(MessageRef.platform == platform))
    )


# --------------------------------------------------------------------------- events


# One statement per dialect: "insert unless this event id is there", no error.
_SEEN_SQLITE = Prepared(
    sqlite_insert(ProcessedEvent).on_conflict_do_nothing(), columns=["event_id", "received_at"]
)
_SEEN_POSTGRES = Prepared(
    postgresql_insert(ProcessedEvent).on_conflict_do_nothing(),
    columns=["event_id", "received_at"],
)


def first_delivery(db: Session | Tx, event_id: str, now: datetime) -> bool:
    """Record a platform event id; False if it was seen before (a redelivery).

    One `INSERT … ON CONFLICT DO NOTHING`: a duplicate inserts nothing and raises
    nothing, so the caller's transaction goes on (no savepoint needed). Two
    deliveries racing on PostgreSQL: the second waits for the first's commit and
    then inserts nothing."""
    tx = as_tx(db)
    stmt = _SEEN_POSTGRES if tx.is_postgresql else _SEEN_SQLITE
    return tx.execute(stmt, {"event_id": event_id[:200], "received_at": now}) == 1
