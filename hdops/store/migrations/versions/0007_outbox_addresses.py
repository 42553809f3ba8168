"""outbox addresses: a platform per message, and the person's last platform

A message is addressed to one platform when it is written (the person's last
used platform for direct messages; the parent's platform for replies and
edits), and only a process serving that platform sends it: `hdops chat` beside
`hdops run` no longer takes Slack's messages. `ref_key` lets a reply written
before its parent is sent find the parent's platform. `sending` is set while a
process holds a row and cleared with its outcome: a row claimed while it is
still set was held by a process that died, and may have been sent already
(the platform is asked before it is sent again).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 11:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite: nothing else about these tables changes).
    op.add_column("outbox", sa.Column("platform", sa.String(length=16), nullable=True))
    op.add_column("outbox", sa.Column("ref_key", sa.String(length=64), nullable=True))
    op.add_column(
        "outbox",
        sa.Column("sending", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index("ix_outbox_ref_key", "outbox", ["ref_key"], unique=False)
    op.add_column("persons", sa.Column("last_platform", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("last_platform")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_ref_key")
        batch_op.drop_column("sending")
        batch_op.drop_column("ref_key")
        batch_op.drop_column("platform")
