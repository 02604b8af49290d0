"""Anything a private chat sends that no other handler took: stickers, voice, locations…"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.telegram.rendering import Renderer


async def not_text(message: Message, renderer: Renderer, locale: str) -> None:
    await message.answer(renderer.t("common.type_question", locale))


async def not_expected_in_step(message: Message, renderer: Renderer, locale: str) -> None:
    await message.answer(renderer.t("intake.type_text", locale))


async def stale_button(callback: CallbackQuery, renderer: Renderer, locale: str) -> None:
    # Old buttons from an earlier conversation (or forged data) change nothing.
    await callback.answer(renderer.plain("common.stale_button", locale), show_alert=True)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__)
    router.message.register(not_text, StateFilter(None))
    router.message.register(not_expected_in_step)
    router.callback_query.register(stale_button)
    return router
