"""shared pacing: platform rate-limit cells every worker books against

Several `hdops run` workers on one PostgreSQL store send through the same Slack
app and Discord bot, whose limits (one post a second per channel, calls a minute
per method) count all of them together. Each row is one limit's GCRA state in
the database's epoch seconds (see `hdops.services.shared_pacing`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pace_cells",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tat", sa.Float(precision=53), nullable=True),
        sa.Column("held_until", sa.Float(precision=53), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pace_cells")),
    )


def downgrade() -> None:
    op.drop_table("pace_cells")
