"""Writing intents into the outbox, in the transaction of the change that caused
them; a `dedupe_key` makes an intent enqueued at most once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from hdops.store.orm import OutboxMessage
from hdops.store.prepared import JSONText, Prepared, Tx, as_tx

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
