"""The outbox: every message a case causes is written in the same transaction as the change,
then delivered by `OutboxSender`, so a crash or a Telegram outage never loses one.

- Order: a chat's messages are sent in the order they were written; a row that must wait (a
  429, a 5xx back-off) holds the chat's later rows (`OutboxRepo.claim`).
- Last state wins: a card (and every edit of it) is rendered from the case when it is sent,
  not when it was queued, and waiting edits of one message collapse into one.
- Retries follow Telegram: a 429 waits `retry_after` and is not a failure; a 5xx or a network
  error backs off, for `retry_budget` of time; a 400/403 is final, recorded on the case and
  explained to the admins.
- At least once, duplicates counted: an attempt whose outcome is unknown (a timeout after the
  request left, or a worker that died while sending) is recorded as *unsure*. When the row is
  sent again, the chat's message ids tell whether the first attempt had landed: if the new id
  directly follows the last id we know, nothing came in between and the row was not
  duplicated; otherwise it counts as a (possible) duplicate. A card delivered twice is linked
  to its case through either copy (replies to an unlinked copy are linked when they arrive,
  from the case id in its buttons).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
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
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.telegram.ratelimit import TelegramRateLimiter
from bot.telegram.retry import outbox_delivery
from storage.models import OutboxMessage
from storage.repositories import EventRepo, MessageLinkRepo, OutboxRepo

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
# 5xx and network errors are retried for this long (from the first failure of a streak).
RETRY_BUDGET = timedelta(hours=6)
MAX_BACKOFF = 300.0
METHODS = (
    "send_message",
    "send_photo",
    "send_document",
    "send_media_group",
    "edit_message_text",
    "delete_message",
    "upload_photo",
)
ALERT_PURPOSE = "admin_alert"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Renders a row's payload when it is sent (payload["render"]); None: nothing to send any more.
Render = Callable[[AsyncSession, OutboxMessage], Awaitable[dict[str, Any] | None]]
# Runs in the transaction that records a delivery (e.g. scrubs a copy that arrived too late).
Delivered = Callable[[AsyncSession, OutboxMessage, list[int]], Awaitable[None]]

# What a final Bot API error means, for the admins (matched on Telegram's description).
_EXPLANATIONS = (
    ("bot was blocked by the user", "blocked"),
    ("user is deactivated", "deactivated"),
    ("bot was kicked", "kicked"),
    ("bot is not a member", "kicked"),
    ("chat not found", "chat_not_found"),
    ("not enough rights", "no_rights"),
    ("have no rights", "no_rights"),
    ("message to edit not found", "message_deleted"),
    ("message to be replied not found", "message_deleted"),
    ("message is too long", "too_long"),
    ("caption is too long", "too_long"),
    ("can't parse entities", "bad_markup"),
    ("wrong file identifier", "bad_file"),
    ("gave up after", "gave_up"),
)


def explain(error: str) -> str:
    """The catalog key (`delivery.<reason>`) explaining a final delivery error."""
    lowered = error.lower()
    for needle, reason in _EXPLANATIONS:
        if needle in lowered:
            return f"delivery.{reason}"
    return "delivery.other"


def _unsure(exc: Exception) -> bool:
    """Could Telegram have carried out a request that ended with this network error? Only
    a refused connection proves it never arrived."""
    message = getattr(exc, "message", str(exc))
    return not ("ClientConnectorError" in message or "Cannot connect" in message)


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


def upload_payload(data: bytes, filename: str, caption: str | None = None) -> dict[str, Any]:
    """Payload of an `upload_photo` row: the image itself travels in the row (base64 in the
    JSON column), so any worker on any host can send it after a restart."""
    payload: dict[str, Any] = {"data": base64.b64encode(data).decode("ascii"), "filename": filename}
    if caption is not None:
        payload["caption"] = caption
    return payload


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
        render: Render | None = None,
        on_delivered: Delivered | None = None,
        claim_seconds: float = CLAIM_SECONDS,
        retry_budget: timedelta = RETRY_BUDGET,
    ) -> None:
        self.bot = bot
        # Renders the admins' alert for a message that failed for good (None: no alert).
        self.failure_text = failure_text
        self.render = render
        self.on_delivered = on_delivered
        self.sessions = sessions
        self.admin_ids = admin_ids
        self.limiter = limiter or TelegramRateLimiter()
        # Retries are scheduled in real time, whatever the domain clock says.
        self.clock = clock or SystemClock()
        self.monotonic = monotonic
        self.max_delay = max_delay
        self.batch = batch
        # A claim outlives one request (the HTTP timeout), so a live worker keeps its rows.
        timeout = float(getattr(bot.session, "timeout", 60) or 60)
        self.claim = timedelta(seconds=max(claim_seconds, 2 * timeout + 5))
        self.retry_budget = retry_budget
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
        async with self.sessions.begin() as session:
            claimed = await OutboxRepo(session).claim(
                now, until=now + self.claim, token=token, batch=self.batch
            )
        if not claimed:
            return []
        async with self.sessions() as session:
            return list(await OutboxRepo(session).claimed(token))

    async def deliver_due(self) -> DeliveryStats:
        """One pass: claim due rows and try each once, each chat's rows in order."""
        stats = DeliveryStats()
        rows = await self._claim()
        held: set[int] = set()  # chats whose earlier message must go first
        for row in rows:
            if row.chat_id in held:
                await self._release(row.id, self.clock.now())
                continue
            delay = self.limiter.reserve(row.chat_id, self.monotonic())
            if delay > self.max_delay:
                held.add(row.chat_id)
                await self._release(row.id, self.clock.now() + timedelta(seconds=delay))
                stats.retried += 1
                continue
            if delay > 0:
                await asyncio.sleep(delay)
            async with self.sessions.begin() as session:
                if not await OutboxRepo(session).extend(
                    row.id, row.claim_token or "", self.clock.now() + self.claim
                ):
                    held.add(row.chat_id)  # our claim expired and another worker has it
                    continue
            outcome = await self._send_one(row)
            if outcome == "sent":
                stats.sent += 1
            elif outcome == "retry":
                held.add(row.chat_id)
                stats.retried += 1
            elif outcome == "failed":
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

    async def _release(
        self, row_id: int, when: datetime, error: str | None = None, **kw: Any
    ) -> None:
        async with self.sessions.begin() as session:
            await OutboxRepo(session).release(row_id, when, error, **kw)

    async def _prepare(self, row: OutboxMessage) -> dict[str, Any] | None:
        """The payload to send: rendered now when the row asks for it (the last state wins)."""
        payload = dict(row.payload)
        if not payload.get("render") or self.render is None:
            return payload
        async with self.sessions() as session:
            rendered = await self.render(session, row)
        if rendered is None:
            return None
        return {**payload, **rendered}

    async def _call(self, row: OutboxMessage, p: dict[str, Any]) -> list[int]:
        markup = (
            InlineKeyboardMarkup.model_validate(p["reply_markup"])
            if p.get("reply_markup")
            else None
        )
        # A reply to a message that was deleted meanwhile is still delivered (Bot API:
        # ReplyParameters.allow_sending_without_reply).
        reply = (
            ReplyParameters(message_id=p["reply_to_message_id"], allow_sending_without_reply=True)
            if p.get("reply_to_message_id")
            else None
        )
        result: Any
        if row.method == "send_message":
            result = await self.bot.send_message(
                row.chat_id,
                p["text"],
                reply_markup=markup,
                reply_parameters=reply,
                link_preview_options=NO_PREVIEW,
            )
        elif row.method == "send_photo":
            result = await self.bot.send_photo(
                row.chat_id,
                p["file_id"],
                caption=p.get("caption"),
                reply_markup=markup,
                reply_parameters=reply,
            )
        elif row.method == "upload_photo":
            # A new image (a chart), uploaded as multipart/form-data (Bot API "Sending files").
            result = await self.bot.send_photo(
                row.chat_id,
                BufferedInputFile(base64.b64decode(p["data"]), filename=p["filename"]),
                caption=p.get("caption"),
                reply_markup=markup,
                reply_parameters=reply,
            )
        elif row.method == "send_document":
            result = await self.bot.send_document(
                row.chat_id,
                p["file_id"],
                caption=p.get("caption"),
                reply_markup=markup,
                reply_parameters=reply,
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
                reply_parameters=reply,
            )
        elif row.method == "edit_message_text":
            try:
                result = await self.bot.edit_message_text(
                    text=p["text"],
                    chat_id=row.chat_id,
                    message_id=p["message_id"],
                    reply_markup=markup,
                    link_preview_options=NO_PREVIEW,
                )
            except TelegramBadRequest as exc:
                if "message is not modified" not in exc.message:
                    raise
                return [p["message_id"]]
        elif row.method == "delete_message":
            try:
                await self.bot.delete_message(row.chat_id, p["message_id"])
            except TelegramBadRequest as exc:
                if "message to delete not found" not in exc.message:
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
        payload = await self._prepare(row)
        if payload is None:
            async with self.sessions.begin() as session:
                await OutboxRepo(session).cancel(row.id, "nothing to send any more")
            return "cancelled"
        previous: int | None = None
        if row.unsure and row.method.startswith("send"):
            async with self.sessions() as session:
                previous = await OutboxRepo(session).last_sent_id(row.chat_id)
        token = outbox_delivery.set(True)
        now = self.clock.now()
        try:
            message_ids = await self._call(row, payload)
        except TelegramRetryAfter as exc:
            # Telegram tells how long to wait (Bot API: a 429 carries parameters.retry_after);
            # it is pacing, not a failure, so it does not use up the retry budget.
            self.limiter.penalize(row.chat_id, self.monotonic() + exc.retry_after)
            await self._release(
                row.id,
                now + timedelta(seconds=exc.retry_after),
                f"429 retry after {exc.retry_after}",
                count=False,
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
            since = row.failing_since or now
            if now - since >= self.retry_budget:
                budget = int(self.retry_budget.total_seconds())
                await self._fail(row, f"gave up after {budget} s of errors: {exc}")
                return "failed"
            backoff = min(MAX_BACKOFF, 2.0 ** min(row.attempts, 16))
            unsure = isinstance(exc, TelegramNetworkError | TimeoutError) and _unsure(exc)
            await self._release(
                row.id,
                now + timedelta(seconds=backoff),
                ("possibly sent: " if unsure else "") + str(exc),
                failing_since=now,
                unsure=unsure,
            )
            return "retry"
        finally:
            outbox_delivery.reset(token)
        duplicates = 0
        # An earlier attempt may have landed. If the new message directly follows the last one
        # we know in this chat, nothing came in between: no duplicate.
        if (
            row.unsure
            and row.method.startswith("send")
            and (previous is None or message_ids[0] != previous + 1)
        ):
            duplicates = 1
            log.warning("outbox %s to %s: possibly delivered twice", row.id, row.chat_id)
        await self._mark_sent(row, message_ids, duplicates)
        return "sent"

    async def _mark_sent(
        self, row: OutboxMessage, message_ids: list[int], duplicates: int = 0
    ) -> None:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            await OutboxRepo(session).mark_sent(
                row.id, message_ids[0] if message_ids else None, now, duplicates=duplicates
            )
            if row.case_id is not None and row.link_kind and row.method.startswith("send"):
                links = MessageLinkRepo(session)
                for mid in message_ids:
                    await links.add(row.chat_id, mid, row.case_id, row.link_kind)
            if self.on_delivered is not None:
                await self.on_delivered(session, row, message_ids)

    async def _migrate(self, row: OutboxMessage, new_chat_id: int) -> None:
        """The group became a supergroup: move the binding and the pending messages."""
        async with self.sessions.begin() as session:
            await OutboxRepo(session).move_chat(row.chat_id, new_chat_id)

    async def _fail(self, row: OutboxMessage, error: str) -> None:
        """A permanent error: record it on the case and tell the admins what it means."""
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
            # Deleting an old copy is best effort (Telegram allows it for 48 hours).
            quiet = row.purpose == ALERT_PURPOSE or row.method == "delete_message"
            if not quiet and self.failure_text is not None:
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
