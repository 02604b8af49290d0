"""The outbox: every message a case causes is written in the same transaction as the change,
then delivered by `OutboxSender`, so a crash or a Telegram outage never loses one.

Delivery is at-least-once only in one narrow window: a worker that dies after Telegram
accepted a message but before it recorded the message id leaves the row claimed; the claim
expires (`CLAIM_SECONDS`) and the row is sent again. Every other path sends exactly once:
rows are claimed before sending and marked sent right after.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardMarkup, InputMediaDocument, InputMediaPhoto, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.telegram.ratelimit import TelegramRateLimiter
from bot.telegram.retry import outbox_delivery
from storage.models import OutboxMessage
from storage.repositories import EventRepo, MessageLinkRepo, OutboxRepo

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
MAX_ATTEMPTS = 12
METHODS = ("send_message", "send_photo", "send_document", "send_media_group", "edit_message_text")
ALERT_PURPOSE = "admin_alert"


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    case_id: int | None = None,
    link_kind: str | None = None,
    purpose: str = "",
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction."""
    if method not in METHODS:
        raise ValueError(f"unsupported outbox method {method!r}")
    return await OutboxRepo(session).add(
        chat_id=chat_id,
        method=method,
        payload=payload,
        now=now,
        case_id=case_id,
        link_kind=link_kind,
        purpose=purpose,
    )


