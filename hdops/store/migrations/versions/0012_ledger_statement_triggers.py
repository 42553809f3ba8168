"""ledger guards on statements and lines: one check per statement on PostgreSQL

Migration 0003's guards on `payout_statements` and `payout_lines` were row
triggers: a first draft of a thousand contractors ran a PL/pgSQL function and a
lookup for each of its ~10,000 lines and 1,000 statements. On PostgreSQL they
become AFTER … FOR EACH STATEMENT triggers over transition tables (the rows the
statement inserted, updated or deleted), one set-based check per statement. The
guarantee is the same: an INSERT, UPDATE or DELETE that would add to, change or
remove an approved statement or a line of one is refused with
`restrict_violation` ("approved payouts never change"), and the statement's
changes are undone with it. Checked after the statement, the guard also sees
what a writable CTE did elsewhere in the same statement.

Weeks and adjustments keep their row triggers (a handful of rows per write);
TRUNCATE stays refused by 0008's statement triggers; SQLite keeps its row
triggers (it has no statement triggers). 0003's functions stay in place so that
downgrading restores its row triggers exactly.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LOCKED = "approved payouts never change"

_STATEMENTS = """
DECLARE
  hit text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT n.week INTO hit FROM new_rows n
      JOIN payout_weeks w ON w.week = n.week AND w.status = 'approved' LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION '{locked} (week %)', hit USING ERRCODE = 'restrict_violation';
    END IF;
  ELSE
    SELECT o.id INTO hit FROM old_rows o WHERE o.status = 'approved' LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION '{locked} (statement %)', hit USING ERRCODE = 'restrict_violation';
    END IF;
  END IF;
  RETURN NULL;
END"""

_LINES = """
DECLARE
  hit text;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT o.statement_id INTO hit FROM old_rows o
      JOIN payout_statements s ON s.id = o.statement_id AND s.status = 'approved' LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION '{locked} (statement %)', hit USING ERRCODE = 'restrict_violation';
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT n.statement_id INTO hit FROM new_rows n
      JOIN payout_statements s ON s.id = n.statement_id AND s.status = 'approved' LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION '{locked} (statement %)', hit USING ERRCODE = 'restrict_violation';
    END IF;
  END IF;
  RETURN NULL;
END"""

# table: (0003's row trigger, its function, the new statement-level function body)
TABLES = {
    "payout_statements": (
        "payout_statements_guard",
        "hdops_payout_statements_guard",
        _STATEMENTS,
    ),
    "payout_lines": ("payout_lines_guard", "hdops_payout_lines_guard", _LINES),
}
# event: the transition tables it has
EVENTS = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (row_trigger, _, body) in TABLES.items():
        op.execute(f"DROP TRIGGER {row_trigger} ON {table}")
        op.execute(
            f"CREATE FUNCTION hdops_{table}_statement_guard() RETURNS trigger "
            f"LANGUAGE plpgsql AS $${body.format(locked=LOCKED)}\n$$"
        )
        for event, referencing in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {table}_{event}_guard AFTER {event.upper()} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION hdops_{table}_statement_guard()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (row_trigger, row_function, _) in TABLES.items():
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_guard ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS hdops_{table}_statement_guard()")
        op.execute(
            f"CREATE TRIGGER {row_trigger} BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {row_function}()"
        )
