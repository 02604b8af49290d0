"""The inbox: no update Telegram hands over is lost, whatever the load.

Telegram forgets an update once it is confirmed — by the next getUpdates `offset`, or by a
webhook answering 200 (Bot API, "Getting updates"). So an update is stored first
(`store_updates`, one statement per batch) and only then confirmed. A bounded pool of workers
(`InboxWorker`) handles the stored updates, one chat's in the order they came, and the
handler's own transaction marks the update done (`DbSessionMiddleware`): a crash at any point
leaves it pending, to be handled after the restart. A handler that fails leaves it pending
too: it is tried again with backoff, and after `MAX_ATTEMPTS` it is kept as failed, with its
error, and the citizen is asked to send the message again.

`Poller` is the long-polling receiver: it hands each batch to `InboxWorker.receive`, which
stores it and claims what its workers have room for in one durable transaction. A webhook
receiver stores the request body with `store_updates`, answers 200 only after that returned,
and calls `InboxWorker.notify()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.tasks import first_of, wind_down
from bot.telegram.outbox import enqueue
from storage.db import durably
from storage.repositories import InboxRepo
from storage.repositories.inbox import ClaimedUpdate

log = logging.getLogger(__name__)

# A claimed update not finished by then is claimed again (a worker that died, `kill -9`).
# Short, so a restarted bot soon handles what its predecessor was handling; a slow handler
# whose claim runs out is harmless: the update is recorded as done in the handler's own
# transaction (`InboxRepo.finish`), so of two runs only the first to commit counts and the
# other rolls back.
CLAIM_SECONDS = 30
# Backoff 1, 2, 4 … 60 s between attempts: about three minutes in all, enough to ride out a
# database restart, short enough that the citizen is not left waiting for hours.
MAX_ATTEMPTS = 8
MAX_BACKOFF = 60.0
# Updates claimed ahead of the workers, per worker.
CLAIM_AHEAD = 4


def chat_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (its user for updates without a chat), if any."""
    for key, event in update.items():
        if key == "update_id" or not isinstance(event, dict):
            continue
        chat = event.get("chat") or (event.get("message") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
        user = event.get("from") or event.get("user")
        if isinstance(user, dict) and isinstance(user.get("id"), int):
            return int(user["id"])
    return None


async def store_updates(
    sessions: async_sessionmaker[AsyncSession],
    bot_id: int,
    updates: Sequence[dict[str, Any]],
    clock: Clock | None = None,
) -> int:
    """Store updates as Telegram sent them (known ids are ignored); how many were new. Only
    after this returned may they be confirmed to Telegram."""
    now = (clock or SystemClock()).now()
    async with sessions.begin() as session:
        return await _store_in(InboxRepo(session), bot_id, updates, now)


async def _store_in(
    repo: InboxRepo, bot_id: int, updates: Sequence[dict[str, Any]], now: datetime
) -> int:
    """The store, in `repo`'s transaction, made durable."""
    await durably(repo.session)  # Telegram forgets them once confirmed: to disk first
    rows = [(int(u["update_id"]), chat_of(u), u) for u in updates]
    return await repo.store(bot_id, rows, now)


@dataclass
class InboxTicket:
    """Passed with an update into the dispatcher (as `inbox_ticket`). The update-transaction
    middleware sets `done` once the update is recorded as handled in the committed
    transaction; `final` says whether a failure now is the last one (the error handler then
    tells the person instead of leaving the update to be tried again)."""

    final: bool = False
    done: bool = False
    # Called once the update's transaction committed: its worker's slot is free for the next
    # update while the replies go out (they wait for Telegram, not for the database or CPU).
    committed: Callable[[], None] | None = None


class InboxWorker:
    """Handles stored updates with at most `concurrency` at a time, each chat's in order."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        *,
        concurrency: int = 8,
        clock: Clock | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        apology: Callable[[int], str | None] | None = None,
        backoff: float = 1.0,
    ) -> None:
        self.dp, self.bot, self.sessions = dp, bot, sessions
        self.backoff = backoff  # seconds before the second attempt; doubled each time
        # Claims and retries run in real time, whatever the domain clock says.
        self.clock = clock or SystemClock()
        self.concurrency = concurrency
        self.capacity = concurrency * CLAIM_AHEAD
        self.max_attempts = max_attempts
        # The text for a citizen whose update failed for good (None: say nothing).
        self.apology = apology
        # One token for this worker's life: its claims never block its own later claims.
        self.token = secrets.token_hex(8)
        self._slots = asyncio.Semaphore(concurrency)
        self._lanes: dict[Any, deque[ClaimedUpdate]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._held = 0  # claimed and not finished
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._room = asyncio.Event()
        # Held from a claim's room count to its rows' start (the loop's claims and the
        # poller's `receive`), and by the hand-back at stop: two claims never both count the
        # same room, and a claim under way when the worker stops is handed back too.
        self._claiming = asyncio.Lock()

    def notify(self) -> None:
        """New updates were stored (or are due): look for them now."""
        self._wakeup.set()

    @property
    def busy(self) -> bool:
        return self._held > 0

    async def run(self, stop: asyncio.Event, idle: float = 1.0, grace: float = 10.0) -> None:
        """Handle updates until `stop` is set; then finish those being handled (up to `grace`
        seconds) and hand back the rest."""
        try:
            while not stop.is_set():
                room = self.capacity - self._held
                claimed = 0
                if room > 0:
                    self._wakeup.clear()
                    try:
                        claimed = await self._claim(room)
                    except Exception:
                        log.exception("claiming updates failed")
                self._room.clear()
                if claimed and claimed >= room or self._held >= self.capacity:
                    await first_of(stop, self._room, within=idle)  # at capacity: wait for room
                elif claimed < room:
                    # It took all that was due (an update stored meanwhile sets the wakeup,
                    # cleared before the claim): claiming again now would find nothing.
                    await first_of(stop, self._wakeup, within=idle)
        finally:
            await self._wind_down(grace)

    async def drain(self) -> int:
        """Handle every update that is due now, and wait for them (tests, the shell)."""
        total = 0
        while True:
            claimed = await self._claim(self.capacity - self._held)
            total += claimed
            if not claimed and not self._tasks:
                return total
            if self._tasks:
                await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)

    async def receive(self, updates: Sequence[dict[str, Any]]) -> int:
        """Store updates as Telegram sent them and, in the same durable transaction, claim
        what this worker has room for; how many were new. Only after this returned may they
        be confirmed to Telegram. One transaction instead of a store and then a claim, and the
        claim loop is not woken to look for them: at a steady rate, where updates arrive one
        by one, that was a transaction and a wake-up per update."""
        try:
            async with self._claiming:  # one claim at a time: room, claim and start together
                now = self.clock.now()
                room = 0 if self._stopping else self.capacity - self._held
                async with self.sessions.begin() as session:
                    repo = InboxRepo(session)
                    stored = await _store_in(repo, self.bot.id, updates, now)
                    # Also when nothing was new: a first attempt whose commit went through but
                    # whose answer was lost may have left its claimed rows to this one.
                    claimed = await self._claim_in(repo, now, room) if room > 0 else []
                for row in claimed:
                    self._start(row)
        except Exception:
            # The claim must not hold up the store (Telegram waits for it): store alone, and
            # leave the claim to the loop. A store that fails again raises to the poller.
            log.exception("receiving %d updates failed; storing them alone", len(updates))
            stored = await store_updates(self.sessions, self.bot.id, updates, self.clock)
            self.notify()
            return stored
        if len(claimed) >= room:
            self.notify()  # more may be due than there was room for: the loop takes them
        return stored

    async def _claim(self, limit: int) -> int:
        async with self._claiming:
            limit = min(limit, self.capacity - self._held)
            if limit <= 0 or self._stopping:
                return 0
            now = self.clock.now()
            async with self.sessions.begin() as session:
                rows = await self._claim_in(InboxRepo(session), now, limit)
            for row in rows:
                self._start(row)
            return len(rows)

    async def _claim_in(self, repo: InboxRepo, now: datetime, limit: int) -> list[ClaimedUpdate]:
        """Claim up to `limit` due updates for this worker in `repo`'s transaction."""
        until = now + timedelta(seconds=CLAIM_SECONDS)
        return await repo.claim(self.bot.id, now, until=until, token=self.token, limit=limit)

    def _start(self, row: ClaimedUpdate) -> None:
        self._held += 1
        key = row.chat_id if row.chat_id is not None else ("update", row.update_id)
        lane = self._lanes.get(key)
        if lane is not None:
            lane.append(row)  # its chat is busy: it goes after the earlier ones
            return
        self._lanes[key] = lane = deque([row])
        task = asyncio.create_task(self._run_lane(key, lane))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_lane(self, key: Any, lane: deque[ClaimedUpdate]) -> None:
        try:
            while lane and not self._stopping:
                await self._slots.acquire()
                held = True

                def release() -> None:
                    nonlocal held
                    if held:
                        held = False
                        self._slots.release()

                try:
                    if self._stopping:
                        break  # not started: handed back when the worker stops
                    await self._handle(lane[0], committed=release)
                finally:
                    release()
                lane.popleft()
                self._held -= 1
                if self._held <= self.capacity // 2:
                    self._room.set()  # claim the next batch before the workers run dry
        finally:
            self._lanes.pop(key, None)

    async def _handle(
        self, row: ClaimedUpdate, committed: Callable[[], None] | None = None
    ) -> None:
        ticket = InboxTicket(final=row.attempts + 1 >= self.max_attempts, committed=committed)
        try:
            response = await self.dp.feed_raw_update(
                self.bot, row.payload or {}, inbox_ticket=ticket
            )
        except Exception as exc:
            if ticket.done:  # committed: what failed came after (it was logged where it did)
                log.warning("update %s: failure after its commit: %s", row.update_id, exc)
                return
            await self._failed(row, exc)  # the update's transaction rolled back
            return
        if isinstance(response, TelegramMethod):
            # A handler may return a method, as for a webhook reply; the update is done.
            with contextlib.suppress(Exception):
                await self.bot(response)
        if not ticket.done:
            # An error handler answered (the update's transaction rolled back), or the update
            # was a duplicate: either way it is finished.
            await self._settle(row, lambda repo, now: repo.finish(self.bot.id, row.update_id, now))

    async def _failed(self, row: ClaimedUpdate, exc: BaseException) -> None:
        attempts = row.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:1000]
        if attempts < self.max_attempts:
            delay = min(MAX_BACKOFF, self.backoff * 2.0 ** (attempts - 1))
            log.warning(
                "update %s failed (attempt %d of %d), retried in %.1f s: %s",
                row.update_id, attempts, self.max_attempts, delay, error,
            )  # fmt: skip

            async def retry(repo: InboxRepo, now: Any) -> None:
                await repo.retry(
                    self.bot.id, row.update_id, self.token,
                    when=now + timedelta(seconds=delay), error=error,
                )  # fmt: skip

            await self._settle(row, retry)
            return
        log.error("update %s failed %d times; kept as failed: %s", row.update_id, attempts, error)

        async def give_up(repo: InboxRepo, now: Any) -> None:
            failed = await repo.fail(self.bot.id, row.update_id, self.token, error=error)
            text = self.apology(row.chat_id) if self.apology and row.chat_id else None
            if failed and text and row.chat_id is not None and row.chat_id > 0:
                await enqueue(
                    repo.session,
                    chat_id=row.chat_id,
                    method="send_message",
                    payload={"text": text},
                    now=now,
                    purpose="update_failed",
                )

        await self._settle(row, give_up)

    async def _settle(self, row: ClaimedUpdate, action: Callable[[InboxRepo, Any], Any]) -> None:
        try:
            async with self.sessions.begin() as session:
                await action(InboxRepo(session), self.clock.now())
        except Exception:
            # The claim expires and the update is tried again.
            log.exception("could not record the outcome of update %s", row.update_id)

    async def _wind_down(self, grace: float) -> None:
        self._stopping = True
        await wind_down(self._tasks, grace)
        async with self._claiming:  # a claim under way (a `receive`) finishes first
            with contextlib.suppress(Exception):
                async with self.sessions.begin() as session:
                    await InboxRepo(session).release(self.token)


