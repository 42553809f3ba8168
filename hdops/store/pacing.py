"""The SQL of shared pacing: booking a call against rate-limit cells that every
worker on the store sees (`hdops.services.shared_pacing` decides when to use it).

Times are the database's epoch seconds, read in the booking's own statement, so
workers on different machines need no common clock. The cells a booking touches
are locked in key order (PostgreSQL: `FOR UPDATE`; SQLite's writer lock already
serialises), so two workers booking the same channel queue up instead of both
taking the same slot.

On PostgreSQL a booking is one call of `hdops_pace_book` (migration 0013), which
does the arithmetic below inside the server: the hot cells every worker books
(`discord:global`) stay locked for microseconds, not for four round trips and the
booking process's busy event loop. SQLite (one process) runs the Python."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Float, cast, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hdops.pacing import Booking, Limit, clamp_wait, conforming_start, next_tat
from hdops.store.orm import PaceCell

# How long after its last booking and hold a cell is forgotten: far past every
# limit's window (a minute for Slack's tiers), so a pruned cell was already idle.
IDLE_SECONDS = 3600.0

_BOOK_PG = text(
    "SELECT wait, booked FROM hdops_pace_book(CAST(:keys AS text[]), "
    "CAST(:intervals AS float8[]), CAST(:bursts AS int[]), :max_wait, :at)"
)


def _db_now(session: Session) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", func.clock_timestamp()), Float(precision=53))
    days = cast(func.julianday("now"), Float(precision=53))
    return (days - 2440587.5) * 86400.0


def _ensure(session: Session, keys: Sequence[str]) -> None:
    rows = [{"key": key} for key in keys]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(PaceCell).values(rows).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(PaceCell).values(rows).on_conflict_do_nothing())


def book(
    session: Session, limits: Sequence[Limit], max_wait: float, *, at: float | None = None
) -> Booking:
    """Reserve a call under all `limits` if it may go within `max_wait` seconds
    (then every cell's arrival time moves on); otherwise change nothing. `at`: the
    time to book at, in epoch seconds (tests); by default the database's clock."""
    if not limits:
        return Booking(0.0, True)
    if session.get_bind().dialect.name == "postgresql":
        wait, booked = session.execute(
            _BOOK_PG,
            {
                "keys": [key for key, _ in limits],
                "intervals": [rate.interval for _, rate in limits],
                "bursts": [rate.burst for _, rate in limits],
                "max_wait": max_wait,
                "at": at,
            },
        ).one()
        return Booking(float(wait), bool(booked))
    keys = sorted({key for key, _ in limits})
    _ensure(session, keys)
    stmt = (
        select(PaceCell.key, PaceCell.tat, PaceCell.held_until, _db_now(session))
        .where(PaceCell.key.in_(keys))
        .order_by(PaceCell.key)
    )  # SQLite: the unit of work's BEGIN IMMEDIATE already holds the writer lock
    rows = session.execute(stmt).all()
    now = float(rows[0][3]) if at is None else at
    cells = {key: (tat, held) for key, tat, held, _ in rows}
    start = max(conforming_start(cells[key][0], rate, now, cells[key][1]) for key, rate in limits)
    wait = clamp_wait(start - now)
    if wait > max_wait:
        return Booking(wait, False)
    tats: dict[str, float] = {}
    for key, rate in limits:
        tat = tats.get(key, cells[key][0])
        tats[key] = next_tat(tat, start, rate)
    for key, tat in tats.items():
        session.execute(update(PaceCell).where(PaceCell.key == key).values(tat=tat))
    return Booking(wait, True)


def hold(session: Session, keys: Sequence[str], seconds: float) -> None:
    """No call under `keys` before `seconds` from now (the platform's Retry-After)."""
    if not keys:
        return
    ordered = sorted(set(keys))
    _ensure(session, ordered)
    until = _db_now(session) + max(0.0, seconds)
    # SQLite's two-argument max() is PostgreSQL's greatest().
    later = func.greatest if session.get_bind().dialect.name == "postgresql" else func.max
    session.execute(
        update(PaceCell)
        .where(PaceCell.key.in_(ordered))
        .values(held_until=later(func.coalesce(PaceCell.held_until, until), until))
    )


def prune(session: Session) -> int:
    """Forget cells idle for `IDLE_SECONDS`; how many."""
    cutoff = _db_now(session) - IDLE_SECONDS
    result = session.execute(
        delete(PaceCell).where(
            func.coalesce(PaceCell.tat, 0.0) < cutoff,
            func.coalesce(PaceCell.held_until, 0.0) < cutoff,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
