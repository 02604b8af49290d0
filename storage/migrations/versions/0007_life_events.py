"""life events added by admins beside the bundled knowledge/data/life_events.tsv

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "life_event_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("triggers", sa.Text(), nullable=False),
        sa.Column("procedures", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_event_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_life_event_entries_key")),
    )


def downgrade() -> None:
    op.drop_table("life_event_entries")
