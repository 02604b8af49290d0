"""The outbox: messages written in the transaction that causes them, claimed by senders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, OutboxMessage


def _claimable(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        now: datetime,
        case_id: int | None = None,
        link_kind: str | None = None,
        purpose: str = "",
    ) -> OutboxMessage:
        """Queue one message in the caller's transaction (inserted when the session flushes:
        a tick that queues a hundred messages writes them in one statement)."""
        row = OutboxMessage(
            chat_id=chat_id,
            method=method,
            payload=payload,
            case_id=case_id,
            link_kind=link_kind,
            purpose=purpose,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        self.session.add(row)
        return row

    async def claim(self, now: datetime, *, until: datetime, token: str, batch: int) -> list[int]:
        """Mark up to `batch` due rows as being sent by `token`; their ids."""
        ids = (
            await self.session.scalars(
                select(OutboxMessage.id)
                .where(_claimable(now))
                .order_by(OutboxMessage.id)
                .limit(batch)
            )
        ).all()
        if not ids:
            return []
        # The status condition is checked again under the row lock, so two workers on
        # PostgreSQL never claim the same row.
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), _claimable(now))
            .values(status="sending", claim_token=token, claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        return list(ids)

    async def claimed(self, token: str) -> Sequence[OutboxMessage]:
        """The rows this claim token holds, oldest first."""
        return (
            await self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.claim_token == token, OutboxMessage.status == "sending")
                .order_by(OutboxMessage.id)
            )
        ).all()

    async def release(self, row_id: int, when: datetime, error: str | None = None) -> None:
        """Put a claimed row back, to be tried at `when` (counting a failed attempt)."""
        values: dict[str, Any] = {
            "status": "pending",
            "claim_token": None,
            "claimed_until": None,
            "next_attempt_at": when,
        }
        if error is not None:
            values["last_error"] = error
            values["attempts"] = OutboxMessage.attempts + 1
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
        )

    async def mark_sent(self, row_id: int, message_id: int | None, now: datetime) -> None:
        """Record a delivered row with Telegram's message id."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(
                status="sent",
                sent_message_id=message_id,
                sent_at=now,
                claim_token=None,
                claimed_until=None,
                attempts=OutboxMessage.attempts + 1,
            )
        )

    async def mark_failed(self, row_id: int, error: str) -> None:
        """Record a row that failed for good."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(
                status="failed",
                last_error=error,
                claim_token=None,
                claimed_until=None,
                attempts=OutboxMessage.attempts + 1,
            )
        )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: move its binding and its undelivered messages."""
        await self.session.execute(
            update(Agency).where(Agency.chat_id == old_chat_id).values(chat_id=new_chat_id)
        )
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id == old_chat_id,
                OutboxMessage.status.in_(("pending", "sending")),
            )
            .values(chat_id=new_chat_id, status="pending", claim_token=None, claimed_until=None)
        )

    async def pending_link(
        self, case_id: int, chat_id: int, link_kind: str
    ) -> OutboxMessage | None:
        """The oldest undelivered message of this kind for the case in the chat."""
        return await self.session.scalar(
            select(OutboxMessage)
            .where(
                OutboxMessage.case_id == case_id,
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.link_kind == link_kind,
                OutboxMessage.status == "pending",
            )
            .order_by(OutboxMessage.id)
            .limit(1)
        )
