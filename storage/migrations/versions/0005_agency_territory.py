"""agencies know their territory; cases record the commune that routed them

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as batch:
        batch.add_column(sa.Column("unit_code", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("unit_code", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("unit_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("place", sa.Text(), nullable=True))
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch.create_index(batch.f("ix_cases_unit_status"), ["unit_status"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(batch.f("ix_cases_unit_status"))
        batch.drop_column("longitude")
        batch.drop_column("latitude")
        batch.drop_column("place")
        batch.drop_column("unit_status")
        batch.drop_column("unit_code")
    with op.batch_alter_table("agencies") as batch:
        batch.drop_column("kind")
        batch.drop_column("unit_code")
