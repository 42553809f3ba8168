"""Outbox rows and message refs: the store side of "nothing lost, nothing twice".

Intents are inserted in the same transaction as the state change that caused
them. Delivery claims due rows (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
several workers can drain one outbox), pushes the claim's deadline forward so a
crashed sender's rows become due again, and marks each row `sent` with the
platform refs it produced. A `sent` row is never selected again.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hdops.store.orm import MessageRef, OutboxMessage, ProcessedEvent
from hdops.store.prepared import JSONText, Prepared, Tx, as_tx

CLAIM_SECONDS = 60
MAX_ATTEMPTS = 8


INSERT_INTENT = Prepared(
    insert(OutboxMessage)
    .values(payload=bindparam("payload_json", type_=JSONText()))
    .returning(OutboxMessage.id),
    columns=["kind", "status", "attempts", "next_attempt_at", "created_at", "dedupe_key"],
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
) -> int | None:
    """Add an intent; returns its row id. With a `dedupe_key` already used, nothing
    is added (returns None).

    `payload` is the intent as a dict or as JSON text (what `model_dump_json`
    gives: serialised once, on the hot path); either reads back as the same dict.
    The row is inserted at once, in call order, so delivery (in id order) sends
    intents in the order they were made."""
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
        },
    )
    return new_id


def claim_due(session: Session, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """Claim up to `limit` due rows in id order; they are due again after CLAIM_SECONDS
    unless marked sent or failed first."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.scalars(stmt))
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
    return rows


def mark_sent(session: Session, row_id: int, now: datetime, result: dict[str, Any]) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status="sent", sent_at=now, result=result, last_error=None)
    )


def mark_retry(
    session: Session, row_id: int, now: datetime, error: str, delay: timedelta, give_up: bool
) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            status="failed" if give_up else "pending",
            next_attempt_at=now + delay,
            last_error=error[:2000],
        )
    )


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).where(OutboxMessage.status == "pending")) or 0


# --------------------------------------------------------------------------- refs


def get_ref(session: Session, key: str, platform: str | None = None) -> MessageRef | None:
    stmt = select(MessageRef).where(MessageRef.key == key)
    if platform is not None:
        stmt = stmt.where(MessageRef.platform == platform)
    return session.scalars(stmt.order_by(MessageRef.id.desc()).limit(1)).first()


def save_ref(
    session: Session, key: str, platform: str, channel: str, message_id: str, now: datetime
) -> None:
    """Record (or move) where the message for `key` lives on `platform`."""
    ref = get_ref(session, key, platform)
    if ref is None:
        session.add(
            MessageRef(
                key=key, platform=platform, channel=channel, message_id=message_id, created_at=now
            )
        )
    else:
        ref.channel, ref.message_id = channel, message_id


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


def ref_message_ids(session: Session, platform: str) -> list[str]:
    """Every message id recorded for `platform`. The local chat numbers its messages
    past these, so a new session never reuses an id an old ref still points to."""
    return list(
        session.scalars(select(MessageRef.message_id).where(MessageRef.platform == platform))
    )


# --------------------------------------------------------------------------- events


def first_delivery(session: Session, event_id: str, now: datetime) -> bool:
    """Record a platform event id; False if it was seen before (a redelivery).

    Runs in a savepoint so a duplicate does not spoil the caller's transaction."""
    if session.get(ProcessedEvent, event_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id[:200], received_at=now))
    except IntegrityError:
        return False
    return True
