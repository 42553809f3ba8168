"""check-in activity and payouts shown to ops

`time_entries.last_active_at` is the last time a checked-in person did anything
in hdops (a command, a button, a form, a thread reply): a check-in with no
activity for a while closes by itself at that moment, so a forgotten check-in
is never paid as a week of work.

`payout_weeks.revision` goes up whenever the week's drafted statements change;
`shown_revision` is the revision ops were last shown (the Monday summary,
`payouts show`, `/hdops payouts`). Approve is refused while they differ: ops
approve what they have seen.

Plain `ADD COLUMN`s: on SQLite no table is rebuilt, so the payout triggers of
migration 0003 stay as they are.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hdops.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "time_entries",
        sa.Column("last_active_at", hdops.store.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "payout_weeks", sa.Column("revision", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "payout_weeks",
        sa.Column("shown_revision", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("payout_weeks", schema=None) as batch_op:
        batch_op.drop_column("shown_revision")
        batch_op.drop_column("revision")
    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.drop_column("last_active_at")
