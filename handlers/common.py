"""Commands every citizen sees: /start, /help, /lang, /cancel, /forget, the main menu."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.telegram.callbacks import LangCB, MenuCB
from bot.telegram.keyboards import Keyboards
from bot.telegram.rendering import Renderer
from storage.repositories import CitizenRepo


async def cancel(
    message: Message, state: FSMContext, renderer: Renderer, keyboards: Keyboards, locale: str
) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    key = "common.cancelled" if had_state else "common.nothing_to_cancel"
    await message.answer(renderer.t(key, locale), reply_markup=ReplyKeyboardRemove())
    await message.answer(
        renderer.t("start.intro", locale), reply_markup=keyboards.main_menu(locale)
    )


async def start(
    message: Message, state: FSMContext, renderer: Renderer, keyboards: Keyboards, locale: str
) -> None:
    # /start is the citizen's "reset": a half-written draft is dropped (they were told /cancel
    # does the same), so the menu always works.
    await state.clear()
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(
        renderer.render("start.html", locale, name=name), reply_markup=keyboards.main_menu(locale)
    )


async def _help(target: Message, renderer: Renderer, locale: str) -> None:
    await target.answer(renderer.render("help.html", locale))


async def help_command(message: Message, renderer: Renderer, locale: str) -> None:
    await _help(message, renderer, locale)


async def help_button(callback: CallbackQuery, renderer: Renderer, locale: str) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await _help(callback.message, renderer, locale)


async def ask_button(callback: CallbackQuery, renderer: Renderer, locale: str) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(renderer.t("search.prompt", locale))


async def lang(message: Message, renderer: Renderer, keyboards: Keyboards, locale: str) -> None:
    await message.answer(renderer.t("lang.choose", locale), reply_markup=keyboards.languages())


async def set_lang(
    callback: CallbackQuery,
    callback_data: LangCB,
    session: AsyncSession,
    renderer: Renderer,
    keyboards: Keyboards,
    clock: Clock,
) -> None:
    locale = renderer.locale_of(callback_data.locale)
    citizen = await CitizenRepo(session).get_or_create(callback.from_user.id, clock.now())
    citizen.locale = locale
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            renderer.t("lang.set", locale), reply_markup=keyboards.main_menu(locale)
        )


async def forget(
    message: Message, session: AsyncSession, state: FSMContext, renderer: Renderer, locale: str
) -> None:
    assert message.from_user is not None
    removed = await CitizenRepo(session).forget(message.from_user.id)
    # An abandoned draft holds the same details (name, phone, address): it goes too.
    if await state.get_state() is not None or await state.get_data():
        removed = True
    await state.clear()
    await message.answer(
        renderer.t("common.forgotten" if removed else "common.nothing_stored", locale)
    )


def create_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__)
    router.message.register(cancel, Command("cancel"))
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.callback_query.register(help_button, MenuCB.filter(F.action == "help"))
    router.callback_query.register(ask_button, MenuCB.filter(F.action == "ask"))
    router.message.register(lang, Command("lang"))
    router.callback_query.register(set_lang, LangCB.filter())
    router.message.register(forget, Command("forget"))
    return router
