"""review queue: flagged answers and their review

Answers from contractors who fell under a project's bar, or given far faster
than usual, wait for review with status `flagged` (`hdops review PROJECT`);
`flag_reasons` says why, and `reviewed_by`/`reviewed_at` record the decision
(an answer decided in review is never flagged again). The index serves the
queue (a project's answers by status) and, covering `seconds_spent`, the
project's typical answer time read on every answer.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hdops.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flag_reasons", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("flagged_at", hdops.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reviewed_at", hdops.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_answers_reviewed_by_persons"), "persons", ["reviewed_by"], ["id"]
        )
        batch_op.create_index(
            "ix_answers_project_status_time",
            ["project_id", "status", "answered_at", "seconds_spent"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_index("ix_answers_project_status_time")
        batch_op.drop_constraint(batch_op.f("fk_answers_reviewed_by_persons"), type_="foreignkey")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("flagged_at")
        batch_op.drop_column("flag_reasons")
