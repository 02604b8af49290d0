"""Officials work cases in their agency's group.

Groups run the bot in privacy mode (Telegram's default): the bot sees commands, replies to
its own messages and mentions only. So every question the bot asks an official is sent with
ForceReply, and answers to citizens are replies to the case card — mapped to the case through
the stored message ids, never through text patterns (Bot API: privacy mode, reply_to_message).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, ForceReply, Message, ReplyParameters, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import Actor, CaseService
from bot.domain.codes import normalize_code
from bot.domain.errors import UserFacingError
from bot.domain.statuses import Status
from bot.settings import Settings
from bot.telegram.callbacks import CaseCB, RejectCB, TransferCB
from bot.telegram.keyboards import REJECT_REASONS, Keyboards
from bot.telegram.linking import case_of_reply
from bot.telegram.middlewares import Provide
from bot.telegram.rendering import Renderer
from handlers.states import Official
from storage.models import Case
from storage.repositories import AgencyRepo

_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*[,;:\-–]?\s*(.*)$", re.S)


def official(user: User) -> Actor:
    return Actor("official", user.id, user.full_name)


@dataclass
class Desk:
    """What every group handler needs: the update's session, the case service, the group's
    language, and the one permission check."""

    session: AsyncSession
    cases: CaseService
    state: FSMContext
    renderer: Renderer
    keyboards: Keyboards
    settings: Settings
    admin_ids: frozenset[int]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Desk:
        """Built for each update from the dispatcher's data (see `Provide`)."""
        return cls(
            data["session"],
            data["cases"],
            data["state"],
            data["renderer"],
            data["keyboards"],
            data["settings"],
            data["admin_ids"],
        )

    @property
    def loc(self) -> str:
        return self.settings.bot.locale

    def t(self, key: str, **params: Any) -> str:
        return self.renderer.t(key, self.loc, **params)

    async def case_for(self, case: Case | int | None, chat_id: int, user_id: int) -> Case:
        """The case, if this chat and user may act on it (else a clear refusal)."""
        if isinstance(case, int):
            case = await self.cases.by_id(self.session, case)
        if case is None:
            raise UserFacingError("case.not_found")
        # Callback data can be forged by a modified client: permissions are checked here, on
        # the server, against the case's *current* agency.
        await self.cases.ensure_can_act(
            self.session, case, chat_id=chat_id, user_id=user_id, admin_ids=self.admin_ids
        )
        return case

    async def ask(self, callback: CallbackQuery, target: State, text: str, **data: Any) -> None:
        """A question to the official, answered by replying (works in privacy mode)."""
        await callback.answer()
        await self.state.set_state(target)
        await self.state.update_data(**data)
        if isinstance(callback.message, Message):
            await callback.message.answer(
                text,
                reply_markup=ForceReply(selective=True),
                reply_parameters=ReplyParameters(
                    message_id=callback.message.message_id, allow_sending_without_reply=True
                ),
            )

    async def case_from_state(self, message: Message) -> tuple[Case, dict[str, Any]]:
        """The case the official's pending question is about; the question is then done."""
        data = await self.state.get_data()
        await self.state.clear()
        assert message.from_user is not None
        case = await self.case_for(
            int(data.get("case_id", 0)), message.chat.id, message.from_user.id
        )
        return case, data


def _attachments(message: Message) -> list[dict[str, Any]]:
    if message.photo:
        return [{"kind": "photo", "file_id": message.photo[-1].file_id}]
    if message.document:
        doc = message.document
        return [{"kind": "document", "file_id": doc.file_id, "file_name": doc.file_name}]
    return []


async def card_button(callback: CallbackQuery, callback_data: CaseCB, desk: Desk) -> None:
    assert callback.message is not None
    case = await desk.case_for(
        callback_data.case_id, callback.message.chat.id, callback.from_user.id
    )
    action, loc = callback_data.action, desk.loc
    if action == "take":
        await desk.cases.take(desk.session, case, official(callback.from_user))
        await callback.answer(desk.renderer.plain("group.taken_toast", loc, code=case.code))
    elif action == "extend":
        if case.extensions >= desk.settings.cases.max_extensions:
            raise UserFacingError("case.extension_used", code=case.code)
        await desk.ask(
            callback,
            Official.extend_date,
            desk.t("group.ask_extension", code=case.code),
            case_id=case.id,
        )
    elif action == "info":
        await desk.ask(
            callback,
            Official.info_question,
            desk.t("group.ask_info", code=case.code),
            case_id=case.id,
        )
    elif action in ("transfer", "reject") and isinstance(callback.message, Message):
        await callback.answer()
        if action == "transfer":
            agencies = await AgencyRepo(desk.session).all_records()
            choices = [(a.code, a.name) for a in agencies if a.code != case.agency]
            text = desk.t("group.pick_agency", code=case.code)
            markup = desk.keyboards.transfer_targets(loc, case.id, choices)
        else:
            text = desk.t("group.pick_reason", code=case.code)
            markup = desk.keyboards.reject_reasons(loc, case.id)
        await callback.message.answer(text, reply_markup=markup)
    else:
        await callback.answer(desk.renderer.plain("common.stale_button", loc), show_alert=True)


