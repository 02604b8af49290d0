"""Long-running jobs: Telegram polling into the inbox, its workers, the outbox sender, and
the periodic tick."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.app import create_app, create_bot, create_dispatcher, create_inbox, create_sender
from bot.clock import Clock
from bot.settings import Settings

log = logging.getLogger(__name__)

# Telegram keeps undelivered updates for 24 hours; remembering ids for two days is enough.
UPDATE_MEMORY = timedelta(days=2)


async def run_polling(settings: Settings, *, handle_signals: bool = True) -> None:
    """Poll Telegram into the inbox; handle it; deliver the outbox; tick every minute.

    SIGTERM / SIGINT stop it gracefully: polling stops, the updates being handled finish,
    the rest stay stored for the next start."""
    from bot.telegram.inbox import Poller

    application = await create_app(settings)
    bot = create_bot(settings)
    sender = create_sender(bot, application)
    dp = create_dispatcher(application, sender=sender)
    inbox = create_inbox(dp, bot, application)
    poller = Poller(
        bot,
        application.sessions,
        allowed_updates=dp.resolve_used_update_types(),
        on_stored=inbox.notify,
    )
    stop = asyncio.Event()
    if handle_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
    workflow = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    await dp.emit_startup(bot=bot, **workflow)
    tasks = [
        asyncio.create_task(inbox.run(stop), name="inbox"),
        asyncio.create_task(sender.run(stop), name="outbox"),
        asyncio.create_task(_tick_forever(application, stop), name="tick"),
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
        await bot.session.close()
        await application.close()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    asyncio.get_running_loop().remove_signal_handler(sig)


async def _tick_forever(application: Any, stop: asyncio.Event, every: float = 60.0) -> None:
    from bot.domain.reminders import run_tick

    while not stop.is_set():
        try:
            await run_tick(application)
            await prune_updates(application)
        except Exception:
            log.exception("tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def prune_updates(application: Any) -> int:
    """Forget handled update ids older than Telegram's re-delivery horizon (about a day)."""
    from storage.repositories import InboxRepo

    async with application.sessions.begin() as session:
        return await InboxRepo(session).prune(application.clock.now() - UPDATE_MEMORY)


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
