"""The outbox: messages written in the transaction that causes them, claimed by senders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Agency, AnswerDraft, MessageLink, OutboxMessage

# Rows that still have to reach their chat (they hold the chat's later rows back).
OPEN = ("pending", "sending")
SEND_METHODS = ("send_message", "send_photo", "send_document", "send_media_group")


def _album_size(row: OutboxMessage) -> int:
    """How many messages one delivery of the row makes (an album has one per file)."""
    if row.method == "send_media_group":
        return max(1, len((row.payload or {}).get("media") or ()))
    return 1


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )


def _claimable(now: Any) -> Any:
    """Due, and no earlier message of the same chat is waiting or being sent: a chat's
    messages reach it in the order they were written (a 429 on one holds the rest)."""
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        earlier.chat_id == OutboxMessage.chat_id,
        earlier.id < OutboxMessage.id,
        or_(
            and_(earlier.status == "pending", earlier.next_attempt_at > now),
            and_(earlier.status == "sending", earlier.claimed_until >= now),
        ),
    )
    return and_(_due(now), ~blocked)


@cache
def _claim_statements() -> tuple[Any, Any]:
    """The claim's two statements, built once with their values as parameters (`now`, `batch`,
    `ids`, `token`, `until`): building them (the alias above) cost ~1 ms each, per claim."""
    column = OutboxMessage.__table__.c
    now = bindparam("now", type_=column.next_attempt_at.type)
    ids = (
        select(OutboxMessage.id)
        .where(_claimable(now))
        .order_by(OutboxMessage.id)
        .limit(bindparam("batch", type_=Integer))
    )
    mark = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)), _claimable(now))
        .values(
            status="sending",
            claim_token=bindparam("token", type_=column.claim_token.type),
            claimed_until=bindparam("until", type_=column.claimed_until.type),
            unsure=case(
                (OutboxMessage.status == "sending", OutboxMessage.unsure + 1),
                else_=OutboxMessage.unsure,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return ids, mark


# Set in `Session.info` when the session queued a message: its commit should wake the sender.
QUEUED = "outbox_queued"


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
        self.session.info[QUEUED] = True
        return row

    async def claim(self, now: datetime, *, until: datetime, token: str, batch: int) -> list[int]:
        """Mark up to `batch` due rows as being sent by `token`; their ids.

        A row whose claim expired was being sent by a worker that died: Telegram may have
        delivered it, so it is counted as an unsure attempt."""
        if self.session.get_bind().dialect.name == "postgresql":
            # One claimer at a time, so two workers never split one chat's queue.
            await self.session.execute(text("SELECT pg_advisory_xact_lock(726900001)"))
        select_ids, mark = _claim_statements()
        ids = (await self.session.scalars(select_ids, {"now": now, "batch": batch})).all()
        if not ids:
            return []
        # The status condition is checked again under the row lock, so two workers on
        # PostgreSQL never claim the same row.
        await self.session.execute(
            mark, {"now": now, "ids": list(ids), "token": token, "until": until}
        )
        return list(ids)

    async def extend(self, row_id: int, token: str, until: datetime) -> bool:
        """Keep the claim while this row is sent; False if another worker took it over."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.claim_token == token,
                OutboxMessage.status == "sending",
            )
            .values(claimed_until=until)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def claimed(self, token: str) -> Sequence[OutboxMessage]:
        """The rows this claim token holds, oldest first."""
        return (
            await self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.claim_token == token, OutboxMessage.status == "sending")
                .order_by(OutboxMessage.id)
            )
        ).all()

    async def release(
        self,
        row_id: int,
        when: datetime,
        error: str | None = None,
        *,
        count: bool = True,
        failing_since: datetime | None = None,
        unsure: bool = False,
    ) -> None:
        """Put a claimed row back, to be tried at `when`. With an `error` the attempt is
        recorded, and counted unless `count` is False (a 429 is Telegram's pacing, not a
        failure); `failing_since` starts the time budget of a 5xx/network streak; `unsure`
        records that Telegram may have delivered it."""
        values: dict[str, Any] = {
            "status": "pending",
            "claim_token": None,
            "claimed_until": None,
            "next_attempt_at": when,
        }
        if error is not None:
            values["last_error"] = error
            if count:
                values["attempts"] = OutboxMessage.attempts + 1
        if failing_since is not None:
            values["failing_since"] = func.coalesce(OutboxMessage.failing_since, failing_since)
        if unsure:
            values["unsure"] = OutboxMessage.unsure + 1
        # Only a claimed row: repeated after a commit whose answer was lost, it changes nothing.
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == "sending")
            .values(**values)
        )

    async def mark_sent(
        self,
        row_id: int,
        message_id: int | None,
        now: datetime,
        *,
        duplicates: int = 0,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Record a delivered row with Telegram's message id (and copies beyond the first;
        `payload` replaces the row's, e.g. to keep what its possible copies look like).
        False if it was recorded already (a repeated transaction whose commit had landed)."""
        values: dict[str, Any] = {
            "status": "sent",
            "sent_message_id": message_id,
            "sent_at": now,
            "claim_token": None,
            "claimed_until": None,
            "attempts": OutboxMessage.attempts + 1,
            "duplicates": OutboxMessage.duplicates + duplicates,
        }
        if payload is not None:
            values["payload"] = payload
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status != "sent")
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def cancel(self, row_id: int, reason: str) -> None:
        """A row that no longer has anything to say (e.g. a card for a group the case left)."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status="cancelled", last_error=reason, claim_token=None, claimed_until=None)
        )

    async def cancel_pending(self, case_id: int, chat_id: int, reason: str) -> int:
        """Cancel the case's messages still waiting for this chat (not those being sent)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.case_id == case_id,
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status == "pending",
                OutboxMessage.method.in_(SEND_METHODS),
            )
            .values(status="cancelled", last_error=reason)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def pending_edit(self, chat_id: int, message_id: int) -> OutboxMessage | None:
        """A waiting (not yet claimed) edit of this message: a newer edit joins it, since
        edits are rendered when they are sent (the last state wins)."""
        rows = await self.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.method == "edit_message_text",
                OutboxMessage.status == "pending",
            )
        )
        for row in rows:
            if (row.payload or {}).get("message_id") == message_id:
                return row
        return None

    async def last_sent_id(self, chat_id: int) -> int | None:
        """The highest message id our sends received in this chat (an album's last one)."""
        row = await self.session.scalar(
            select(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status == "sent",
                OutboxMessage.method.in_(SEND_METHODS),
                OutboxMessage.sent_message_id.is_not(None),
            )
            .order_by(OutboxMessage.sent_message_id.desc())
            .limit(1)
        )
        if row is None or row.sent_message_id is None:
            return None
        return row.sent_message_id + _album_size(row) - 1

    async def known_ids(self, chat_id: int, low: int, high: int) -> set[int]:
        """Message ids strictly between `low` and `high` in the chat that are known to be other
        messages of ours: delivered rows (every message of an album), messages linked to a
        case (cards, copies found, prompts) and answer previews."""
        known: set[int] = set()
        rows = await self.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status == "sent",
                OutboxMessage.sent_message_id.is_not(None),
                OutboxMessage.sent_message_id < high,
                OutboxMessage.sent_message_id > low - 10,
            )
        )
        for row in rows:
            first = int(row.sent_message_id or 0)
            known.update(range(first, first + _album_size(row)))
        known.update(
            await self.session.scalars(
                select(MessageLink.message_id).where(
                    MessageLink.chat_id == chat_id,
                    MessageLink.message_id > low,
                    MessageLink.message_id < high,
                )
            )
        )
        known.update(
            i
            for i in await self.session.scalars(
                select(AnswerDraft.preview_message_id).where(
                    AnswerDraft.chat_id == chat_id,
                    AnswerDraft.preview_message_id > low,
                    AnswerDraft.preview_message_id < high,
                )
            )
            if i is not None
        )
        return {i for i in known if low < i < high}

    async def counts(self) -> dict[str, int]:
        """Rows by status, and the duplicate copies counted (for reports and the fault suite)."""
        rows = await self.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        result = {status: int(n) for status, n in rows}
        result["duplicates"] = int(
            await self.session.scalar(select(func.coalesce(func.sum(OutboxMessage.duplicates), 0)))
            or 0
        )
        return result

    async def mark_failed(self, row_id: int, error: str) -> bool:
        """Record a row that failed for good; False if it was recorded already."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status != "failed")
            .values(
                status="failed",
                last_error=error,
                claim_token=None,
                claimed_until=None,
                attempts=OutboxMessage.attempts + 1,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

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

    async def last_id(self) -> int:
        """The newest row's id (0 for an empty outbox)."""
        return int(await self.session.scalar(select(func.max(OutboxMessage.id))) or 0)

    async def after(self, row_id: int) -> Sequence[OutboxMessage]:
        """The rows written after `row_id`, oldest first."""
        return (
            await self.session.scalars(
                select(OutboxMessage).where(OutboxMessage.id > row_id).order_by(OutboxMessage.id)
            )
        ).all()

    async def highest_message_id(self) -> int:
        """The highest message id a delivered row or a case link holds (0 if none)."""
        sent = await self.session.scalar(select(func.max(OutboxMessage.sent_message_id)))
        linked = await self.session.scalar(select(func.max(MessageLink.message_id)))
        return max(int(sent or 0), int(linked or 0))

    async def latest_created_at(self) -> datetime | None:
        """When the newest message was queued."""
        return await self.session.scalar(select(func.max(OutboxMessage.created_at)))

    async def sent_to(self, chat_id: int, limit: int) -> Sequence[OutboxMessage]:
        """The newest delivered rows of one chat (messages and their edits), oldest first."""
        rows = (
            await self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.chat_id == chat_id, OutboxMessage.status == "sent")
                .order_by(OutboxMessage.id.desc())
                .limit(limit)
            )
        ).all()
        return list(reversed(rows))

    async def prune_sent(self, before: datetime) -> int:
        """Forget messages delivered before `before` (their links to cases stay)."""
        result = await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status == "sent", OutboxMessage.sent_at < before
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def health(self, now: datetime) -> tuple[int, int, datetime | None, datetime | None]:
        """Undelivered messages, failed ones, the oldest undelivered one's creation time, and
        the oldest due time among those waiting to be sent."""
        undelivered = OutboxMessage.status.in_(("pending", "sending"))
        depth, oldest = (
            await self.session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(undelivered)
            )
        ).one()
        failed = await self.session.scalar(
            select(func.count()).where(OutboxMessage.status == "failed")
        )
        oldest_due = await self.session.scalar(
            select(func.min(OutboxMessage.next_attempt_at)).where(_claimable(now))
        )
        return int(depth or 0), int(failed or 0), oldest, oldest_due