async def transfer_target(callback: CallbackQuery, callback_data: TransferCB, desk: Desk) -> None:
    assert callback.message is not None
    case = await desk.case_for(
        callback_data.case_id, callback.message.chat.id, callback.from_user.id
    )
    target = await AgencyRepo(desk.session).get(callback_data.agency)
    if target is None or target.code == case.agency:
        raise UserFacingError("case.unknown_agency", agency=callback_data.agency)
    text = desk.t("group.ask_transfer_reason", code=case.code, agency=target.name)
    await desk.ask(callback, Official.transfer_reason, text, case_id=case.id, agency=target.code)


async def reject_reason(callback: CallbackQuery, callback_data: RejectCB, desk: Desk) -> None:
    assert callback.message is not None
    case = await desk.case_for(
        callback_data.case_id, callback.message.chat.id, callback.from_user.id
    )
    await desk.cases.reject(desk.session, case, callback_data.reason, official(callback.from_user))
    await callback.answer(desk.renderer.plain("group.rejected_toast", desk.loc, code=case.code))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


async def transfer_reason(message: Message, desk: Desk) -> None:
    assert message.from_user is not None
    case, data = await desk.case_from_state(message)
    reason = (message.text or "").strip()[:500]
    await desk.cases.transfer(
        desk.session, case, data["agency"], reason, official(message.from_user)
    )
    await message.reply(desk.t("group.transferred", code=case.code))


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


async def extension_given(message: Message, desk: Desk) -> None:
    assert message.from_user is not None
    when, reason = parse_extension(message.text or "", desk.settings.bot.tz)
    case, _ = await desk.case_from_state(message)
    await desk.cases.extend(desk.session, case, when, reason, official(message.from_user))
    await message.reply(desk.t("group.extended", code=case.code, due=case.due_at))


async def info_question(message: Message, desk: Desk) -> None:
    assert message.from_user is not None
    case, _ = await desk.case_from_state(message)
    question = (message.text or "").strip()[:2000]
    await desk.cases.request_info(desk.session, case, official(message.from_user), question)
    await message.reply(desk.t("group.info_requested", code=case.code))


async def answer_command(message: Message, command: CommandObject, desk: Desk) -> None:
    assert message.from_user is not None
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) < 2:
        await message.reply(desk.t("group.traloi_usage"))
        return
    found = await desk.cases.by_code(desk.session, normalize_code(parts[0]))
    case = await desk.case_for(found, message.chat.id, message.from_user.id)
    await desk.cases.answer(
        desk.session, case, official(message.from_user), parts[1].strip(), _attachments(message)
    )


async def reply_to_card(message: Message, desk: Desk) -> None:
    """A reply to the case card (or any bot message linked to the case) answers the citizen."""
    assert message.reply_to_message is not None and message.from_user is not None
    # Any copy of the card counts, also one whose delivery was never recorded.
    linked = await case_of_reply(
        desk.session, desk.cases, message, message.bot.id if message.bot else None
    )
    if linked is None:
        return  # a reply to something unrelated: officials talk among themselves
    text = (message.text or message.caption or "").strip()
    attachments = _attachments(message)
    if not text and not attachments:
        return
    case = await desk.case_for(linked, message.chat.id, message.from_user.id)
    actor = official(message.from_user)
    if message.media_group_id and attachments and case.status == Status.ANSWERED:
        await desk.cases.add_answer_files(desk.session, case, actor, attachments)
        return
    await desk.cases.answer(desk.session, case, actor, text[:3500], attachments)


async def stale_button(callback: CallbackQuery, desk: Desk) -> None:
    # Buttons from older versions of a card, or forged data: they change nothing.
    await callback.answer(desk.renderer.plain("common.stale_button", desk.loc), show_alert=True)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__)
    router.message.middleware(Provide("desk", Desk.from_data))
    router.callback_query.middleware(Provide("desk", Desk.from_data))
    router.callback_query.register(card_button, CaseCB.filter())
    router.callback_query.register(transfer_target, TransferCB.filter())
    router.callback_query.register(reject_reason, RejectCB.filter(F.reason.in_(REJECT_REASONS)))
    router.message.register(transfer_reason, Official.transfer_reason, F.text)
    router.message.register(extension_given, Official.extend_date, F.text)
    router.message.register(info_question, Official.info_question, F.text)
    router.message.register(answer_command, Command("traloi"))
    router.message.register(reply_to_card, F.reply_to_message)
    router.callback_query.register(stale_button)
    return router
