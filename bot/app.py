"""Factories: nothing is created at import time. `create_app` builds the application's
objects, `create_bot` and `create_dispatcher` the Telegram side, and they are passed down.

aiogram is imported only by the factories of the Telegram side (and by the notifier, built the
first time a domain event is published): importing it costs seconds, which a command that never
talks to Telegram (`kb search`, `calendar due`, a `tick` with nothing due) should not pay.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.domain.knowledge import KnowledgeService, seed_sample
from bot.settings import Settings
from storage.db import create_engine, create_session_factory, upgrade_if_needed

if TYPE_CHECKING:
    from aiogram import BaseMiddleware, Bot, Dispatcher
    from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage

    from bot.domain.answers import AnswerDesk
    from bot.domain.cases import CaseService
    from bot.domain.events import DomainEvent
    from bot.telegram.inbox import InboxWorker
    from bot.telegram.keyboards import Keyboards
    from bot.telegram.notifier import Notifier
    from bot.telegram.outbox import OutboxSender
    from bot.telegram.ratelimit import SharedLimits, TelegramRateLimiter
    from bot.telegram.rendering import Renderer
    from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# How long a chat's update lock lives in Redis: longer than any update takes to handle, short
# enough that a chat whose process died is served again quickly.
FSM_LOCK_SECONDS = 15


@dataclass
class App:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    knowledge: KnowledgeService
    extras: dict[str, Any] = field(default_factory=dict)

    # The services below are built on first use, and their modules imported then: a command
    # that only searches or lists never pays for the templates, the message catalogs or the
    # case workflow (CLI commands start within a second).
    @cached_property
    def renderer(self) -> Renderer:
        from bot.telegram.rendering import Renderer

        return Renderer(self.settings.bot.tz, self.settings.bot.locale)

    @cached_property
    def cases(self) -> CaseService:
        from bot.domain.cases import CaseService
        from bot.domain.schedule import Schedule
        from knowledge.places import load_gazetteer

        settings = self.settings
        province = settings.bot.province_code
        return CaseService(
            settings=settings.cases,
            clock=self.clock,
            tz=settings.bot.tz,
            events=_Events(self),
            schedule=Schedule.of(settings),
            places=partial(load_gazetteer, province) if province else None,
        )

    @cached_property
    def answers(self) -> AnswerDesk:
        from bot.domain.answers import AnswerDesk

        return AnswerDesk(self.cases, self.settings.bot.admin_ids)

    @cached_property
    def keyboards(self) -> Keyboards:
        from bot.telegram.keyboards import Keyboards

        return Keyboards(self.renderer)

    @cached_property
    def notifier(self) -> Notifier:
        """The Telegram notifier (domain events → outbox rows), built on first use."""
        from bot.telegram.notifier import Notifier
        from bot.telegram.scheduled import ScheduledMessages

        settings = self.settings
        notifier = Notifier(
            renderer=self.renderer,
            keyboards=self.keyboards,
            clock=self.clock,
            tz=settings.bot.tz,
            admin_ids=settings.bot.admin_ids,
            group_locale=settings.bot.locale,
            max_extensions=settings.cases.max_extensions,
        )
        notifier.scheduled = ScheduledMessages(settings)
        return notifier

    @property
    def events(self) -> Notifier:
        """Where the domain publishes its events (the Telegram notifier)."""
        return self.notifier

    async def close(self) -> None:
        await self.engine.dispose()


class _Events:
    """The domain's publisher: the application's notifier, built the first time an event is
    published (a command that publishes nothing never imports aiogram)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def publish(self, session: AsyncSession, event: DomainEvent) -> int:
        return await self.app.notifier.publish(session, event)


