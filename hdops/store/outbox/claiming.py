"""Claiming due rows for delivery: in id order, only those addressed to the
platforms this process serves (on PostgreSQL with `FOR UPDATE SKIP LOCKED`),
extending the claims while their sender works, finding rows too old to send,
and the lanes whose earlier rows still wait."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from hdops.store.orm import OutboxMessage
from hdops.store.prepared import Prepared, Tx, as_tx

# A claimed row comes due again this long after its holder stops renewing the claim
# (the deliverer renews it every few seconds while it works on the row).
CLAIM_SECONDS = 15

# The outbox's Core table, for the statements built on its columns.
_OUTBOX = cast(Table, OutboxMessage.__table__)


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
