"""shift swaps and revisions

Shifts gain a pending swap (who was asked to take the shift over, and when) and
a revision counter that goes up on every change, so reminders are deduplicated
per revision and calendar feeds carry a SEQUENCE.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:57:00.954161
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hdops.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("swap_to", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "swap_requested_at",
                hdops.store.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_shifts_swap_to_persons"), "persons", ["swap_to"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_shifts_swap_to_persons"), type_="foreignkey")
        batch_op.drop_column("revision")
        batch_op.drop_column("swap_requested_at")
        batch_op.drop_column("swap_to")
