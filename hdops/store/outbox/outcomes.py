"""Recording what happened to a batch of claimed rows: `Sent` (with the message
ref it produced and the DM channel to cache), `Deferred` to a later attempt,
or `Failed` for good. Prepared statements: this runs for every message sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, bindparam, insert, or_, update
from sqlalchemy.orm import Session

from hdops.store.orm import Identity, MessageRef, OutboxMessage
from hdops.store.prepared import Prepared, Tx, as_tx


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
    # The attempt got no answer (a timeout): it may have been sent, so the next
    # attempt looks for it first, as after a crash (`Claimed.maybe_sent`).
    maybe_sent: bool = False


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
        sending=bindparam("maybe"),
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
                {
                    "rid": o.row_id,
                    "until": o.until,
                    "err": o.error[:2000],
                    "inc": int(o.attempted),
                    "maybe": o.maybe_sent,
                },
            )
        else:
            tx.execute(
                MARK_FAILED, {"rid": o.row_id, "err": o.error[:2000], "inc": int(o.attempted)}
            )
