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
  sent again, the chat's message ids tell how many earlier attempts may have landed: every
  copy lies between the last id we know in the chat and the new one, so with `unsure`
  attempts and `gap` ids in between, min(unsure, gap) copies are counted as possible
  duplicates (none when the new id directly follows the last one we know).
- Copies are reconciled, never guessed at: the ids in that gap that are not other messages of
  ours are kept on the row (`possible_copies`, with what the delivered copy looks like), and
  for a card or the citizen's files and words in a group the notifier queues a `probe_copy`
  for each. The probe asks Telegram with editMessageReplyMarkup, which refuses with "message
  can't be edited" for other people's messages and "message is not modified" for ours without
  buttons (whose content an edit's answer then shows; the buttons are put back at once). Only
  a message of ours that shows the same file or text is taken for a copy: it is linked to its
  case, so a transfer scrubs it like any other copy. Nothing else is ever edited for good or
  deleted.
- The database may drop its connection (a PostgreSQL restart): what Telegram did is recorded
  again on a new connection rather than left claimed, which would send it once more.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

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
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
    PhotoSize,
    ReplyParameters,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.tasks import first_of, wind_down
from bot.telegram.ratelimit import TelegramRateLimiter
from bot.telegram.retry import outbox_delivery
from storage.models import OutboxMessage
from storage.repositories import EventRepo, MessageLinkRepo, OutboxRepo

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
# 5xx and network errors are retried for this long (from the first failure of a streak).
RETRY_BUDGET = timedelta(hours=6)
MAX_BACKOFF = 300.0
PROBE = "probe_copy"
METHODS = (
    "send_message",
    "send_photo",
    "send_document",
    "send_media_group",
    "edit_message_text",
    "delete_message",
    "upload_photo",
    PROBE,
)
ALERT_PURPOSE = "admin_alert"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# A possible copy is looked for among this many ids before the delivered one at most.
MAX_CANDIDATES = 50
# When no earlier delivery in the chat is known, copies are looked for this far back.
UNKNOWN_GAP = 20
# How long the sender keeps trying to record its work while the database is unreachable.
DB_PATIENCE = 60.0
# Put on a message of ours without buttons for a moment, so that the edit's answer shows what
# the message is (Bot API: an edit returns the edited Message); taken off at once.
PROBE_MARKUP = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="…", callback_data="probe")]]
)
T = TypeVar("T")
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


