"""preferred platform: `/hdops prefer slack|discord|console|last`

A person with identities on several platforms gets direct messages on the one
they used last (migration 0007); `preferred_platform` pins them to one instead,
while they have an identity there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("persons", sa.Column("preferred_platform", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("persons") as batch_op:
        batch_op.drop_column("preferred_platform")
