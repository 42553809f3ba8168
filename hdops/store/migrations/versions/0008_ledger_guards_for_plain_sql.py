"""ledger guards for plain SQL: SQLite REPLACE and PostgreSQL TRUNCATE

Migration 0003's row triggers keep approved payouts unchanged under INSERT,
UPDATE and DELETE, but two kinds of plain SQL went round them:

* SQLite's REPLACE conflict resolution (`INSERT OR REPLACE`, `REPLACE INTO`,
  `UPDATE OR REPLACE`) deletes the conflicting row *without* firing delete
  triggers (unless `recursive_triggers` is on, which a `sqlite3` shell does not
  set). So each ledger table gets a BEFORE INSERT trigger refusing a row whose
  key (primary or unique) is held by an approved row, and a BEFORE UPDATE
  trigger refusing an update that would move a row onto such a key.
* PostgreSQL's TRUNCATE fires no row triggers. Each ledger table gets a
  statement-level BEFORE TRUNCATE trigger that refuses while the table holds
  approved rows (TRUNCATE … CASCADE fires it for every table it reaches).

Emptying a database on purpose (tests do) runs with
`session_replication_role = replica`, which only a superuser may set.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 12:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LOCKED = "approved payouts never change"

_WEEK = "EXISTS (SELECT 1 FROM payout_weeks w WHERE w.week = {ref} AND w.status = 'approved')"
_STATEMENT = (
    "EXISTS (SELECT 1 FROM payout_statements s WHERE s.status = 'approved' AND "
    "(s.id = {new}.id OR (s.person_id = {new}.person_id AND s.week = {new}.week "
    "AND s.currency = {new}.currency)))"
)
_LINE = (
    "EXISTS (SELECT 1 FROM payout_lines l JOIN payout_statements s ON s.id = l.statement_id "
    "WHERE l.id = NEW.id AND s.status = 'approved')"
)
_ADJUSTMENT = (
    "EXISTS (SELECT 1 FROM adjustments a JOIN payout_weeks w ON w.week = a.week "
    "WHERE w.status = 'approved' AND (a.id = NEW.id OR a.source = NEW.source))"
)

# name: (when/on, condition) — the row a REPLACE would delete is an approved one.
SQLITE_TRIGGERS = {
    "payout_weeks_replace_insert": ("BEFORE INSERT ON payout_weeks", _WEEK.format(ref="NEW.week")),
    "payout_weeks_replace_update": (
        "BEFORE UPDATE ON payout_weeks",
        "NEW.week IS NOT OLD.week AND " + _WEEK.format(ref="NEW.week"),
    ),
    "payout_statements_replace_insert": (
        "BEFORE INSERT ON payout_statements",
        _STATEMENT.format(new="NEW"),
    ),
    "payout_statements_replace_update": (
        "BEFORE UPDATE ON payout_statements",
        _STATEMENT.format(new="NEW"),
    ),
    "payout_lines_replace_insert": ("BEFORE INSERT ON payout_lines", _LINE),
    "payout_lines_replace_update": (
        "BEFORE UPDATE ON payout_lines",
        "NEW.id IS NOT OLD.id AND " + _LINE,
    ),
    "adjustments_replace_insert": ("BEFORE INSERT ON adjustments", _ADJUSTMENT),
    "adjustments_replace_update": (
        "BEFORE UPDATE ON adjustments",
        "(NEW.id IS NOT OLD.id OR NEW.source IS NOT OLD.source) AND " + _ADJUSTMENT,
    ),
}

# table: condition under which the table holds approved rows.
PG_TRUNCATE = {
    "payout_weeks": "EXISTS (SELECT 1 FROM payout_weeks WHERE status = 'approved')",
    "payout_statements": "EXISTS (SELECT 1 FROM payout_statements WHERE status = 'approved')",
    "payout_lines": (
        "EXISTS (SELECT 1 FROM payout_lines l JOIN payout_statements s "
        "ON s.id = l.statement_id WHERE s.status = 'approved')"
    ),
    "adjustments": (
        "EXISTS (SELECT 1 FROM adjustments a JOIN payout_weeks w ON w.week = a.week "
        "WHERE w.status = 'approved')"
    ),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, (when_on, condition) in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when_on} FOR EACH ROW WHEN {condition} "
                f"BEGIN SELECT RAISE(ABORT, '{LOCKED} ({name})'); END"
            )
    elif dialect == "postgresql":
        for table, condition in PG_TRUNCATE.items():
            op.execute(
                f"CREATE FUNCTION hdops_{table}_truncate_guard() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$\nBEGIN\n  IF {condition} THEN\n"
                f"    RAISE EXCEPTION '{LOCKED} (TRUNCATE {table})' "
                "USING ERRCODE = 'restrict_violation';\n  END IF;\n  RETURN NULL;\nEND\n$$"
            )
            op.execute(
                f"CREATE TRIGGER {table}_truncate_guard BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION hdops_{table}_truncate_guard()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for table in PG_TRUNCATE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_truncate_guard ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS hdops_{table}_truncate_guard()")
