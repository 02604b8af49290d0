"""operations: shared rate-limit bookings; FSM rows remember when they were last written

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_bookings")),
    )
    op.create_index("ix_rate_bookings_key_at", "rate_bookings", ["key", "at"], unique=False)
    op.create_index(op.f("ix_rate_bookings_at"), "rate_bookings", ["at"], unique=False)
    with op.batch_alter_table("fsm_records") as batch:
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_fsm_records_updated_at"), ["updated_at"], unique=False)
    # Conversations from before this revision count from now.
    op.execute(sa.text("UPDATE fsm_records SET updated_at = CURRENT_TIMESTAMP"))


def downgrade() -> None:
    with op.batch_alter_table("fsm_records") as batch:
        batch.drop_index(batch.f("ix_fsm_records_updated_at"))
        batch.drop_column("updated_at")
    op.drop_index(op.f("ix_rate_bookings_at"), table_name="rate_bookings")
    op.drop_index("ix_rate_bookings_key_at", table_name="rate_bookings")
    op.drop_table("rate_bookings")
