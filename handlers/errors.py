"""One error handler: our domain errors become clear, translated replies."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from sqlalchemy.orm.exc import StaleDataError

from bot.domain.errors import UserFacingError
from bot.telegram.inbox import InboxTicket
from bot.telegram.middlewares import is_transient, redeliverable
from bot.telegram.rendering import Renderer

log = logging.getLogger(__name__)


async def user_facing(event: ErrorEvent, renderer: Renderer, locale: str | None = None) -> None:
    # The update's transaction was rolled back; nothing was stored. Tell the user why.
    exc = event.exception
    assert isinstance(exc, UserFacingError)
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(
            renderer.plain(exc.key, locale, **exc.params), show_alert=True
        )
    elif update.message is not None:
        await update.message.answer(renderer.t(exc.key, locale, **exc.params))


async def lost_race(event: ErrorEvent, renderer: Renderer, locale: str | None = None) -> None:
    # Two people changed the same case at once and this update lost (the case's version had
    # moved on): its transaction was rolled back; the person is asked to look and try again.
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(
            renderer.plain("case.changed_concurrently", locale), show_alert=True
        )
    elif update.message is not None:
        await update.message.answer(renderer.t("case.changed_concurrently", locale))


async def unexpected(
    event: ErrorEvent,
    renderer: Renderer,
    locale: str | None = None,
    inbox_ticket: InboxTicket | None = None,
) -> None:
    """Anything else (a bug, the database gone for a moment): the transaction was rolled back,
    so the person is told that nothing was saved and to try again, never left without a word.

    An update from the inbox is first tried again by the inbox itself (most such failures pass:
    a lock, a restart of the database): the person hears about it only after the last try."""
    if inbox_ticket is not None and not inbox_ticket.final:
        raise SkipHandler  # unhandled: the inbox keeps the update and tries again
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    if redeliverable.get() and is_transient(event.exception):
        # The webhook answers 503 and Telegram delivers the update again: no apology for a
        # step that will still happen.
        raise event.exception
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(
                renderer.plain("common.unexpected", locale), show_alert=True
            )
        elif update.message is not None:
            await update.message.answer(renderer.t("common.unexpected", locale))
    except Exception:  # Telegram itself may be what failed
        log.warning("could not tell the user about the failure of update %s", update.update_id)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__)
    router.errors.register(user_facing, ExceptionTypeFilter(UserFacingError))
    router.errors.register(lost_race, ExceptionTypeFilter(StaleDataError))
    router.errors.register(unexpected)
    return router
