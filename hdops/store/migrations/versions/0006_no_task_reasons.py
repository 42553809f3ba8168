"""no-task reasons told, and questions by assignment

`contractor_profiles.no_task_told` keeps the fingerprint of the reasons a
contractor was last given for having no task, so a push tells them again only
when the reasons change. Questions are looked up by their assignment when a
resolved item is offered again, hence the index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contractor_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("no_task_told", sa.String(length=64), nullable=True))
    with op.batch_alter_table("clarifications", schema=None) as batch_op:
        batch_op.create_index("ix_clarifications_assignment", ["assignment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clarifications", schema=None) as batch_op:
        batch_op.drop_index("ix_clarifications_assignment")
    with op.batch_alter_table("contractor_profiles", schema=None) as batch_op:
        batch_op.drop_column("no_task_told")
