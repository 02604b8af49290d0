"""Which case a reply in a group is about, whichever copy of the card it answers.

A card can reach a group twice (Telegram carried out a request whose answer timed out, or a
worker died between sending and recording): only the copy whose id came back is linked when it
is sent. A reply to the other copy still names its case: the copy is our own message and its
buttons carry the case id (callback data). Such a copy is linked on first use, so every copy
of a card works.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import CaseService
from bot.telegram.callbacks import CaseCB
from storage.models import Case
from storage.repositories import AgencyRepo, MessageLinkRepo


def _case_id_in(markup: InlineKeyboardMarkup | None) -> int | None:
    for row in markup.inline_keyboard if markup else []:
        for button in row:
            if button.callback_data and button.callback_data.startswith(f"{CaseCB.__prefix__}:"):
                try:
                    return CaseCB.unpack(button.callback_data).case_id
                except (TypeError, ValueError):
                    continue
    return None


async def case_of_reply(
    session: AsyncSession, cases: CaseService, message: Message, bot_id: int | None
) -> Case | None:
    """The case the replied-to message belongs to, linking an unrecorded card copy."""
    target = message.reply_to_message
    if target is None:
        return None
    case = await cases.by_message(session, message.chat.id, target.message_id)
    if case is not None:
        return case
    if target.from_user is None or target.from_user.id != bot_id:
        return None
    case_id = _case_id_in(target.reply_markup)
    case = await cases.by_id(session, case_id) if case_id is not None else None
    if case is None:
        return None
    agency = await AgencyRepo(session).get(case.agency)
    if agency is None or agency.chat_id != message.chat.id:
        return None  # a copy in a group the case has left: nothing to act on here
    await MessageLinkRepo(session).add(message.chat.id, target.message_id, case.id, "card")
    return case