async def create_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    run_migrations: bool = True,
    seed: bool = True,
    load_knowledge: bool = True,
) -> App:
    """Build the database, the knowledge base and the services (`load_knowledge=False`: the
    search index is not built, for commands that do not search)."""
    clock = clock or SystemClock()
    engine = create_engine(settings.database.database_url, echo=settings.database.database_echo)
    if run_migrations:
        await upgrade_if_needed(engine)
    sessions = create_session_factory(engine)
    if seed:
        try:
            async with sessions.begin() as session:
                if await seed_sample(session, clock.now()):
                    log.info("empty database: loaded the bundled sample knowledge base")
        except IntegrityError:
            # Several processes started on an empty database at once; another one loaded it.
            log.info("the bundled sample was loaded by another process")
    knowledge = KnowledgeService(
        sessions,
        settings.search.lexicon_path,
        settings.search.life_events_path,
        settings.search.examples_path,
        settings.search.cache_path,
    )
    if load_knowledge:
        await knowledge.reload(force=True)
    return App(
        settings=settings, clock=clock, engine=engine, sessions=sessions, knowledge=knowledge
    )


def create_bot(settings: Settings, token: str | None = None) -> Bot:
    """The aiogram Bot, talking to Telegram or to the custom Bot API server in settings."""
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
    from aiogram.enums import ParseMode

    from bot.telegram.postcommit import DeferUntilCommit
    from bot.telegram.retry import RetryMiddleware
    from bot.telegram.session import JsonBodySession

    api = (
        TelegramAPIServer.from_base(settings.telegram.telegram_api_base)
        if settings.telegram.telegram_api_base
        else PRODUCTION
    )
    session = JsonBodySession(api=api, timeout=settings.telegram.telegram_timeout)
    secret = token or (
        settings.telegram.bot_token.get_secret_value() if settings.telegram.bot_token else None
    )
    if not secret:
        raise ValueError("BOT_TOKEN is not set")
    bot = Bot(
        secret,
        session=session,
        # A reply whose target was deleted is still delivered (Bot API ReplyParameters:
        # allow_sending_without_reply), and links never unfold into previews.
        default=DefaultBotProperties(
            parse_mode=ParseMode.HTML,
            link_preview_is_disabled=True,
            allow_sending_without_reply=True,
        ),
    )
    # Outermost first: inside an update's transaction calls wait for the commit; after it,
    # they ride out 429s and 5xx within a time budget.
    session.middleware(DeferUntilCommit())
    session.middleware(RetryMiddleware())
    _pin_response_types()
    return bot


_PINNED: list[Any] = []


def _pin_response_types() -> None:
    """Keep aiogram's parsed-response classes alive. aiogram builds `Response[Message]`
    for every reply it reads, and pydantic caches such generic classes only weakly: after a
    garbage collection the class is built again (milliseconds each, for every reply). Holding
    the ones the bot uses makes every later lookup a cache hit."""
    if _PINNED:
        return
    from aiogram.methods.base import Response

    from bot.lazy_types import build_common_types

    build_common_types()  # first: the responses below nest `Message`
    from aiogram.types import ChatFullInfo, File, Message, MessageId, User

    for returned in (Message, bool, Message | bool, list[Message], MessageId, User,
                     ChatFullInfo, File):  # fmt: skip
        _PINNED.append(Response[returned])  # type: ignore[valid-type]


def create_fsm(settings: Settings, app: App) -> tuple[BaseStorage, BaseEventIsolation]:
    """FSM storage that survives restarts: Redis when REDIS_URL is set, else the database."""
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.memory import SimpleEventIsolation

    from bot.telegram.fsm import SqlAlchemyStorage
    from bot.telegram.postcommit import TransactionalStorage

    if settings.database.redis_url:
        # Imported here: the redis driver is the optional `[redis]` extra.
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        # Abandoned conversations expire after RETENTION_FSM_DAYS (housekeeping's rule).
        ttl = timedelta(days=settings.retention.fsm_days)
        redis = RedisStorage.from_url(
            settings.database.redis_url,
            key_builder=DefaultKeyBuilder(with_destiny=True),
            state_ttl=ttl,
            data_ttl=ttl,
        )
        # One update per chat at a time across processes; a process that dies mid-update
        # holds its chat's lock until it expires.
        lock = {"timeout": FSM_LOCK_SECONDS}
        # Writes wait for the update's database commit (see TransactionalStorage).
        return TransactionalStorage(redis), RedisEventIsolation(redis.redis, lock_kwargs=lock)
    return SqlAlchemyStorage(app.sessions), SimpleEventIsolation()


