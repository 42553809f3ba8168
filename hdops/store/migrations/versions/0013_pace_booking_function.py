"""shared pacing books in one statement on PostgreSQL

A booking used to take four round trips (insert the missing cells, lock them, move
their arrival times, commit) and held the cells' row locks across the Python in
between. Under load every worker books the same few hot cells (`discord:global`
for each Discord call), so each booking queued behind the others' round trips, and
behind their processes' busy event loops while they held the lock. This function
does the same booking inside the server, in one call, holding the locks for
microseconds.

It mirrors `hdops.pacing.conforming_start` and `next_tat` (the Python the
in-memory pacer and SQLite use); `tests/integration/test_shared_pacing.py` checks
the two agree on random sequences of bookings and holds.

Arguments: the limits as parallel arrays (keys, intervals in seconds, bursts), the
longest wait the caller would accept, and `at` — the time to book at, in epoch
seconds (tests); NULL means the database's clock. Returns (wait, booked): booked is
false, and nothing changes, when the call could not go within `max_wait`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 21:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ARGS = "text[], float8[], int[], float8, float8"
_BOOK = """
CREATE FUNCTION hdops_pace_book(
  keys text[], intervals float8[], bursts int[], max_wait float8, at float8 DEFAULT NULL,
  OUT wait float8, OUT booked boolean
) LANGUAGE plpgsql AS $$
DECLARE
  now_s float8;
  start float8;
  earliest float8;
  cell record;
  i int;
BEGIN
  INSERT INTO pace_cells (key) SELECT DISTINCT k FROM unnest(keys) AS k ORDER BY k
    ON CONFLICT DO NOTHING;
  -- Lock in key order, as every booking does, so two bookings never deadlock.
  PERFORM 1 FROM pace_cells WHERE key = ANY (keys) ORDER BY key FOR UPDATE;
  now_s := coalesce(at, extract(epoch FROM clock_timestamp())::float8);
  start := now_s;
  FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
    SELECT tat, held_until INTO cell FROM pace_cells WHERE key = keys[i];
    IF cell.tat IS NULL THEN
      earliest := now_s;
    ELSE
      earliest := greatest(now_s, cell.tat - (bursts[i] - 1) * intervals[i]);
    END IF;
    IF cell.held_until IS NOT NULL AND cell.held_until > now_s THEN
      earliest := greatest(earliest, cell.held_until);
    END IF;
    start := greatest(start, earliest);
  END LOOP;
  wait := start - now_s;
  IF wait <= 1e-9 THEN
    wait := 0.0;
  END IF;
  IF wait > max_wait THEN
    booked := false;
    RETURN;
  END IF;
  FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
    UPDATE pace_cells
      SET tat = CASE WHEN tat IS NULL THEN start ELSE greatest(tat, start) END + intervals[i]
      WHERE key = keys[i];
  END LOOP;
  booked := true;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_BOOK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS hdops_pace_book({_ARGS})")