class Poller:
    """Long polling (getUpdates) that confirms updates only once they are stored."""

    def __init__(
        self,
        bot: Bot,
        receive: Callable[[Sequence[dict[str, Any]]], Awaitable[int]],
        *,
        allowed_updates: list[str] | None,
        timeout: int = 25,
        limit: int = 100,
    ) -> None:
        self.bot = bot
        # Stores a batch durably (and hands it to the workers): `InboxWorker.receive`.
        self.receive = receive
        self.allowed_updates = allowed_updates
        self.timeout, self.limit = timeout, limit
        self.offset: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set."""
        backoff = 1.0
        while not stop.is_set():
            fetch = asyncio.ensure_future(self.get_updates())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
                return
            try:
                updates = fetch.result()
            except PollingError as exc:
                if exc.fatal:
                    raise
                wait = exc.retry_after or backoff
                log.warning("getUpdates failed (%s); again in %.0f s", exc, wait)
                await first_of(stop, within=wait)
                backoff = min(backoff * 2, 30.0)
                continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("getUpdates failed (%s); again in %.0f s", exc, backoff)
                await first_of(stop, within=backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            if not updates:
                continue
            # The offset moves on (confirming the batch to Telegram) only once it is stored.
            while not stop.is_set():
                try:
                    await self.receive(updates)
                    break
                except Exception:
                    log.exception("storing %d updates failed; retrying", len(updates))
                    await first_of(stop, within=backoff)
                    backoff = min(backoff * 2, 30.0)
            else:
                return
            self.offset = max(int(u["update_id"]) for u in updates) + 1

    async def get_updates(self) -> list[dict[str, Any]]:
        """One getUpdates call; the updates as Telegram sent them (parsed once, by the
        worker that handles them)."""
        if not isinstance(self.bot.session, AiohttpSession):
            raise TypeError("polling needs aiogram's AiohttpSession")
        session = await self.bot.session.create_session()
        url = self.bot.session.api.api_url(token=self.bot.token, method="getUpdates")
        params: dict[str, Any] = {"timeout": self.timeout, "limit": self.limit}
        if self.offset is not None:
            params["offset"] = self.offset
        if self.allowed_updates is not None:
            params["allowed_updates"] = self.allowed_updates
        async with session.post(
            url, json=params, timeout=aiohttp.ClientTimeout(total=self.timeout + 30)
        ) as response:
            body = await response.json(content_type=None)
        if not isinstance(body, dict) or not body.get("ok"):
            raise PollingError(body if isinstance(body, dict) else {}, response.status)
        return list(body.get("result") or [])


class PollingError(Exception):
    """getUpdates answered with an error (Bot API: `ok` false, `error_code`, `parameters`)."""

    def __init__(self, body: dict[str, Any], status: int) -> None:
        self.code = int(body.get("error_code") or status)
        self.retry_after = float((body.get("parameters") or {}).get("retry_after") or 0) or None
        super().__init__(f"{self.code} {body.get('description', '')}".strip())

    @property
    def fatal(self) -> bool:
        # A revoked token (401) or an unknown bot (404) will not get better by retrying; a
        # webhook set elsewhere or a second poller (409) may be fixed by an admin meanwhile.
        return self.code in (401, 404)