def create_limiter(app: App, *, namespace: str) -> TelegramRateLimiter:
    """Telegram's limits, shared by every process of the bot: in Redis when REDIS_URL is
    set, else in the database (`namespace` keeps two bots on one Redis apart)."""
    from bot.telegram.ratelimit import TelegramRateLimiter
    from bot.telegram.shared_limits import DatabaseLimits, RedisLimits

    shared: SharedLimits
    if app.settings.database.redis_url:
        shared = RedisLimits.from_url(app.settings.database.redis_url, namespace)
    else:
        shared = DatabaseLimits(app.sessions)
    return TelegramRateLimiter(shared=shared)


def create_sender(
    bot: Bot, app: App, limiter: TelegramRateLimiter | None = None, clock: Clock | None = None
) -> OutboxSender:
    """The outbox worker for this bot (retries in real time unless given another clock)."""
    from bot.telegram.outbox import OutboxSender, explain

    def failure_text(row: OutboxMessage, error: str) -> str:
        locale = app.settings.bot.locale
        return app.renderer.t(
            "admin.delivery_failed",
            locale,
            chat_id=row.chat_id,
            error=error,
            purpose=row.purpose,
            reason=app.renderer.t(explain(error), locale),
        )

    return OutboxSender(
        bot,
        app.sessions,
        admin_ids=app.settings.bot.admin_ids,
        limiter=limiter,
        clock=clock,
        failure_text=failure_text,
        render=app.notifier.render,
        on_delivered=app.notifier.delivered,
        claim_seconds=app.settings.telegram.outbox_claim_seconds,
    )


def create_dispatcher(
    app: App,
    *,
    storage: BaseStorage | None = None,
    isolation: BaseEventIsolation | None = None,
    sender: OutboxSender | None = None,
    outermost: Sequence[BaseMiddleware] = (),
) -> Dispatcher:
    """The production dispatcher: routers, middlewares, error handler, injected services.
    `outermost` update middlewares wrap everything (the per-update log line and metrics)."""
    from aiogram import Dispatcher
    from aiogram.fsm.storage.memory import SimpleEventIsolation

    from bot.telegram.inline_filters import run_filters_inline
    from bot.telegram.middlewares import DbSessionMiddleware, UpdateContextMiddleware
    from handlers import setup_routers

    if storage is None:
        storage, isolation = create_fsm(app.settings, app)
    # aiogram's FSM middleware would run before any of ours: ours (UpdateContextMiddleware,
    # the same with the locale and the admins read in the same statement) runs inside the
    # update's transaction, so the state is read on the update's own connection and the
    # loaded row serves every later read and write of the update.
    dp = Dispatcher(
        storage=storage,
        events_isolation=isolation or SimpleEventIsolation(),
        disable_fsm=True,
        app=app,
        settings=app.settings,
        renderer=app.renderer,
        keyboards=app.keyboards,
        knowledge=app.knowledge,
        cases=app.cases,
        answers=app.answers,
        notifier=app.notifier,
        clock=app.clock,
        admin_ids=frozenset(app.settings.bot.admin_ids),
    )
    for middleware in outermost:
        dp.update.outer_middleware(middleware)
    dp.update.outer_middleware(
        DbSessionMiddleware(app.sessions, app.clock, after_commit=sender.notify if sender else None)
    )
    admins = frozenset(app.settings.bot.admin_ids)
    dp.update.outer_middleware(UpdateContextMiddleware(dp.fsm, app.renderer, admins))
    dp.include_router(setup_routers())
    run_filters_inline(dp)
    return dp


def create_inbox(dp: Dispatcher, bot: Bot, app: App, clock: Clock | None = None) -> InboxWorker:
    """The pool of workers that handles stored updates (UPDATE_WORKERS at a time)."""
    from bot.telegram.inbox import InboxWorker

    def apology(chat_id: int) -> str:
        return app.renderer.t("common.unexpected", app.settings.bot.locale)

    return InboxWorker(
        dp,
        bot,
        app.sessions,
        concurrency=app.settings.telegram.update_workers,
        clock=clock,
        apology=apology,
    )
