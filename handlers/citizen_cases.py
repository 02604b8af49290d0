"""A citizen's own cases: /mycases, /status CODE, rating an answer, sending extra information."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import Actor, CaseService
from bot.domain.codes import normalize_code
from bot.telegram.callbacks import MenuCB, RateCB
from bot.telegram.rendering import Renderer, split_html
from handlers.states import CitizenReply
from storage.repositories import AgencyRepo


async def _my_cases(
    message: Message,
    user_id: int,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    locale: str,
) -> None:
    rows = await cases.of_citizen(session, user_id)
    await message.answer(renderer.render("my_cases.html", locale, cases=rows))


async def my_cases(
    message: Message, session: AsyncSession, cases: CaseService, renderer: Renderer, locale: str
) -> None:
    assert message.from_user is not None
    await _my_cases(message, message.from_user.id, session, cases, renderer, locale)


async def track_button(
    callback: CallbackQuery,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    locale: str,
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await _my_cases(callback.message, callback.from_user.id, session, cases, renderer, locale)


async def status(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    locale: str,
    admin_ids: frozenset[int],
) -> None:
    assert message.from_user is not None
    if not command.args:
        await message.answer(renderer.t("status.usage", locale))
        return
    case = await cases.by_code(session, normalize_code(command.args))
    # Only the filer or an admin may read a case: an unknown code and someone else's code get
    # the same answer, so codes cannot be probed.
    if case is None or (
        case.citizen_id != message.from_user.id and message.from_user.id not in admin_ids
    ):
        await message.answer(renderer.t("status.not_found", locale, code=command.args.strip()[:20]))
        return
    text = renderer.render(
        "case_status.html",
        locale,
        case=case,
        agency=await cases_agency(session, case.agency),
        events=await cases.history(session, case),
    )
    for part in split_html(text):
        await message.answer(part)


async def cases_agency(session: AsyncSession, code: str) -> str:
    agency = await AgencyRepo(session).get(code)
    return agency.name if agency else code


async def rate(
    callback: CallbackQuery,
    callback_data: RateCB,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    locale: str,
) -> None:
    case = await cases.by_id(session, callback_data.case_id)
    if case is None or callback_data.rating not in ("good", "neutral", "bad"):
        await callback.answer(renderer.plain("common.stale_button", locale), show_alert=True)
        return
    user = callback.from_user
    await cases.rate(session, case, Actor("citizen", user.id, user.full_name), callback_data.rating)
    await callback.answer(renderer.plain("rating.thanks_toast", locale))
    await state.set_state(CitizenReply.rating_comment)
    await state.update_data(comment_case=case.id)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(renderer.t("rating.ask_comment", locale))


async def rating_comment(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    locale: str,
) -> None:
    assert message.from_user is not None
    data = await state.get_data()
    await state.clear()
    text = (message.text or "").strip()
    if text.startswith("/"):  # a command instead of a comment: no comment then
        await message.answer(renderer.t("rating.no_comment", locale))
        return
    case = await cases.by_id(session, int(data.get("comment_case", 0)))
    if case is not None:
        await cases.rating_comment(
            session,
            case,
            Actor("citizen", message.from_user.id, message.from_user.full_name),
            text[:1000],
        )
    await message.answer(renderer.t("rating.comment_thanks", locale))


async def reply_to_bot(
    message: Message, session: AsyncSession, cases: CaseService, renderer: Renderer, locale: str
) -> None:
    """A citizen replying to an agency's request for information (mapped by message id)."""
    assert message.reply_to_message is not None and message.from_user is not None
    case = await cases.by_message(session, message.chat.id, message.reply_to_message.message_id)
    if case is None or case.citizen_id != message.from_user.id:
        await message.answer(renderer.t("common.reply_unlinked", locale))
        return
    attachments: list[dict[str, Any]] = []
    if message.photo:
        attachments.append({"kind": "photo", "file_id": message.photo[-1].file_id})
    elif message.document:
        attachments.append(
            {
                "kind": "document",
                "file_id": message.document.file_id,
                "file_name": message.document.file_name,
            }
        )
    text = (message.text or message.caption or "").strip()
    if not text and not attachments:
        await message.answer(renderer.t("intake.type_text", locale))
        return
    await cases.citizen_info(
        session,
        case,
        Actor("citizen", message.from_user.id, message.from_user.full_name),
        text[:3000],
        attachments,
    )
    await message.answer(renderer.t("citizen.info_sent", locale, code=case.code))


def create_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__)
    router.message.register(my_cases, Command("mycases"))
    router.callback_query.register(track_button, MenuCB.filter(F.action == "track"))
    router.message.register(status, Command("status"))
    router.callback_query.register(rate, RateCB.filter())
    router.message.register(rating_comment, CitizenReply.rating_comment, F.text)
    router.message.register(reply_to_bot, StateFilter(None), F.reply_to_message)
    return router
