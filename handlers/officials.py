"""Officials work cases in their agency's group.

Groups run the bot in privacy mode (Telegram's default): the bot sees commands, replies to
its own messages and mentions only. So every question the bot asks an official is sent with
ForceReply, and answers to citizens are replies to the case card — mapped to the case through
the stored message ids, never through text patterns (DOMAIN.md, "Telegram facts").
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ForceReply, Message, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import CaseCB, RejectCB, TransferCB
from bot.errors import UserFacingError
from bot.keyboards import REJECT_REASONS, Keyboards
from bot.rendering import Renderer
from bot.services.cases import Actor, CaseService
from bot.services.codes import normalize_code
from bot.services.statuses import Status
from bot.settings import Settings
from handlers.states import Official
from storage.models import Case
from storage.repositories import AgencyRepo

router = Router(name=__name__)

_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*[,;:\-–]?\s*(.*)$", re.S)


def official(user: User) -> Actor:
    return Actor("official", user.id, user.full_name)


async def _case_for_action(
    session: AsyncSession,
    cases: CaseService,
    case_id: int,
    chat_id: int,
    user_id: int,
    admin_ids: frozenset[int],
) -> Case:
    case = await cases.by_id(session, case_id)
    if case is None:
        raise UserFacingError("case.not_found")
    # Callback data can be forged by a modified client: permissions are checked here, on the
    # server, against the case's *current* agency.
    await cases.ensure_can_act(session, case, chat_id=chat_id, user_id=user_id, admin_ids=admin_ids)
    return case


def _attachments(message: Message) -> list[dict[str, Any]]:
    if message.photo:
        return [{"kind": "photo", "file_id": message.photo[-1].file_id}]
    if message.document:
        return [
            {
                "kind": "document",
                "file_id": message.document.file_id,
                "file_name": message.document.file_name,
            }
        ]
    return []


async def _ask(
    callback: CallbackQuery, state: FSMContext, target: Any, text: str, **data: Any
) -> None:
    await state.set_state(target)
    await state.update_data(**data)
    if isinstance(callback.message, Message):
        prompt = await callback.message.answer(
            text,
            reply_markup=ForceReply(selective=True),
            reply_to_message_id=callback.message.message_id,
        )
        await state.update_data(prompt_id=prompt.message_id)


@router.callback_query(CaseCB.filter())
async def card_button(
    callback: CallbackQuery,
    callback_data: CaseCB,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    keyboards: Keyboards,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    assert callback.message is not None
    loc = settings.bot.locale
    case = await _case_for_action(
        session,
        cases,
        callback_data.case_id,
        callback.message.chat.id,
        callback.from_user.id,
        admin_ids,
    )
    action = callback_data.action
    if action == "take":
        await cases.take(session, case, official(callback.from_user))
        await callback.answer(renderer.plain("group.taken_toast", loc, code=case.code))
    elif action == "transfer":
        agencies = [
            (a.code, a.name)
            for a in await AgencyRepo(session).all_records()
            if a.code != case.agency
        ]
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.answer(
                renderer.t("group.pick_agency", loc, code=case.code),
                reply_markup=keyboards.transfer_targets(loc, case.id, agencies),
            )
    elif action == "extend":
        if case.extensions >= settings.cases.max_extensions:
            raise UserFacingError("case.extension_used", code=case.code)
        await callback.answer()
        await _ask(
            callback,
            state,
            Official.extend_date,
            renderer.t("group.ask_extension", loc, code=case.code),
            case_id=case.id,
        )
    elif action == "reject":
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.answer(
                renderer.t("group.pick_reason", loc, code=case.code),
                reply_markup=keyboards.reject_reasons(loc, case.id),
            )
    elif action == "info":
        await callback.answer()
        await _ask(
            callback,
            state,
            Official.info_question,
            renderer.t("group.ask_info", loc, code=case.code),
            case_id=case.id,
        )
    else:
        await callback.answer(renderer.plain("common.stale_button", loc), show_alert=True)


@router.callback_query(TransferCB.filter())
async def transfer_target(
    callback: CallbackQuery,
    callback_data: TransferCB,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    assert callback.message is not None
    case = await _case_for_action(
        session,
        cases,
        callback_data.case_id,
        callback.message.chat.id,
        callback.from_user.id,
        admin_ids,
    )
    target = await AgencyRepo(session).get(callback_data.agency)
    if target is None or target.code == case.agency:
        raise UserFacingError("case.unknown_agency", agency=callback_data.agency)
    await callback.answer()
    await _ask(
        callback,
        state,
        Official.transfer_reason,
        renderer.t(
            "group.ask_transfer_reason", settings.bot.locale, code=case.code, agency=target.name
        ),
        case_id=case.id,
        agency=target.code,
    )


@router.callback_query(RejectCB.filter())
async def reject_reason(
    callback: CallbackQuery,
    callback_data: RejectCB,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    assert callback.message is not None
    if callback_data.reason not in REJECT_REASONS:
        raise UserFacingError("case.not_found")
    case = await _case_for_action(
        session,
        cases,
        callback_data.case_id,
        callback.message.chat.id,
        callback.from_user.id,
        admin_ids,
    )
    await cases.reject(session, case, callback_data.reason, official(callback.from_user))
    await callback.answer(
        renderer.plain("group.rejected_toast", settings.bot.locale, code=case.code)
    )
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


async def _state_case(
    state: FSMContext,
    message: Message,
    session: AsyncSession,
    cases: CaseService,
    admin_ids: frozenset[int],
) -> tuple[Case, dict[str, Any]]:
    data = await state.get_data()
    await state.clear()
    assert message.from_user is not None
    case = await _case_for_action(
        session,
        cases,
        int(data.get("case_id", 0)),
        message.chat.id,
        message.from_user.id,
        admin_ids,
    )
    return case, data


@router.message(Official.transfer_reason, F.text)
async def transfer_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    assert message.from_user is not None
    case, data = await _state_case(state, message, session, cases, admin_ids)
    await cases.transfer(
        session,
        case,
        data["agency"],
        (message.text or "").strip()[:500],
        official(message.from_user),
    )
    await message.reply(renderer.t("group.transferred", settings.bot.locale, code=case.code))


def parse_extension(text: str, tz: Any) -> tuple[datetime, str]:
    """ "dd/mm/yyyy reason" → (local midnight of that date, reason)."""
    match = _DATE.match(text or "")
    if not match:
        raise UserFacingError("group.extension_format")
    day, month, year, reason = match.groups()
    try:
        when = datetime(int(year), int(month), int(day), tzinfo=tz)
    except ValueError as exc:
        raise UserFacingError("group.extension_format") from exc
    if not reason.strip():
        raise UserFacingError("group.extension_format")
    return when, reason.strip()[:500]


@router.message(Official.extend_date, F.text)
async def extension_given(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    assert message.from_user is not None
    when, reason = parse_extension(message.text or "", settings.bot.tz)
    case, _ = await _state_case(state, message, session, cases, admin_ids)
    await cases.extend(session, case, when, reason, official(message.from_user))
    await message.reply(
        renderer.t("group.extended", settings.bot.locale, code=case.code, due=case.due_at)
    )


@router.message(Official.info_question, F.text)
async def info_question(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    assert message.from_user is not None
    case, _ = await _state_case(state, message, session, cases, admin_ids)
    await cases.request_info(
        session, case, official(message.from_user), (message.text or "").strip()[:2000]
    )
    await message.reply(renderer.t("group.info_requested", settings.bot.locale, code=case.code))


@router.message(Command("traloi"))
async def answer_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    cases: CaseService,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    assert message.from_user is not None
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) < 2:
        await message.reply(renderer.t("group.traloi_usage", settings.bot.locale))
        return
    case = await cases.by_code(session, normalize_code(parts[0]))
    if case is None:
        raise UserFacingError("case.not_found")
    await cases.ensure_can_act(
        session, case, chat_id=message.chat.id, user_id=message.from_user.id, admin_ids=admin_ids
    )
    await cases.answer(
        session, case, official(message.from_user), parts[1].strip(), _attachments(message)
    )


@router.message(F.reply_to_message)
async def reply_to_card(
    message: Message, session: AsyncSession, cases: CaseService, admin_ids: frozenset[int]
) -> None:
    """A reply to the case card (or any bot message linked to the case) answers the citizen."""
    assert message.reply_to_message is not None and message.from_user is not None
    case = await cases.by_message(session, message.chat.id, message.reply_to_message.message_id)
    if case is None:
        return  # a reply to something unrelated: officials talk among themselves
    text = (message.text or message.caption or "").strip()
    attachments = _attachments(message)
    if not text and not attachments:
        return
    await cases.ensure_can_act(
        session, case, chat_id=message.chat.id, user_id=message.from_user.id, admin_ids=admin_ids
    )
    if message.media_group_id and attachments and case.status == Status.ANSWERED:
        await cases.add_answer_files(session, case, official(message.from_user), attachments)
        return
    await cases.answer(session, case, official(message.from_user), text[:3500], attachments)
