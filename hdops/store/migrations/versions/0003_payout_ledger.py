"""payout ledger: week locks, stable line keys, adjustment sources, immutability triggers

Payouts (SPEC §8) need a lock per ISO week (`payout_weeks`), the active time
behind each statement's effective hourly rate, a stable key per statement line
(disputes point at lines that survive re-drafts) and a unique source on
automatic adjustments (a correction is booked once).

"Approved statements never change" is enforced in the database as well as in
the ORM: triggers refuse every INSERT/UPDATE/DELETE that would touch an approved
week, its statements, their lines or its adjustments, whatever code runs it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hdops.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LOCKED = "approved payouts never change"

# SQLite: RAISE(ABORT) is reported as a constraint failure (IntegrityError).
_SQLITE_WEEK_LOCKED = (
    "EXISTS (SELECT 1 FROM payout_weeks w WHERE w.week = {ref} AND w.status = 'approved')"
)
_SQLITE_STATEMENT_LOCKED = (
    "(SELECT s.status FROM payout_statements s WHERE s.id = {ref}) = 'approved'"
)
SQLITE_TRIGGERS = {
    "payout_weeks_locked_update": ("BEFORE UPDATE ON payout_weeks", "OLD.status = 'approved'"),
    "payout_weeks_locked_delete": ("BEFORE DELETE ON payout_weeks", "OLD.status = 'approved'"),
    "payout_statements_locked_insert": (
        "BEFORE INSERT ON payout_statements",
        _SQLITE_WEEK_LOCKED.format(ref="NEW.week"),
    ),
    "payout_statements_locked_update": (
        "BEFORE UPDATE ON payout_statements",
        "OLD.status = 'approved'",
    ),
    "payout_statements_locked_delete": (
        "BEFORE DELETE ON payout_statements",
        "OLD.status = 'approved'",
    ),
    "payout_lines_locked_insert": (
        "BEFORE INSERT ON payout_lines",
        _SQLITE_STATEMENT_LOCKED.format(ref="NEW.statement_id"),
    ),
    "payout_lines_locked_update": (
        "BEFORE UPDATE ON payout_lines",
        _SQLITE_STATEMENT_LOCKED.format(ref="OLD.statement_id")
        + " OR "
        + _SQLITE_STATEMENT_LOCKED.format(ref="NEW.statement_id"),
    ),
    "payout_lines_locked_delete": (
        "BEFORE DELETE ON payout_lines",
        _SQLITE_STATEMENT_LOCKED.format(ref="OLD.statement_id"),
    ),
    "adjustments_locked_insert": (
        "BEFORE INSERT ON adjustments",
        _SQLITE_WEEK_LOCKED.format(ref="NEW.week"),
    ),
    "adjustments_locked_update": (
        "BEFORE UPDATE ON adjustments",
        _SQLITE_WEEK_LOCKED.format(ref="OLD.week")
        + " OR "
        + _SQLITE_WEEK_LOCKED.format(ref="NEW.week"),
    ),
    "adjustments_locked_delete": (
        "BEFORE DELETE ON adjustments",
        _SQLITE_WEEK_LOCKED.format(ref="OLD.week"),
    ),
}

# PostgreSQL: trigger WHEN clauses cannot hold subqueries, so each table gets a
# function; errors use SQLSTATE 23001 (restrict_violation), an IntegrityError.
PG_FUNCTIONS = {
    "hdops_payout_weeks_guard": """
BEGIN
  IF OLD.status = 'approved' THEN
    RAISE EXCEPTION '{locked} (week %)', OLD.week USING ERRCODE = 'restrict_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END""",
    "hdops_payout_statements_guard": """
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF EXISTS (SELECT 1 FROM payout_weeks w WHERE w.week = NEW.week AND w.status = 'approved')
    THEN
      RAISE EXCEPTION '{locked} (week %)', NEW.week USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF OLD.status = 'approved' THEN
    RAISE EXCEPTION '{locked} (statement %)', OLD.id USING ERRCODE = 'restrict_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END""",
    "hdops_payout_lines_guard": """
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
      SELECT 1 FROM payout_statements s WHERE s.id = OLD.statement_id AND s.status = 'approved')
  THEN
    RAISE EXCEPTION '{locked} (statement %)', OLD.statement_id
      USING ERRCODE = 'restrict_violation';
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
      SELECT 1 FROM payout_statements s WHERE s.id = NEW.statement_id AND s.status = 'approved')
  THEN
    RAISE EXCEPTION '{locked} (statement %)', NEW.statement_id
      USING ERRCODE = 'restrict_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END""",
    "hdops_adjustments_guard": """
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
      SELECT 1 FROM payout_weeks w WHERE w.week = OLD.week AND w.status = 'approved')
  THEN
    RAISE EXCEPTION '{locked} (week %)', OLD.week USING ERRCODE = 'restrict_violation';
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
      SELECT 1 FROM payout_weeks w WHERE w.week = NEW.week AND w.status = 'approved')
  THEN
    RAISE EXCEPTION '{locked} (week %)', NEW.week USING ERRCODE = 'restrict_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END""",
}
PG_TRIGGERS = {
    "payout_weeks_guard": (
        "BEFORE UPDATE OR DELETE ON payout_weeks",
        "hdops_payout_weeks_guard",
    ),
    "payout_statements_guard": (
        "BEFORE INSERT OR UPDATE OR DELETE ON payout_statements",
        "hdops_payout_statements_guard",
    ),
    "payout_lines_guard": (
        "BEFORE INSERT OR UPDATE OR DELETE ON payout_lines",
        "hdops_payout_lines_guard",
    ),
    "adjustments_guard": (
        "BEFORE INSERT OR UPDATE OR DELETE ON adjustments",
        "hdops_adjustments_guard",
    ),
}


def _create_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, (when_on, condition) in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when_on} FOR EACH ROW WHEN {condition} "
                f"BEGIN SELECT RAISE(ABORT, '{LOCKED} ({name})'); END"
            )
    elif dialect == "postgresql":
        for name, body in PG_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
                f"{body.format(locked=LOCKED)}\n$$"
            )
        for name, (when_on, function) in PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when_on} FOR EACH ROW EXECUTE FUNCTION {function}()"
            )


def _drop_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for name, (when_on, _) in PG_TRIGGERS.items():
            table = when_on.rsplit(" ", 1)[-1]
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")


def upgrade() -> None:
    op.create_table(
        "payout_weeks",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("drafted_at", hdops.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", hdops.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["persons.id"], name=op.f("fk_payout_weeks_approved_by_persons")
        ),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_payout_weeks")),
    )
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_adjustments_source"), ["source"])
    with op.batch_alter_table("payout_statements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active_seconds", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key", sa.String(length=64), server_default="", nullable=False)
        )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        batch_op.drop_column("key")
    with op.batch_alter_table("payout_statements", schema=None) as batch_op:
        batch_op.drop_column("active_seconds")
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_adjustments_source"), type_="unique")
        batch_op.drop_column("source")
    op.drop_table("payout_weeks")