def _digest(text: str) -> str:
    """A short fingerprint of a message's visible text (whitespace as Telegram may trim it)."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:20]


def _media(message: Message) -> PhotoSize | Document | None:
    if message.photo:
        return message.photo[-1]
    for media in (message.document, message.video, message.audio, message.voice):
        if media is not None:
            return media  # type: ignore[return-value]
    return None


def fingerprint(messages: list[Message], payload: dict[str, Any]) -> dict[str, list[str]]:
    """What a delivered message looks like, to recognise an earlier copy of it: its files
    (file_unique_id is the same for every copy of a file) and its visible text."""
    unique_ids, file_ids, texts = [], [], []
    for m in messages:
        media = _media(m)
        if media is not None:
            unique_ids.append(media.file_unique_id)
            file_ids.append(media.file_id)
        text = m.text or m.caption
        if text:
            texts.append(_digest(text))
    if payload.get("file_id"):
        file_ids.append(str(payload["file_id"]))
    file_ids += [str(m["file_id"]) for m in payload.get("media") or () if m.get("file_id")]
    return {"unique_ids": unique_ids, "file_ids": file_ids, "texts": texts}


def is_copy(message: Message, match: dict[str, Any]) -> bool:
    """Whether `message` (a message of ours) shows what `match` describes: the same file, the
    same text, or every one of its `needles` (a card rendered again shows the same code and
    labels while its status may have changed)."""
    media = _media(message)
    if media is not None:
        return media.file_unique_id in match.get("unique_ids", ()) or media.file_id in match.get(
            "file_ids", ()
        )
    text = message.text or message.caption or ""
    if text and _digest(text) in match.get("texts", ()):
        return True
    needles = [str(n) for n in match.get("needles") or ()]
    return bool(needles) and all(n in text for n in needles)


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


# Rows being sent at once, in batches: beyond it the sender claims no more until lanes finish.
MAX_IN_FLIGHT_BATCHES = 10


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
        db_patience: float = DB_PATIENCE,
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
        self.db_patience = db_patience
        self.wakeup = asyncio.Event()

    def notify(self) -> None:
        """Wake the worker: something was enqueued."""
        self.wakeup.set()

    async def run(self, stop: asyncio.Event, idle: float = 1.0, grace: float = 10.0) -> None:
        """Deliver until `stop` is set. Each chat's claimed rows go in a lane of their own, and
        new rows are claimed while earlier lanes still run: a group's cards waiting for their
        slots (20 a minute) never hold up an acknowledgement due in another chat."""
        lanes: set[asyncio.Task[list[str]]] = set()
        in_flight = 0
        finished = asyncio.Event()

        def done(rows: int, task: asyncio.Task[list[str]]) -> None:
            nonlocal in_flight
            in_flight -= rows
            lanes.discard(task)
            finished.set()
            if not task.cancelled() and task.exception() is not None:
                log.error("outbox lane failed", exc_info=task.exception())

        try:
            while not stop.is_set():
                self.wakeup.clear()
                finished.clear()
                # A lane waiting for its chat's slots (a group's cards, 20 a minute) keeps its
                # rows; it must not use up the room of every other chat.
                room = self.batch if in_flight < MAX_IN_FLIGHT_BATCHES * self.batch else 0
                rows: list[OutboxMessage] = []
                if room > 0:
                    try:
                        rows = await self._claim(room)
                    except Exception:  # keep the worker alive; claimed rows expire
                        log.exception("outbox claim failed")
                for chat_rows in _by_chat(rows).values():
                    task = asyncio.create_task(self._deliver_lane(chat_rows))
                    in_flight += len(chat_rows)
                    lanes.add(task)
                    task.add_done_callback(functools.partial(done, len(chat_rows)))
                if room and len(rows) == room:
                    continue  # more may be due
                await first_of(stop, self.wakeup, finished, within=idle)
        finally:
            await wind_down(lanes, grace)

    async def _db(self, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool = True) -> T:
        """Run `work` in a session (and transaction) of its own; when the database drops the
        connection (a PostgreSQL restart, a cut connection: SQLAlchemy then discards it), run
        it again on a new one for up to `db_patience` seconds. What Telegram did must be
        recorded: a row left claimed would be sent again once its claim expires. Every write
        given here is safe to repeat after a commit whose answer was lost."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.db_patience
        delay = 0.1
        while True:
            try:
                if write:
                    async with self.sessions.begin() as session:
                        return await work(session)
                async with self.sessions() as session:
                    return await work(session)
            except DBAPIError as exc:
                if not exc.connection_invalidated or loop.time() + delay > deadline:
                    raise
                log.warning("outbox: database connection lost, trying again: %s", exc.orig)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _claim(self, limit: int | None = None) -> list[OutboxMessage]:
        now = self.clock.now()
        batch = self.batch if limit is None else limit
        token = secrets.token_hex(8)

        async def claim(session: AsyncSession) -> bool:
            repo = OutboxRepo(session)
            if await repo.claimed(token):  # an earlier try committed; its answer was lost
                return True
            return bool(await repo.claim(now, until=now + self.claim, token=token, batch=batch))

        if not await self._db(claim):
            return []
        return list(await self._db(lambda s: OutboxRepo(s).claimed(token), write=False))

    async def deliver_due(self) -> DeliveryStats:
        """One pass: claim due rows and try each once, each chat's rows in order. Chats are
        served side by side: a message waiting for its chat's slot (a group may get 20 a
        minute) does not hold up the acknowledgement due in another chat."""
        stats = DeliveryStats()
        rows = await self._claim()
        results = await asyncio.gather(
            *(self._deliver_lane(lane) for lane in _by_chat(rows).values()),
            return_exceptions=True,
        )
        failure: BaseException | None = None
        for result in results:
            if isinstance(result, BaseException):
                failure = failure or result
                continue
            for outcome in result:
                if outcome == "sent":
                    stats.sent += 1
                elif outcome == "retry":
                    stats.retried += 1
                elif outcome == "failed":
                    stats.failed += 1
        if failure is not None:
            raise failure
        return stats

    async def _deliver_lane(self, rows: list[OutboxMessage]) -> list[str]:
        """One chat's claimed rows, in order; their outcomes."""
        held: set[int] = set()  # the chat, once its earlier message must go first
        outcomes = []
        for n, row in enumerate(rows):
            try:
                outcomes.append(await self._deliver_claimed(row, held))
            except BaseException:
                # Rows not tried yet go back at once (not "sending" until their claim ends,
                # holding their chats and then counted as possibly sent).
                with contextlib.suppress(Exception):
                    await self._release_untried([r.id for r in rows[n + 1 :]])
                raise
        return outcomes

    async def _release_untried(self, row_ids: list[int]) -> None:
        if row_ids:
            now = self.clock.now()

            async def release(session: AsyncSession) -> None:
                for row_id in row_ids:
                    await OutboxRepo(session).release(row_id, now)

            await self._db(release)

    async def _deliver_claimed(self, row: OutboxMessage, held: set[int]) -> str:
        """Try one claimed row, unless its chat must wait; the outcome."""
        if row.chat_id in held:
            await self._release(row.id, self.clock.now())
            return "held"
        delay = await self.limiter.acquire(row.chat_id, self.monotonic())
        if delay > self.max_delay:
            held.add(row.chat_id)
            await self._release(row.id, self.clock.now() + timedelta(seconds=delay))
            return "retry"
        if delay > 0:
            await asyncio.sleep(delay)
        until = self.clock.now() + self.claim
        if not await self._db(lambda s: OutboxRepo(s).extend(row.id, row.claim_token or "", until)):
            held.add(row.chat_id)  # our claim expired and another worker has it
            return "held"
        outcome = await self._send_one(row)
        if outcome == "retry":
            held.add(row.chat_id)
        return outcome

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
        await self._db(lambda s: OutboxRepo(s).release(row_id, when, error, **kw))

    async def _prepare(self, row: OutboxMessage) -> dict[str, Any] | None:
        """The payload to send: rendered now when the row asks for it (the last state wins)."""
        payload = dict(row.payload)
        if not payload.get("render") or self.render is None:
            return payload
        render = self.render
        rendered = await self._db(lambda s: render(s, row), write=False)
        if rendered is None:
            return None
        return {**payload, **rendered}

    async def _call(self, row: OutboxMessage, p: dict[str, Any]) -> list[Message]:
        """Make the row's Bot API call; the messages Telegram answered with."""
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
            if "chart" in p:
                from bot.telegram.charts import draw_payload_chart

                # Matplotlib is CPU work: off the event loop.
                image = await asyncio.to_thread(draw_payload_chart, p["chart"])
            else:  # a row queued by a version that drew the chart in the tick
                image = base64.b64decode(p["data"])
            result = await self.bot.send_photo(
                row.chat_id,
                BufferedInputFile(image, filename=p["filename"]),
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
                return []
        elif row.method == "delete_message":
            try:
                await self.bot.delete_message(row.chat_id, p["message_id"])
            except TelegramBadRequest as exc:
                if "message to delete not found" not in exc.message:
                    raise
            return []
        else:  # pragma: no cover - enqueue() refuses unknown methods
            raise ValueError(row.method)
        if isinstance(result, Message):
            return [result]
        if isinstance(result, list):
            return [m for m in result if isinstance(m, Message)]
        return []

    async def _look(self, chat_id: int, message_id: int) -> tuple[Message | None, str]:
        """What a message in the chat is, if it is ours: (the message, "" or "had buttons"),
        else (None, why not).

        editMessageReplyMarkup without a keyboard answers "message can't be edited" for
        someone else's message and "message is not modified" for ours without buttons; for
        those, a button is put on for a moment, since only a successful edit answers with the
        message, and taken off again. A message of ours with buttons loses them here; its owner
        (the notifier) puts a card's back."""
        try:
            result = await self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id
            )
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                return None, exc.message  # not ours, or not there any more
            try:
                result = await self.bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=PROBE_MARKUP
                )
                # As it was. If this fails (a 429...), the row is tried again later and the
                # first call above takes the button off.
                await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
            except TelegramBadRequest as again:
                return None, again.message
            if not isinstance(result, Message):
                return None, "no message in the answer"
            return result, ""
        if not isinstance(result, Message):
            return None, "no message in the answer"
        return result, "had buttons"

    async def _probe(self, row: OutboxMessage, p: dict[str, Any]) -> list[Message]:
        """A `probe_copy` row: [the message] when it is a copy of ours, else []."""
        message, why = await self._look(row.chat_id, int(p["message_id"]))
        if message is None:
            p["verdict"] = f"not a copy: {why}"
            return []
        if not is_copy(message, p.get("match") or {}):
            if why:
                log.warning(
                    "outbox %s: message %s in %s, not a copy, lost its buttons to the check",
                    row.id,
                    message.message_id,
                    row.chat_id,
                )
            p["verdict"] = "not a copy: another message of ours"
            return []
        return [message]

    async def _send_one(self, row: OutboxMessage) -> str:
        payload = await self._prepare(row)
        if payload is None:
            await self._db(lambda s: OutboxRepo(s).cancel(row.id, "nothing to send any more"))
            return "cancelled"
        previous: int | None = None
        if row.unsure and row.method.startswith("send"):
            previous = await self._db(
                lambda s: OutboxRepo(s).last_sent_id(row.chat_id), write=False
            )
        token = outbox_delivery.set(True)
        now = self.clock.now()
        try:
            if row.method == PROBE:
                sent = await self._probe(row, payload)
            else:
                sent = await self._call(row, payload)
        except TelegramRetryAfter as exc:
            # Telegram tells how long to wait (Bot API: a 429 carries parameters.retry_after);
            # it is pacing, not a failure, so it does not use up the retry budget.
            await self.limiter.hold(row.chat_id, self.monotonic(), exc.retry_after)
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
        if row.method == PROBE:
            if not sent:
                verdict = str(payload.get("verdict") or "not a copy")
                await self._db(lambda s: OutboxRepo(s).cancel(row.id, verdict))
                return "cancelled"
            await self._mark_sent(row, [m.message_id for m in sent])
            return "sent"
        if row.method in ("edit_message_text", "delete_message"):
            await self._mark_sent(row, [int(payload["message_id"])])
            return "sent"
        message_ids = [m.message_id for m in sent]
        duplicates, copies = 0, None
        if row.unsure and message_ids:
            duplicates, copies = await self._possible_copies(row, payload, sent, previous)
        await self._mark_sent(row, message_ids, duplicates, copies)
        return "sent"

    async def _possible_copies(
        self,
        row: OutboxMessage,
        payload: dict[str, Any],
        sent: list[Message],
        previous: int | None,
    ) -> tuple[int, dict[str, Any] | None]:
        """An unsure row was delivered: how many earlier attempts may have landed, and where.

        Every copy lies between the last id we knew in the chat before this delivery and the
        new one (a chat's rows go one at a time, in order). With `unsure` attempts of `size`
        messages each, at most min(unsure, gap // size) of them landed: counted. The ids in
        the gap that are not other messages of ours are the candidates, kept with what the
        delivered copy looks like so that the notifier can have them checked."""
        first, size = sent[0].message_id, len(sent)
        low = previous if previous is not None else max(0, first - 1 - UNKNOWN_GAP)
        gap = max(0, first - 1 - low)
        duplicates = min(row.unsure, gap // size)
        if not duplicates:
            return 0, None  # the new message directly follows the last one we knew
        log.warning(
            "outbox %s to %s: possibly delivered %d more time(s)", row.id, row.chat_id, duplicates
        )
        known = await self._db(
            lambda s: OutboxRepo(s).known_ids(row.chat_id, low, first), write=False
        )
        ids = [i for i in range(low + 1, first) if i not in known][-MAX_CANDIDATES:]
        return duplicates, {"ids": ids, "match": fingerprint(sent, payload)}

    async def _mark_sent(
        self,
        row: OutboxMessage,
        message_ids: list[int],
        duplicates: int = 0,
        copies: dict[str, Any] | None = None,
    ) -> None:
        now = self.clock.now()
        payload = None
        if copies is not None:
            payload = {**(row.payload or {}), "possible_copies": copies}
            row.payload = payload  # what the delivered hook reads

        async def record(session: AsyncSession) -> None:
            first = message_ids[0] if message_ids else None
            if not await OutboxRepo(session).mark_sent(
                row.id, first, now, duplicates=duplicates, payload=payload
            ):
                return  # recorded by a try whose commit was not confirmed
            linked = row.method.startswith("send") or row.method == PROBE
            if row.case_id is not None and row.link_kind and linked:
                links = MessageLinkRepo(session)
                for mid in message_ids:
                    await links.add(row.chat_id, mid, row.case_id, row.link_kind)
            if self.on_delivered is not None:
                await self.on_delivered(session, row, message_ids)

        await self._db(record)

    async def _migrate(self, row: OutboxMessage, new_chat_id: int) -> None:
        """The group became a supergroup: move the binding and the pending messages."""
        await self._db(lambda s: OutboxRepo(s).move_chat(row.chat_id, new_chat_id))

    async def _fail(self, row: OutboxMessage, error: str) -> None:
        """A permanent error: record it on the case and tell the admins what it means."""
        now = self.clock.now()
        log.warning("outbox %s to %s failed for good: %s", row.id, row.chat_id, error)

        async def record(session: AsyncSession) -> None:
            if not await OutboxRepo(session).mark_failed(row.id, error):
                return  # recorded by a try whose commit was not confirmed
            if row.case_id is not None:
                EventRepo(session).add(
                    row.case_id,
                    at=now,
                    actor_kind="system",
                    action="delivery_failed",
                    details={"chat_id": row.chat_id, "error": error, "purpose": row.purpose},
                )
            # Deleting an old copy is best effort (Telegram allows it for 48 hours); looking
            # for a copy that cannot be looked at leaves the message alone.
            quiet = row.purpose == ALERT_PURPOSE or row.method in ("delete_message", PROBE)
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

        await self._db(record)


def _by_chat(rows: list[OutboxMessage]) -> dict[int, list[OutboxMessage]]:
    """Claimed rows by chat, each chat's in the order they were written."""
    lanes: dict[int, list[OutboxMessage]] = {}
    for row in rows:
        lanes.setdefault(row.chat_id, []).append(row)
    return lanes
