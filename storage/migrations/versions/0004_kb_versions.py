"""knowledge-base versions, retired and sample rows, stored admins

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows that exist before this migration are treated as the province's own (sample=false):
    # a KB that was already in use is never removed as if it were the demo.
    with op.batch_alter_table("procedures") as batch:
        batch.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("sample", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("agencies") as batch:
        batch.add_column(
            sa.Column("sample", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "kb_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("replace", sa.Boolean(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_versions")),
    )
    op.create_table(
        "admins",
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("telegram_id", name=op.f("pk_admins")),
    )


def downgrade() -> None:
    op.drop_table("admins")
    op.drop_table("kb_versions")
    with op.batch_alter_table("agencies") as batch:
        batch.drop_column("sample")
    with op.batch_alter_table("procedures") as batch:
        batch.drop_column("sample")
        batch.drop_column("retired_at")
