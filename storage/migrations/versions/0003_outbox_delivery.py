"""outbox: time budget for retries, possibly-sent attempts, duplicates; chat order index

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("unsure", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("duplicates", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.create_index("ix_outbox_chat_status", ["chat_id", "status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_chat_status")
        batch_op.drop_column("duplicates")
        batch_op.drop_column("unsure")
        batch_op.drop_column("failing_since")
