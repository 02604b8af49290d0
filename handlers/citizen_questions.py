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
from knowledge.search.intents import SMALLTALK

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


def procedure_facet(
    renderer: Renderer,
    knowledge: KnowledgeService,
    locale: str,
    record: ProcedureRecord,
    facet: str,
) -> list[str]:
    """The part of a procedure the question asked for ("mất bao lâu" → processing time)."""
    agency = knowledge.snapshot.agencies.get(record.agency)
    text = renderer.render(
        "procedure_facet.html",
        locale,
        p=record,
        facet=facet,
        agency_name=agency.name if agency else record.agency,
        vi_only=locale == "en",
    )
    return split_html(text)


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
    buttons = settings.search.suggestions
    response = knowledge.search(query, limit=buttons + 1)
    if response.intent == SMALLTALK:
        await message.answer(renderer.t(f"search.talk.{response.talk or 'greeting'}", locale))
        return
    if response.intent:
        # A request the knowledge base cannot answer: point to the channel that can. The
        # question is kept for "send this as feedback" (an answered one writes nothing).
        await state.update_data(last_question=query)
        # told by the example phrases alone: the procedures it resembles stay one tap away
        offered = [(h.code, h.name) for h in response.hits[:buttons]] if response.scope else []
        await message.answer(
            renderer.t(f"search.intent.{response.intent}", locale),
            reply_markup=keyboards.search_intent(locale, response.intent, offered),
        )
        return
    if response.abstained or not response.hits:
        await state.update_data(last_question=query)  # for "send this as a suggestion"
        hits = [(h.code, h.name) for h in response.hits]
        engine = knowledge.snapshot.engine
        event = next((engine.events.get(k) for k in response.events), None)
        await message.answer(
            renderer.render(
                "not_found.html",
                locale,
                hits=hits,
                event_name=event.name if event else "",
                english=response.language == "en",
            ),
            reply_markup=keyboards.not_found(locale, hits[:buttons]),
        )
        return
    record = knowledge.snapshot.procedures[response.hits[0].code]
    # The buttons under an answer: the same family or life event, never an unrelated one.
    related = [(h.code, h.name) for h in response.related[:buttons]]
    if response.facet:
        parts = procedure_facet(renderer, knowledge, locale, record, response.facet)
        markup = keyboards.procedure_card(locale, record.code, related, full=True)
    else:
        parts = procedure_card(renderer, knowledge, locale, record)
        markup = keyboards.procedure_card(locale, record.code, related)
    await send_parts(message, parts, markup)


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
