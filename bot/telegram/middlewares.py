"""Outer middlewares: one transaction per update, idempotency, and what the update needs to
know (conversation, locale, admins)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.telegram import postcommit
from bot.telegram.fsm import SqlAlchemyStorage, current_session, preload
from bot.telegram.rendering import Renderer
from storage.repositories import InboxRepo, UpdateContextRepo
from storage.repositories.outbox import QUEUED

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Set by a caller that will hand the update over again if it fails for a passing reason (the
# webhook answers 503 and Telegram re-delivers): such failures are then re-raised to it.
redeliverable: ContextVar[bool] = ContextVar("update_redeliverable", default=False)


def is_transient(exc: BaseException) -> bool:
    """The database or the network was away: nothing of the update was stored, and the same
    update handled again later can succeed."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)
    return isinstance(exc, DisconnectionError | ConnectionError | TimeoutError | OSError)


class _AlreadyHandled(Exception):
    """Another worker recorded this update first: everything this one did is rolled back."""


class DbSessionMiddleware(BaseMiddleware):
    """Opens the update's session and owns its transaction; skips re-delivered updates.

    Telegram re-delivers an update whose offset was not confirmed (Bot API getUpdates): the
    update is recorded as handled (`InboxRepo.finish`, one statement) in the same transaction
    as everything the handler does, so a handled update is never handled twice and a failed
    one is retried as a whole. The record is written last, so on SQLite the database is only
    locked for writing once the handler writes (or at the very end), not while it reads.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.after_commit = after_commit

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        update_id = event.update_id if isinstance(event, Update) else None
        bot_id = data["bot"].id
        # Set by the inbox worker, which has claimed the update: no need to look it up first.
        ticket = data.get("inbox_ticket")
        # Everything the handler tells Telegram waits for the commit (see postcommit): a
        # rollback leaves no "sent" toast behind, and no transaction waits on Telegram.
        buffer = postcommit.PostCommit()
        data["post_commit"] = buffer
        queued = False
        try:
            async with self.sessions() as session, session.begin():
                if (
                    update_id is not None
                    and ticket is None
                    and await InboxRepo(session).is_done(bot_id, update_id)
                ):
                    log.info("update %s already handled; skipped", update_id)
                    data["duplicate_update"] = True
                    return None
                data["session"] = session
                token = current_session.set(session)
                deferred = postcommit.current.set(buffer)
                try:
                    result = await handler(event, data)
                finally:
                    postcommit.current.reset(deferred)
                    current_session.reset(token)
                if update_id is not None and not await InboxRepo(session).finish(
                    bot_id, update_id, self.clock.now()
                ):
                    raise _AlreadyHandled
                queued = bool(session.info.pop(QUEUED, False))
        except _AlreadyHandled:
            log.info("update %s was handled meanwhile; this run rolled back", update_id)
            return None
        if ticket is not None:
            ticket.done = True
            if ticket.committed is not None:
                ticket.committed()
        if queued and self.after_commit is not None:
            # Wake the outbox sender: what the update queued is durable now. (Most updates
            # queue nothing — the reply goes straight after the commit — and would only make
            # it look for work.)
            self.after_commit()
        await postcommit.run_after_commit(data["bot"], buffer, data.get("fsm_storage"))
        return result


class UpdateContextMiddleware(FSMContextMiddleware):
    """aiogram's FSM middleware, which also reads what every update needs, in one statement
    on the update's connection (`UpdateContextRepo`):

    - the conversation: loaded into the update's FSM rows, so `raw_state` and the handler's
      reads and writes cost no statement of their own (with the database storage; a Redis
      storage reads its own);
    - `locale`: the citizen's language (stored by /lang), else the default;
    - `admin_ids`: ADMIN_IDS plus the admins added from Telegram, so every admin check
      (binding groups, acting on cases, the panel) sees both.

    As in aiogram's own middleware, the conversation is read once the event-isolation lock
    of its key is held (aiogram issue 1317: read before the lock, a state can be stale).
    """

    def __init__(self, fsm: FSMContextMiddleware, renderer: Renderer, admins: frozenset[int]):
        super().__init__(
            storage=fsm.storage, events_isolation=fsm.events_isolation, strategy=fsm.strategy
        )
        self.renderer = renderer
        self.admins = admins

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        context = self.resolve_event_context(data["bot"], data)
        data["fsm_storage"] = self.storage
        if context is None:
            await self._read(data, None)
            return await handler(event, data)
        async with self.events_isolation.lock(key=context.key):
            await self._read(data, context)
            data.update({"state": context, "raw_state": await context.get_state()})
            return await handler(event, data)

    async def _read(self, data: dict[str, Any], fsm: FSMContext | None) -> None:
        locale, stored_admins = None, set[int]()
        session: AsyncSession | None = data.get("session")
        if session is not None:
            user: User | None = data.get("event_from_user")
            key = None
            if fsm is not None and isinstance(self.storage, SqlAlchemyStorage):
                key = self.storage.key_of(fsm.key)
            found = await UpdateContextRepo(session).read(key, user.id if user else None)
            if found.conversation is not None:
                preload(session, found.conversation)
            locale, stored_admins = found.locale, found.admin_ids
        data["locale"] = self.renderer.locale_of(locale or self.renderer.default_locale)
        data["admin_ids"] = self.admins | stored_admins


class Provide(BaseMiddleware):
    """The one dependency-injection idiom for per-update helpers: puts `factory(data)` into
    the handler's data under `name` (e.g. the intake `flow`, the officials' `desk`)."""

    def __init__(self, name: str, factory: Callable[[dict[str, Any]], Any]) -> None:
        self.name = name
        self.factory = factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data[self.name] = self.factory(data)
        return await handler(event, data)
