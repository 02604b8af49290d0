"""Free text in a private chat is a question about a procedure."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.domain.knowledge import KnowledgeService
from bot.settings import Settings
from bot.telegram.callbacks import ProcedureCB
from bot.telegram.keyboards import Keyboards
from bot.telegram.rendering import Renderer, split_html
from knowledge.records import ProcedureRecord

# Questions are short; a pasted essay is searched by its beginning (Telegram allows 4096).
MAX_QUERY_CHARS = 500


def procedure_card(
    renderer: Renderer, knowledge: KnowledgeService, locale: str, record: ProcedureRecord
) -> list[str]:
    agency = knowledge.snapshot.agencies.get(record.agency)
    text = renderer.render(
        "procedure_card.html",
        locale,
        p=record,
        agency_name=agency.name if agency else record.agency,
    )
    return split_html(text)


async def send_parts(
    message: Message, parts: list[str], markup: InlineKeyboardMarkup | None
) -> None:
    for i, part in enumerate(parts):
        await message.answer(part, reply_markup=markup if i == len(parts) - 1 else None)


async def question(
    message: Message,
    state: FSMContext,
    renderer: Renderer,
    keyboards: Keyboards,
    knowledge: KnowledgeService,
    settings: Settings,
    locale: str,
) -> None:
    text = (message.text or "").strip()
    if not text:
        await message.answer(renderer.t("search.empty", locale))
        return
    if text.startswith("/"):
        await message.answer(renderer.t("common.unknown_command", locale))
        return
    query = text[:MAX_QUERY_CHARS]
    await knowledge.refresh()  # picks up imports made by admins, in any process
    response = knowledge.search(query, limit=settings.search.suggestions + 1)
    hits = [(h.code, h.name) for h in response.hits]
    if response.abstained or not response.hits:
        # Kept for "send this question as a suggestion", the button only this answer has
        # (an answered question writes nothing).
        await state.update_data(last_question=query)
        await message.answer(
            renderer.render("not_found.html", locale, hits=hits),
            reply_markup=keyboards.not_found(locale, hits[: settings.search.suggestions]),
        )
        return
    record = knowledge.snapshot.procedures[response.hits[0].code]
    others = hits[1 : settings.search.suggestions]
    await send_parts(
        message,
        procedure_card(renderer, knowledge, locale, record),
        keyboards.procedure_card(locale, record.code, others),
    )


async def show_procedure(
    callback: CallbackQuery,
    callback_data: ProcedureCB,
    renderer: Renderer,
    keyboards: Keyboards,
    knowledge: KnowledgeService,
    locale: str,
) -> None:
    record = knowledge.snapshot.procedures.get(callback_data.code)
    if record is None:
        await callback.answer(renderer.plain("search.gone", locale), show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await send_parts(
            callback.message,
            procedure_card(renderer, knowledge, locale, record),
            keyboards.procedure_card(locale, record.code, []),
        )


def create_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__)
    router.message.register(question, StateFilter(None), F.text)
    router.callback_query.register(show_procedure, ProcedureCB.filter())
    return router
