"""outbox lanes and retries

Delivery keeps order per lane (a person's DMs, one thread, one channel set, the
edits of one message) and sends different lanes concurrently, so each row
records its lane. `retried_at` is set when ops retry a failed row: its maximum
age counts again from then.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hdops.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("retried_at", hdops.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_outbox_lane", ["lane", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_lane")
        batch_op.drop_column("retried_at")
        batch_op.drop_column("lane")
