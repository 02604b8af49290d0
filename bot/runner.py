"""Long-running jobs: Telegram polling into the inbox and its workers (or, in bot/web.py, the
webhook), the outbox sender, the periodic tick and housekeeping.

aiogram is imported only by the jobs that talk to Telegram: a cron `tick` with nothing to send
starts without it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.app import create_app, create_bot, create_dispatcher, create_limiter, create_sender
from bot.clock import Clock
from bot.domain.knowledge import keep_out_of_collections
from bot.settings import Settings

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

    from bot.app import App
    from bot.observability import KnownPersonalData
    from bot.web import Operations

log = logging.getLogger(__name__)


async def run_polling(
    settings: Settings, *, known: KnownPersonalData | None = None, handle_signals: bool = True
) -> None:
    """Poll Telegram into the inbox and handle it; deliver the outbox; tick reminders every
    minute; serve /healthz and /metrics on METRICS_PORT when it is set.

    SIGTERM / SIGINT stop it gracefully: polling stops, the updates being handled finish, the
    rest stay stored for the next start."""
    from bot.app import create_inbox
    from bot.telegram.inbox import Poller
    from bot.web import create_web_app, serve

    stop = asyncio.Event()
    signals = stop_on_signals(stop) if handle_signals else contextlib.nullcontext()
    async with signals, background(settings, stop, known=known) as (ops, bot, dp):
        inbox = create_inbox(dp, bot, ops.app)
        poller = Poller(bot, inbox.receive, allowed_updates=dp.resolve_used_update_types())
        runner = None
        if settings.server.metrics_port:
            runner = await serve(
                create_web_app(ops), settings.server.metrics_host, settings.server.metrics_port
            )
        workflow = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
        await dp.emit_startup(bot=bot, **workflow)
        tasks = [
            asyncio.create_task(inbox.run(stop), name="inbox"),
            # Updates stored before a restart are handled before any new ones are fetched.
            asyncio.create_task(poller.run(stop), name="polling"),
        ]
        log.info("polling started")
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a fatal polling error (a revoked token) ends the bot
        finally:
            stop.set()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(Exception):
                await dp.emit_shutdown(bot=bot, **workflow)
            if runner is not None:
                await runner.cleanup()


@contextlib.asynccontextmanager
async def stop_on_signals(stop: asyncio.Event) -> AsyncIterator[None]:
    """SIGTERM and SIGINT set `stop` (a graceful stop) while the block runs."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


async def _warm_up(settings: Settings, application: App) -> None:
    """Load what the first citizens would wait for (bot/warmup.py), then move it out of the
    collector's reach as the start did with the index: the province's places alone are
    ~95,000 objects, a full collection walking them ~25 ms (a pause in every reply then
    being handled), for objects that live as long as the process."""
    from bot.warmup import warm_up

    await warm_up(settings.bot.province_code, application.renderer)
    if application.knowledge.freeze_heap:
        keep_out_of_collections(replaced=False)


@contextlib.asynccontextmanager
async def background(
    settings: Settings, stop: asyncio.Event, *, known: KnownPersonalData | None = None
) -> AsyncIterator[tuple[Operations, Bot, Dispatcher]]:
    """The application, the bot and its dispatcher (logged and measured), with the outbox
    worker and the minute tick running until `stop` is set or the block ends."""
    from bot.observability import DeliveryMetricsMiddleware, UpdateLogMiddleware, name_handlers
    from bot.web import Operations

    application = await create_app(settings)
    # Long-lived from here: what the start built (the search index) leaves the collector's
    # reach, and so does each index a KB import loads later.
    application.knowledge.freeze_heap = True
    keep_out_of_collections(replaced=False)
    bot = create_bot(settings)
    ops = Operations(application, known=known)
    bot.session.middleware(DeliveryMetricsMiddleware(ops.metrics))
    limiter = create_limiter(application, namespace=str(bot.id))
    sender = create_sender(bot, application, limiter)
    dp = create_dispatcher(
        application, sender=sender, outermost=[UpdateLogMiddleware(ops.metrics, known)]
    )
    name_handlers(dp)
    worker = asyncio.create_task(sender.run(stop))
    ticker = asyncio.create_task(_tick_forever(application, stop, ops=ops))
    # In a thread, while the first updates come in (bot/warmup.py); short, and not cancellable.
    warming = asyncio.create_task(_warm_up(settings, application), name="warm-up")
    try:
        yield ops, bot, dp
    finally:
        stop.set()
        for task in (worker, ticker, warming):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        close = getattr(limiter.shared, "close", None)
        if close is not None:
            await close()
        await dp.storage.close()
        await bot.session.close()
        await application.close()
        # What was frozen is the collector's again (a process that goes on, as a test run,
        # would otherwise never collect the cycles among it).
        application.knowledge.freeze_heap = False
        gc.unfreeze()


async def _tick_forever(
    application: Any, stop: asyncio.Event, every: float = 60.0, *, ops: Operations | None = None
) -> None:
    from bot.domain.reminders import run_tick
    from bot.housekeeping import housekeep

    housekeeping_every = application.settings.retention.every_minutes * 60
    last_housekeeping = float("-inf")
    while not stop.is_set():
        try:
            await run_tick(application)
            if ops is not None:
                ops.ticked()
            if time.monotonic() - last_housekeeping >= housekeeping_every:
                deleted = await housekeep(application)
                last_housekeeping = time.monotonic()
                if ops is not None:
                    for table, n in deleted.items():
                        ops.metrics.housekeeping.labels(table).inc(n)
        except Exception:
            log.exception("tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def tick_once(settings: Settings, clock: Clock) -> dict[str, Any]:
    """One tick at `clock`'s time, then deliver what it queued (needs BOT_TOKEN to send)."""
    from bot.domain.reminders import run_tick

    application = await create_app(settings, clock, load_knowledge=False)
    try:
        result = await run_tick(application)
        if settings.telegram.bot_token is not None:
            bot = create_bot(settings)
            try:
                stats = await create_sender(bot, application).deliver_all()
                result["delivered"] = stats.sent
            finally:
                await bot.session.close()
        return result
    finally:
        await application.close()


@dataclass(frozen=True)
class WouldSend:
    """A message a dry-run tick would have queued: to whom (in words), why, and its text."""

    recipient: str
    chat_id: int
    purpose: str
    text: str


async def tick_dry_run(settings: Settings, clock: Clock) -> tuple[dict[str, int], list[WouldSend]]:
    """One tick at `clock`'s time in a transaction that is rolled back: what it would queue,
    and nothing recorded (no reminder or report marked as done, no outbox rows)."""
    from bot.domain.reminders import run_tick
    from bot.shell import ChatNames
    from storage.repositories import AgencyRepo, OutboxRepo

    application = await create_app(settings, clock, seed=False, load_knowledge=False)
    try:
        names = ChatNames(application.renderer, settings.bot.locale, settings.bot.admin_ids)
        async with application.sessions() as session:
            await session.begin()
            try:
                names.load(await AgencyRepo(session).all())
                outbox = OutboxRepo(session)
                before = await outbox.last_id()
                counts = await run_tick(application, session=session)
                would = [
                    WouldSend(
                        names(row.chat_id),
                        row.chat_id,
                        row.purpose,
                        str(row.payload.get("text") or row.payload.get("caption") or ""),
                    )
                    for row in await outbox.after(before)
                ]
            finally:
                await session.rollback()
        return counts, would
    finally:
        await application.close()