def keyboard_payload(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    """Serialise a keyboard for the outbox payload."""
    return markup.model_dump(mode="json", exclude_none=True) if markup else None


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class OutboxSender:
    """Claims due outbox rows and sends them, respecting Telegram's limits."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        *,
        admin_ids: list[int],
        limiter: TelegramRateLimiter | None = None,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        max_delay: float = 5.0,
        batch: int = 20,
        failure_text: Callable[[OutboxMessage, str], str] | None = None,
        claim_seconds: float = CLAIM_SECONDS,
    ) -> None:
        self.bot = bot
        # Renders the admins' alert for a message that failed for good (None: no alert).
        self.failure_text = failure_text
        self.sessions = sessions
        self.admin_ids = admin_ids
        self.limiter = limiter or TelegramRateLimiter()
        # Retries are scheduled in real time, whatever the domain clock says.
        self.clock = clock or SystemClock()
        self.monotonic = monotonic
        self.max_delay = max_delay
        self.batch = batch
        self.claim_seconds = claim_seconds
        self.wakeup = asyncio.Event()

    def notify(self) -> None:
        """Wake the worker: something was enqueued."""
        self.wakeup.set()

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Deliver until `stop` is set."""
        while not stop.is_set():
            try:
                stats = await self.deliver_due()
            except Exception:  # keep the worker alive; the row stays claimed and expires
                log.exception("outbox pass failed")
                stats = DeliveryStats()
            if stats.sent or stats.failed:
                continue
            self.wakeup.clear()
            waiters = [
                asyncio.ensure_future(self.wakeup.wait()),
                asyncio.ensure_future(stop.wait()),
            ]
            await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()

    async def _claim(self) -> list[OutboxMessage]:
        now = self.clock.now()
        token = secrets.token_hex(8)
        until = now + timedelta(seconds=self.claim_seconds)
        async with self.sessions.begin() as session:
            claimed = await OutboxRepo(session).claim(
                now, until=until, token=token, batch=self.batch
            )
        if not claimed:
            return []
        async with self.sessions() as session:
            return list(await OutboxRepo(session).claimed(token))

    async def deliver_due(self) -> DeliveryStats:
        """One pass: claim due rows and try each once."""
        stats = DeliveryStats()
        rows = await self._claim()
        held: set[int] = set()  # chats whose earlier message must go first
        for row in rows:
            if row.chat_id in held:
                await self._release(row.id, self.clock.now())
                continue
            delay = await self.limiter.acquire(row.chat_id, self.monotonic())
            if delay > self.max_delay:
                held.add(row.chat_id)
                await self._release(row.id, self.clock.now() + timedelta(seconds=delay))
                stats.retried += 1
                continue
            if delay > 0:
                await asyncio.sleep(delay)
            outcome = await self._send_one(row)
            if outcome == "sent":
                stats.sent += 1
            elif outcome == "retry":
                held.add(row.chat_id)
                stats.retried += 1
            else:
                stats.failed += 1
        return stats

    async def deliver_all(self, max_passes: int = 100) -> DeliveryStats:
        """Deliver until nothing is due (tests, the shell, `citizen-bot tick`)."""
        total = DeliveryStats()
        for _ in range(max_passes):
            stats = await self.deliver_due()
            total.sent += stats.sent
            total.retried += stats.retried
            total.failed += stats.failed
            if not (stats.sent or stats.failed or stats.retried):
                break
        return total

    async def _release(self, row_id: int, when: datetime, error: str | None = None) -> None:
        async with self.sessions.begin() as session:
            await OutboxRepo(session).release(row_id, when, error)

    async def _call(self, row: OutboxMessage) -> list[int]:
        p = dict(row.payload)
        markup = (
            InlineKeyboardMarkup.model_validate(p["reply_markup"])
            if p.get("reply_markup")
            else None
        )
        result: Any
        if row.method == "send_message":
            result = await self.bot.send_message(
                row.chat_id,
                p["text"],
                reply_markup=markup,
                reply_to_message_id=p.get("reply_to_message_id"),
                disable_web_page_preview=p.get("disable_web_page_preview", True),
            )
        elif row.method == "send_photo":
            result = await self.bot.send_photo(
                row.chat_id,
                p["file_id"],
                caption=p.get("caption"),
                reply_markup=markup,
                reply_to_message_id=p.get("reply_to_message_id"),
            )
        elif row.method == "send_document":
            result = await self.bot.send_document(
                row.chat_id,
                p["file_id"],
                caption=p.get("caption"),
                reply_markup=markup,
                reply_to_message_id=p.get("reply_to_message_id"),
            )
        elif row.method == "send_media_group":
            media = [
                InputMediaPhoto(media=m["file_id"])
                if m["kind"] == "photo"
                else InputMediaDocument(media=m["file_id"])
                for m in p["media"]
            ]
            result = await self.bot.send_media_group(
                row.chat_id,
                media=media,  # type: ignore[arg-type]
                reply_to_message_id=p.get("reply_to_message_id"),
            )
        elif row.method == "edit_message_text":
            try:
                result = await self.bot.edit_message_text(
                    text=p["text"],
                    chat_id=row.chat_id,
                    message_id=p["message_id"],
                    reply_markup=markup,
                    disable_web_page_preview=True,
                )
            except TelegramBadRequest as exc:
                if "message is not modified" not in exc.message:
                    raise
                return [p["message_id"]]
        else:  # pragma: no cover - enqueue() refuses unknown methods
            raise ValueError(row.method)
        if isinstance(result, Message):
            return [result.message_id]
        if isinstance(result, list):
            return [m.message_id for m in result]
        return [p.get("message_id", 0)]

    async def _send_one(self, row: OutboxMessage) -> str:
        token = outbox_delivery.set(True)
        try:
            message_ids = await self._call(row)
        except TelegramRetryAfter as exc:
            # Telegram tells how long to wait (Bot API: a 429 carries parameters.retry_after).
            await self.limiter.hold(row.chat_id, self.monotonic(), exc.retry_after)
            await self._release(
                row.id,
                self.clock.now() + timedelta(seconds=exc.retry_after),
                f"429 retry after {exc.retry_after}",
            )
            return "retry"
        except TelegramMigrateToChat as exc:
            await self._migrate(row, exc.migrate_to_chat_id)
            return "retry"
        except (TelegramForbiddenError, TelegramNotFound, TelegramUnauthorizedError) as exc:
            await self._fail(row, exc.message)
            return "failed"
        except TelegramBadRequest as exc:
            await self._fail(row, exc.message)
            return "failed"
        except (TelegramNetworkError, TelegramServerError, TimeoutError) as exc:
            if row.attempts + 1 >= MAX_ATTEMPTS:
                await self._fail(row, f"gave up after {MAX_ATTEMPTS} attempts: {exc}")
                return "failed"
            backoff = min(300.0, 2.0**row.attempts)
            await self._release(row.id, self.clock.now() + timedelta(seconds=backoff), str(exc))
            return "retry"
        finally:
            outbox_delivery.reset(token)
        await self._mark_sent(row, message_ids)
        return "sent"

    async def _mark_sent(self, row: OutboxMessage, message_ids: list[int]) -> None:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            await OutboxRepo(session).mark_sent(
                row.id, message_ids[0] if message_ids else None, now
            )
            if row.case_id is not None and row.link_kind:
                links = MessageLinkRepo(session)
                for mid in message_ids:
                    await links.add(row.chat_id, mid, row.case_id, row.link_kind)

    async def _migrate(self, row: OutboxMessage, new_chat_id: int) -> None:
        """The group became a supergroup: move the binding and the pending messages."""
        async with self.sessions.begin() as session:
            await OutboxRepo(session).move_chat(row.chat_id, new_chat_id)

    async def _fail(self, row: OutboxMessage, error: str) -> None:
        """A permanent error: record it on the case and tell the admins."""
        now = self.clock.now()
        log.warning("outbox %s to %s failed for good: %s", row.id, row.chat_id, error)
        async with self.sessions.begin() as session:
            await OutboxRepo(session).mark_failed(row.id, error)
            if row.case_id is not None:
                EventRepo(session).add(
                    row.case_id,
                    at=now,
                    actor_kind="system",
                    action="delivery_failed",
                    details={"chat_id": row.chat_id, "error": error, "purpose": row.purpose},
                )
            if row.purpose != ALERT_PURPOSE and self.failure_text is not None:
                text = self.failure_text(row, error)
                for admin in self.admin_ids:
                    if admin == row.chat_id:
                        continue
                    await enqueue(
                        session,
                        chat_id=admin,
                        method="send_message",
                        payload={"text": text},
                        now=now,
                        case_id=row.case_id,
                        purpose=ALERT_PURPOSE,
                    )
