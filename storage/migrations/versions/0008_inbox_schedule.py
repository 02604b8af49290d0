"""inbox of updates, per-case schedule of the next action, report indexes

The `inbox` table replaces `processed_updates`: an update is stored on receipt and marked
done by its handler's transaction (handled ids are carried over as done rows). Open cases get
`next_action_at` = their receipt, so the first tick after the upgrade looks at each of them
once and schedules what comes next.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The open statuses of bot.domain.statuses at the time of this migration.
OPEN_STATUSES = ("received", "assigned", "in_progress", "extended", "transferred")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("bot_id", "update_id", name=op.f("pk_inbox")),
    )
    op.create_index("ix_inbox_queue", "inbox", ["bot_id", "status", "update_id"])
    op.create_index("ix_inbox_chat", "inbox", ["bot_id", "chat_id", "update_id"])
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"])
    op.execute(
        "INSERT INTO inbox (bot_id, update_id, status, attempts, next_attempt_at, received_at, "
        "handled_at) SELECT bot_id, update_id, 'done', 1, at, at, at FROM processed_updates"
    )
    op.drop_table("processed_updates")

    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("next_action_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(op.f("ix_cases_next_action_at"), ["next_action_at"])
        batch.create_index("ix_cases_received_at", ["received_at"])
        batch.create_index("ix_cases_answered_at", ["answered_at"])
        batch.create_index("ix_cases_closed_at", ["closed_at"])
    cases = sa.table(
        "cases",
        sa.column("status", sa.String),
        sa.column("received_at", sa.DateTime(timezone=True)),
        sa.column("next_action_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        cases.update()
        .where(cases.c.status.in_(OPEN_STATUSES))
        .values(next_action_at=cases.c.received_at)
    )
    op.create_index("ix_case_events_action_at", "case_events", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_case_events_action_at", table_name="case_events")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_closed_at")
        batch.drop_index("ix_cases_answered_at")
        batch.drop_index("ix_cases_received_at")
        batch.drop_index(op.f("ix_cases_next_action_at"))
        batch.drop_column("next_action_at")

    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", "bot_id", name=op.f("pk_processed_updates")),
    )
    # Pending updates cannot be handed back to Telegram: only the handled ones are kept.
    op.execute(
        "INSERT INTO processed_updates (update_id, bot_id, at) "
        "SELECT update_id, bot_id, received_at FROM inbox WHERE status = 'done'"
    )
    op.drop_index("ix_inbox_received_at", table_name="inbox")
    op.drop_index("ix_inbox_chat", table_name="inbox")
    op.drop_index("ix_inbox_queue", table_name="inbox")
    op.drop_table("inbox")
